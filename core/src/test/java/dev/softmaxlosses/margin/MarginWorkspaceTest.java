package dev.softmaxlosses.margin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.Random2;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The scratch a call keeps for the next (in its result, or lent by a shard from forward to backward):
 * a call that reuses it gives the bits of a fresh one, whatever ran before, whatever the shape, on
 * however many threads. The products are the fixed-order ones, whose bits do not depend on the run.
 */
class MarginWorkspaceTest {

    private static final MatrixProducts FIXED = MatrixProducts.fixedOrder();
    private static final int C = 23;
    private static final int D = 7;

    /** A loss of each kind of logit: normalised, carrying the feature's norm, carrying both norms; with every option. */
    @ParameterizedTest
    @ValueSource(strings = {"arcface:label_smoothing=0.1", "l2_softmax", "sphereface:gradient=sphereface_normalized",
            "cosface:reduction=sum"})
    void aReusedResultGivesTheBitsOfAFreshOne(String spec) {
        MarginLoss loss = (MarginLoss) LossRegistry.create(spec);
        Random random = new Random(spec.hashCode());
        FeatureBatch first = batch(random, 9, D, true);
        FeatureBatch second = batch(random, 9, D, false);
        // One block of all classes (MarginLoss.compute's walk), blocks whose products are kept, and computed again.
        List<StreamingMarginHead> heads = List.of(new StreamingMarginHead(loss, C, FIXED),
                new StreamingMarginHead(loss, 5, FIXED), new StreamingMarginHead(loss, 5, FIXED, 0));
        for (StreamingMarginHead head : heads) {
            for (Supplier<LossResult> kind : List.<Supplier<LossResult>>of(() -> LossResult.forFeatures(9, C, D),
                    () -> LossResult.forStreaming(9, C, D))) {
                LossResult reused = kind.get();
                for (FeatureBatch batch : List.of(first, second, first, first)) {
                    head.compute(batch, reused);
                    LossResult fresh = kind.get();
                    head.compute(batch, fresh);
                    assertSameBits(fresh, reused, spec);
                }
            }
        }
        ShardedMarginHead sharded = new ShardedMarginHead(loss, 3, 4, FIXED);
        LossResult reused = LossResult.forFeatures(9, C, D);
        for (FeatureBatch batch : List.of(first, second, first)) {
            sharded.compute(batch, reused);
            LossResult fresh = LossResult.forFeatures(9, C, D);
            sharded.compute(batch, fresh);
            assertSameBits(fresh, reused, spec + " sharded");
        }
    }

    @Test
    void theResultKeepsOneWorkspaceForEveryCall() {
        MarginLoss loss = (MarginLoss) LossRegistry.create("normface");
        FeatureBatch batch = batch(new Random(2), 4, D, false);
        LossResult out = LossResult.forFeatures(4, C, D);
        loss.compute(batch, out);
        MarginWorkspace kept = out.scratch(MarginWorkspace.class, () -> fail("the first call left its workspace"));
        new StreamingMarginHead(loss, 5, FIXED).compute(batch, out);
        loss.compute(batch, out);
        assertSame(kept, out.scratch(MarginWorkspace.class, MarginWorkspace::new));
        // Another kind of scratch takes its place.
        StringBuilder other = out.scratch(StringBuilder.class, StringBuilder::new);
        assertSame(other, out.scratch(StringBuilder.class, StringBuilder::new));
        assertNotSame(kept, out.scratch(MarginWorkspace.class, MarginWorkspace::new));
    }

    @Test
    void oneResultServesHeadsOfEveryBlockSize() {
        MarginLoss loss = (MarginLoss) LossRegistry.create("combined_margin");
        FeatureBatch batch = batch(new Random(3), 6, D, true);
        LossResult reused = LossResult.forStreaming(6, C, D);
        for (int block : new int[] {2, 9, C, 1, 30, 4}) {
            StreamingMarginHead head = new StreamingMarginHead(loss, block, FIXED);
            head.compute(batch, reused);
            assertSameBits(head.compute(batch), reused, "block " + block);
        }
    }

    @Test
    void aShardsScratchGrowsWithTheBatch() {
        MarginLoss loss = (MarginLoss) LossRegistry.create("arcface:label_smoothing=0.2");
        ClassShard shard = new ClassShard(loss, 5, 17, C, 4, FIXED);
        Random random = new Random(8);
        // More features, then fewer, then wider ones: the scratch grows and is never shrunk below need.
        int[][] shapes = {{3, D}, {11, D}, {2, D}, {11, 2 * D}, {5, D}};
        for (int[] shape : shapes) {
            FeatureBatch batch = shardBatch(batch(random, shape[0], shape[1], true), 5, 17);
            float[][] reused = step(shard, batch);
            float[][] fresh = step(new ClassShard(loss, 5, 17, C, 4, FIXED), batch);
            for (int i = 0; i < fresh.length; i++) {
                assertArrayEquals(fresh[i], reused[i], shape[0] + "x" + shape[1] + " output " + i);
            }
        }
    }

    @Test
    void aShardsForwardIsSpentByItsBackward() {
        MarginLoss loss = (MarginLoss) LossRegistry.create("cosface");
        ClassShard shard = new ClassShard(loss, 0, C, C, 6, FIXED);
        FeatureBatch batch = batch(new Random(4), 4, D, false);
        ClassShard.Forward early = shard.forward(batch);
        // A second forward before the first's backward gets scratch of its own.
        ClassShard.Forward late = shard.forward(batch(new Random(5), 4, D, false));
        float[] lateGrad = new float[4 * D];
        late.backward(late.state(), lateGrad, new float[C * D], null);
        float[] gradFeatures = new float[4 * D];
        early.backward(early.state(), gradFeatures, new float[C * D], null);
        assertArrayEquals(step(new ClassShard(loss, 0, C, C, 6, FIXED), batch)[0], gradFeatures);
        IllegalStateException spent = assertThrows(IllegalStateException.class, early::state);
        assertTrue(spent.getMessage().contains("this forward's backward has run"), spent.getMessage());
        assertThrows(IllegalStateException.class, () -> early.backward(new RowState(4), gradFeatures, new float[C * D], null));
    }

    @Test
    void headsAndShardsAreSafeToShareBetweenThreads() throws Exception {
        MarginLoss loss = (MarginLoss) LossRegistry.create("arcface");
        StreamingMarginHead streaming = new StreamingMarginHead(loss, 4, FIXED);
        ShardedMarginHead sharded = new ShardedMarginHead(loss, 2, 5, FIXED);
        ClassShard shard = new ClassShard(loss, 0, C, C, 6, FIXED);
        int threads = 2;
        int rounds = 40;
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                FeatureBatch batch = batch(new Random(100 + t), 8 + t, D, true);
                LossResult expectedStreaming = streaming.compute(batch);
                LossResult expectedSharded = LossResult.forFeatures(8 + t, C, D);
                new ShardedMarginHead(loss, 2, 5, FIXED).compute(batch, expectedSharded);
                float[][] expectedShard = step(new ClassShard(loss, 0, C, C, 6, FIXED), batch);
                done.add(pool.submit(() -> {
                    LossResult mine = LossResult.forStreaming(batch.features().rows(), C, D);
                    LossResult mineSharded = LossResult.forFeatures(batch.features().rows(), C, D);
                    start.await();
                    for (int round = 0; round < rounds; round++) {
                        streaming.compute(batch, mine);
                        assertSameBits(expectedStreaming, mine, "streaming, round " + round);
                        sharded.compute(batch, mineSharded);
                        assertSameBits(expectedSharded, mineSharded, "sharded, round " + round);
                        float[][] outputs = step(shard, batch);
                        for (int i = 0; i < outputs.length; i++) {
                            assertArrayEquals(expectedShard[i], outputs[i], "shard output " + i + ", round " + round);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** One training step of a single shard: the feature and weight gradients, the losses, the scale's gradient. */
    private static float[][] step(ClassShard shard, FeatureBatch batch) {
        int n = batch.features().rows();
        int d = batch.weights().cols();
        ClassShard.Forward forward = shard.forward(batch);
        RowState merged = new RowState(n).merge(forward.state());
        float[] losses = new float[n];
        double loss = forward.loss(merged, losses, null);
        float[] gradFeatures = new float[n * d];
        float[] gradWeights = new float[(shard.hi() - shard.lo()) * d];
        double gradScale = forward.backward(merged, gradFeatures, gradWeights, null);
        return new float[][] {gradFeatures, gradWeights, losses, {(float) loss, (float) gradScale}};
    }

    private static void assertSameBits(LossResult expected, LossResult actual, String what) {
        assertEquals(Double.doubleToRawLongBits(expected.loss()), Double.doubleToRawLongBits(actual.loss()), what + " loss");
        assertEquals(Double.doubleToRawLongBits(expected.gradScale()), Double.doubleToRawLongBits(actual.gradScale()),
                what + " grad_scale");
        assertArrayEquals(expected.losses(), actual.losses(), what + " losses");
        assertArrayEquals(expected.logSumExp(), actual.logSumExp(), what + " lse");
        assertArrayEquals(expected.gradFeatures(), actual.gradFeatures(), what + " grad_features");
        assertArrayEquals(expected.gradWeights(), actual.gradWeights(), what + " grad_weights");
        assertArrayEquals(expected.logits(), actual.logits(), what + " logits");
        assertArrayEquals(expected.probabilities(), actual.probabilities(), what + " probabilities");
        assertArrayEquals(expected.gradLogits(), actual.gradLogits(), what + " grad_logits");
    }

    /** {@code n} features and {@code C} class weights of dimension {@code d}; one row ignored; class weights when asked. */
    private static FeatureBatch batch(Random random, int n, int d, boolean classWeights) {
        int[] labels = Random2.labels(random, n, C);
        labels[random.nextInt(n)] = -100;
        float[] weights = null;
        if (classWeights) {
            weights = new float[C];
            for (int j = 0; j < C; j++) {
                weights[j] = 0.2f + random.nextFloat() * 2;
            }
        }
        return new FeatureBatch(new FloatMatrix(Random2.uniform(random, n, d, 2), n, d),
                new FloatMatrix(Random2.uniform(random, C, d, 2), C, d), labels, weights);
    }

    /**
     * The batch a shard of classes {@code [lo, hi)} gets, its own weights, with the labels moved into
     * its range (alone, it holds every target) but the ignored one.
     */
    private static FeatureBatch shardBatch(FeatureBatch batch, int lo, int hi) {
        int d = batch.weights().cols();
        float[] own = Arrays.copyOfRange(batch.weights().data(), lo * d, hi * d);
        int[] labels = batch.labels().clone();
        for (int r = 0; r < labels.length; r++) {
            labels[r] = labels[r] < 0 ? labels[r] : lo + labels[r] % (hi - lo);
        }
        return new FeatureBatch(batch.features(), new FloatMatrix(own, hi - lo, d), labels, batch.classWeights());
    }
}
