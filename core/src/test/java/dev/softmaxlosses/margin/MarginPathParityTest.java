package dev.softmaxlosses.margin;

import dev.softmaxlosses.spec.LossRegistry;
import static dev.softmaxlosses.testing.Assertions2.assertClose;
import static dev.softmaxlosses.testing.Assertions2.assertRejected;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.testing.MarginBatches;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every registered margin loss, under every gradient option it offers, plain and with label smoothing,
 * class weights and an ignored row: the materialised head, the streaming head with blocks of 1, 7,
 * C - 1, C and C + 5 classes, and the classes split into 1 to 7 shards with merged row states (also
 * walked in blocks) give the same results to float32 rounding.
 */
class MarginPathParityTest {

    private static final int N = 9;
    private static final int C = 13;
    private static final int D = 6;

    static Stream<String> specs() {
        return MarginBatches.specs();
    }


    @Test
    void everyMarginLossAndEveryGradientOptionIsCovered() {
        List<String> specs = specs().toList();
        assertTrue(specs.contains("sphereface:gradient=sphereface_normalized"), specs.toString());
        assertTrue(specs.contains("arcface:gradient=straight_through"), specs.toString());
        assertTrue(specs.contains("combined_margin:gradient=straight_through"), specs.toString());
        assertTrue(specs.stream().filter(s -> s.endsWith("gradient=exact")).count() >= 8, specs.toString());
    }

    @ParameterizedTest
    @MethodSource("specs")
    void everyPathGivesTheSameResults(String spec) {
        Random random = new Random(spec.hashCode());
        MarginLoss loss = (MarginLoss) LossRegistry.create(spec);
        int k = loss.subCentres();
        FeatureBatch batch = MarginBatches.batch(random, N, C, D, spec.contains("label_smoothing"), k);
        LossResult whole = loss.compute(batch);
        for (int block : new int[] {1, 7, C - 1, C, C + 5}) {
            MarginBatches.assertSameResults(whole, new StreamingMarginHead(loss, block).compute(batch), spec + " streaming block " + block);
        }
        for (int shards = 1; shards <= 7; shards++) {
            LossResult split = LossResult.forFeatures(N, C, D, C * k);
            new ShardedMarginHead(loss, shards).compute(batch, split);
            MarginBatches.assertSameResults(whole, split, spec + " " + shards + " shards");
            assertPerClassSame(whole, split, spec + " " + shards + " shards");
            LossResult blocks = LossResult.forStreaming(N, C, D, C * k);
            new ShardedMarginHead(loss, shards, 2, MatrixProducts.netlib()).compute(batch, blocks);
            MarginBatches.assertSameResults(whole, blocks, spec + " " + shards + " shards in blocks of 2");
        }
    }

    @Test
    void shardOfIsTheInverseOfFirstClass() {
        for (int classes = 1; classes <= 20; classes++) {
            for (int shards = 1; shards <= 25; shards++) {
                for (int i = 0; i < shards; i++) {
                    for (int c = ShardedMarginHead.firstClass(i, shards, classes); c < ShardedMarginHead.firstClass(i + 1, shards, classes); c++) {
                        assertTrue(ShardedMarginHead.shardOf(c, shards, classes) == i, c + " of " + classes + " in " + shards);
                    }
                }
            }
        }
    }

    @Test
    void sphereFaceNormalisedGradientAppliesOnEveryPath() {
        Random random = new Random(5);
        FeatureBatch batch = MarginBatches.batch(random, N, C, D, false);
        MarginLoss exact = (MarginLoss) LossRegistry.create("sphereface:m=4");
        MarginLoss normalised = (MarginLoss) LossRegistry.create("sphereface:m=4,gradient=sphereface_normalized");
        float[] exactStreamed = new StreamingMarginHead(exact, 3).compute(batch).gradFeatures();
        float[] normalisedStreamed = new StreamingMarginHead(normalised, 3).compute(batch).gradFeatures();
        assertFalse(Arrays.equals(exactStreamed, normalisedStreamed), "the option changes the streaming head's gradient");
        MarginBatches.assertSameResults(normalised.compute(batch), new StreamingMarginHead(normalised, 3).compute(batch), "sphereface_normalized");
    }

    @Test
    void shardsExchangeTheirStatesAsBytes() throws IOException {
        Random random = new Random(11);
        MarginLoss loss = (MarginLoss) LossRegistry.create("arcface:s=16,m=0.3,label_smoothing=0.1");
        FeatureBatch batch = MarginBatches.batch(random, N, C, D, true);
        LossResult whole = loss.compute(batch);
        int[] bounds = {0, 4, 4, 13};
        List<ClassShard.Forward> forwards = new ArrayList<>();
        RowState merged = new RowState(N);
        for (int i = 0; i + 1 < bounds.length; i++) {
            int lo = bounds[i];
            int hi = bounds[i + 1];
            float[] own = Arrays.copyOfRange(batch.weights().data(), lo * D, hi * D);
            ClassShard.Forward f = new ClassShard(loss, lo, hi, C)
                    .forward(new FeatureBatch(batch.features(), new FloatMatrix(own, hi - lo, D), batch.labels(),
                            batch.classWeights()));
            forwards.add(f);
            merged.merge(roundTrip(f.state()));
        }
        float[] losses = new float[N];
        assertClose(whole.loss(), forwards.get(2).loss(merged, losses, null), 2e-5, 1e-6, "loss from any shard");
        float[] gradFeatures = new float[N * D];
        float[] share = new float[N * D];
        double gradScale = 0;
        for (int i = 0; i < forwards.size(); i++) {
            int lo = bounds[i];
            float[] gradWeights = new float[(bounds[i + 1] - lo) * D];
            gradScale += forwards.get(i).backward(merged, share, gradWeights, null);
            for (int k = 0; k < share.length; k++) {
                gradFeatures[k] += share[k];
            }
            for (int k = 0; k < gradWeights.length; k++) {
                assertClose(whole.gradWeights()[lo * D + k], gradWeights[k], 1e-4, 1e-6, "grad_weights[" + (lo * D + k) + "]");
            }
        }
        for (int k = 0; k < gradFeatures.length; k++) {
            assertClose(whole.gradFeatures()[k], gradFeatures[k], 1e-4, 1e-6, "grad_features[" + k + "]");
        }
        assertClose(whole.gradScale(), gradScale, 1e-4, 1e-6, "grad_scale");
    }

    @Test
    void rejectsShardsThatDoNotFit() {
        MarginLoss loss = (MarginLoss) LossRegistry.create("normface");
        assertRejected(() -> new ClassShard(loss, 3, 2, 5), "a class shard needs 0 <= lo <= hi <= classes");
        assertRejected(() -> new ClassShard(loss, 0, 6, 5), "hi = 6, classes = 5");
        FeatureBatch wrong = FeatureBatch.of(new float[][] {{1, 0}}, new float[][] {{1, 0}}, new int[] {0});
        assertRejected(() -> new ClassShard(loss, 0, 2, 5).forward(wrong),
                "weights has 1 rows, expected 2 (the classes 0 to 1 of this shard)");
        assertRejected(() -> new ClassShard(loss, 1, 2, 5).forward(
                FeatureBatch.of(new float[][] {{1, 0}}, new float[][] {{1, 0}}, new int[] {5})), "labels[0] = 5 is out of range");
        assertRejected(() -> new RowState(2).merge(new RowState(3)), "cannot merge the states of 3 and 2 rows");
        assertRejected(() -> new ShardedMarginHead(loss, 0), "shards must be >= 1, got 0");
    }

    private static RowState roundTrip(RowState state) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        state.writeTo(new DataOutputStream(bytes));
        assertTrue(bytes.size() == 4 + 32 * state.rows(), "4 + 32 N bytes");
        return RowState.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
    }



    private static void assertPerClassSame(LossResult expected, LossResult actual, String what) {
        for (int i = 0; i < N * C; i++) {
            assertClose(expected.logits()[i], actual.logits()[i], 2e-6, 1e-6, what + " logits[" + i + "]");
            assertClose(expected.probabilities()[i], actual.probabilities()[i], 2e-5, 1e-7, what + " probabilities[" + i + "]");
            assertClose(expected.gradLogits()[i], actual.gradLogits()[i], 1e-4, 1e-7, what + " grad_logits[" + i + "]");
        }
    }


}
