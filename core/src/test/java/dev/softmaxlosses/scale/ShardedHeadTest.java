package dev.softmaxlosses.scale;

import static dev.softmaxlosses.testing.Assertions2.assertClose;
import static dev.softmaxlosses.testing.Assertions2.assertRejected;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossState;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.MarginBatches;
import dev.softmaxlosses.testing.Random2;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The sharded head against an unsharded reference (MarginLoss.compute on the step's classes, then SGD
 * with momentum and weight decay) for every margin loss, shard counts 1 to 7, with and without
 * sampling; the same bits for any thread count; Partial FC v1's untouched rows; the checks.
 */
class ShardedHeadTest {

    static final int N = 9;
    static final int C = 13;
    static final int D = 6;
    static final double LR = 0.1;
    static final double MU = 0.9;
    static final double WD = 5e-4;

    static Stream<String> specs() {
        return MarginBatches.specs();
    }

    /**
     * The unsharded reference: the weights and momentum of all classes ({@code k} rows each), one step
     * at a time, the loss taking the state each step leaves.
     */
    static final class Reference {
        MarginLoss loss;
        final float[] w;
        final float[] v;
        final double rate;
        final long seed;
        long step;

        Reference(MarginLoss loss, float[] weights, double rate, long seed) {
            this.loss = loss;
            this.w = weights.clone();
            this.v = new float[weights.length];
            this.rate = rate;
            this.seed = seed;
        }

        /** The step's classes: the positives and the hashed negatives, in class order. */
        int[] sample(int[] labels) {
            boolean[] keep = new boolean[C];
            for (int c = 0; c < C; c++) {
                keep[c] = rate >= 1 || ShardWorker.sampledNegative(seed, step, c, rate);
            }
            for (int y : labels) {
                if (y >= 0) {
                    keep[y] = true;
                }
            }
            return java.util.stream.IntStream.range(0, C).filter(c -> keep[c]).toArray();
        }

        /** A step's result and each row's target probability among the step's classes. */
        record Expected(LossResult result, double[] targetProbabilities) {}

        Expected step(float[] x, int[] labels) {
            int[] classes = sample(labels);
            int row = loss.subCentres() * D;
            float[] sw = new float[classes.length * row];
            for (int k = 0; k < classes.length; k++) {
                System.arraycopy(w, classes[k] * row, sw, k * row, row);
            }
            int[] remapped = new int[labels.length];
            for (int r = 0; r < labels.length; r++) {
                remapped[r] = labels[r] < 0 ? labels[r] : Arrays.binarySearch(classes, labels[r]);
            }
            LossResult out = loss.compute(FeatureBatch.of(new FloatMatrix(x, labels.length, D),
                    new FloatMatrix(sw, classes.length * loss.subCentres(), D), remapped));
            loss = loss.withState(out.lossState());
            float lr = (float) LR;
            float mu = (float) MU;
            float wd = (float) WD;
            for (int k = 0; k < classes.length; k++) {
                for (int i = 0; i < row; i++) {
                    int at = classes[k] * row + i;
                    float g = out.gradWeights()[k * row + i] + wd * w[at];
                    float nv = mu * v[at] + g;
                    v[at] = nv;
                    w[at] -= lr * nv;
                }
            }
            step++;
            double[] target = new double[labels.length];
            for (int r = 0; r < labels.length; r++) {
                target[r] = remapped[r] < 0 ? Double.NaN : out.probabilities()[r * classes.length + remapped[r]];
            }
            return new Expected(out, target);
        }
    }

    static ShardedHead head(MarginLoss loss, float[] weights, int shards, int threads, double rate, int block,
                            MatrixProducts products) {
        return ShardedHead.builder(loss, C, D).shards(shards).threads(threads).block(block).products(products)
                .sgd(LR, MU, WD).sampling(rate, 42).weights(new FloatMatrix(weights, weights.length / D, D)).build();
    }

    @ParameterizedTest
    @MethodSource("specs")
    void equalsTheUnshardedLossForEveryShardCount(String spec) {
        MarginLoss loss = (MarginLoss) LossRegistry.create(spec);
        Random random = new Random(spec.hashCode());
        FeatureBatch first = MarginBatches.batch(random, N, C, D, false, loss.subCentres());
        // A smaller second batch: the shards' buffers, sized by the first, hold more rows than the step.
        float[] x2 = Random2.uniform(random, N - 3, D, 2);
        int[] y2 = Random2.labels(random, N - 3, C);
        for (double rate : new double[] {1, 0.4}) {
            for (int shards = 1; shards <= 7; shards++) {
                String what = spec + " rate " + rate + " shards " + shards;
                Reference ref = new Reference(loss, first.weights().data(), rate, 42);
                // Blocks of 2 on odd shard counts: a shard walked in several blocks.
                try (ShardedHead head = head(loss, first.weights().data(), shards, 1, rate, shards % 2 == 1 ? 2 : 4096,
                        MatrixProducts.standard())) {
                    assertSameStep(ref.step(first.features().data(), first.labels()),
                            head.step(first.features(), first.labels()), what + " step 1");
                    assertSameStep(ref.step(x2, y2), head.step(new FloatMatrix(x2, N - 3, D), y2), what + " step 2");
                    assertAllClose(ref.w, head.weights(), what + " weights");
                    assertAllClose(ref.v, head.momentumBuffer(), what + " momentum");
                    assertEquals(2, head.steps());
                    LossState expected = ref.loss.state();
                    LossState actual = head.loss().state();
                    assertEquals(ref.loss.withState(actual).spec(), head.loss().spec(), what + " the loss");
                    for (String name : expected.names()) {
                        assertClose(expected.get(name), actual.get(name), 1e-6, 1e-9, what + " state " + name);
                    }
                }
            }
        }
    }

    static void assertSameStep(Reference.Expected reference, ShardedHead.Step actual, String what) {
        LossResult expected = reference.result();
        assertClose(expected.loss(), actual.loss(), 2e-5, 1e-6, what + " loss");
        for (int r = 0; r < reference.targetProbabilities().length; r++) {
            if (Double.isNaN(reference.targetProbabilities()[r])) {
                assertTrue(Double.isNaN(actual.targetProbabilities()[r]), what + " ignored row " + r);
                continue;
            }
            assertClose(reference.targetProbabilities()[r], actual.targetProbabilities()[r], 1e-5, 1e-7,
                    what + " target probability of row " + r);
        }
        double scale = 1e-30;
        for (float g : expected.gradFeatures()) {
            scale = Math.max(scale, Math.abs(g));
        }
        for (int i = 0; i < expected.gradFeatures().length; i++) {
            assertClose(expected.gradFeatures()[i], actual.gradFeatures()[i], 1e-4, 1e-5 * scale,
                    what + " grad_features[" + i + "]");
        }
    }

    static void assertAllClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertClose(expected[i], actual[i], 1e-4, 1e-6, what + "[" + i + "]");
        }
    }

    @Test
    void theBitsDoNotDependOnTheThreadCount() {
        MarginLoss loss = (MarginLoss) LossRegistry.create("arcface:s=16,label_smoothing=0.1");
        int c = 29;
        int d = 8;
        int n = 16;
        Random random = new Random(3);
        float[] w = Random2.uniform(random, c, d, 1);
        float[][] xs = {Random2.uniform(random, n, d, 1), Random2.uniform(random, n, d, 1), Random2.uniform(random, n, d, 1)};
        int[][] ys = {Random2.labels(random, n, c), Random2.labels(random, n, c), Random2.labels(random, n, c)};
        for (double rate : new double[] {1, 0.4}) {
            float[][] expected = null;
            for (int threads = 1; threads <= 5; threads++) {
                try (ShardedHead head = ShardedHead.builder(loss, c, d).shards(5).threads(threads).block(3)
                        .products(MatrixProducts.fixedOrder()).sampling(rate, 7).weights(new FloatMatrix(w, c, d)).build()) {
                    float[][] got = new float[8][];
                    for (int s = 0; s < 3; s++) {
                        ShardedHead.Step step = head.step(new FloatMatrix(xs[s], n, d), ys[s]);
                        got[2 * s] = step.gradFeatures();
                        got[2 * s + 1] = new float[] {(float) step.loss(), (float) (step.loss() - (float) step.loss())};
                    }
                    got[6] = head.weights();
                    got[7] = head.momentumBuffer();
                    if (expected == null) {
                        expected = got;
                    } else {
                        for (int i = 0; i < got.length; i++) {
                            assertArrayEquals(expected[i], got[i], "rate " + rate + ", " + threads + " threads, part " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void onlyTheSampledRowsMove() {
        MarginLoss loss = (MarginLoss) LossRegistry.create("cosface");
        int c = 200;
        Random random = new Random(9);
        float[] w = Random2.uniform(random, c, D, 1);
        float[] x = Random2.uniform(random, N, D, 1);
        int[] y = Random2.labels(random, N, c);
        try (ShardedHead head = ShardedHead.builder(loss, c, D).shards(3).threads(2).sampling(0.1, 5)
                .weights(new FloatMatrix(w, c, D)).build()) {
            head.step(new FloatMatrix(x, N, D), y);
            float[] after = head.weights();
            float[] momentum = head.momentumBuffer();
            int moved = 0;
            for (int k = 0; k < c; k++) {
                boolean positive = false;
                for (int label : y) {
                    positive |= label == k;
                }
                boolean sampled = positive || ShardWorker.sampledNegative(5, 0, k, 0.1);
                float[] row = Arrays.copyOfRange(after, k * D, k * D + D);
                float[] zero = new float[D];
                if (sampled) {
                    moved++;
                    assertNotEquals(Arrays.toString(Arrays.copyOfRange(w, k * D, k * D + D)), Arrays.toString(row), "row " + k);
                    assertNotEquals(Arrays.toString(zero), Arrays.toString(Arrays.copyOfRange(momentum, k * D, k * D + D)));
                } else {
                    assertArrayEquals(Arrays.copyOfRange(w, k * D, k * D + D), row, "row " + k + " not sampled");
                    assertArrayEquals(zero, Arrays.copyOfRange(momentum, k * D, k * D + D), "momentum " + k);
                }
            }
            // About r C negatives and the positives.
            assertTrue(moved >= N / 2 && moved < 60, "moved " + moved);
        }
    }

    @Test
    void theSampleIsAboutTheRate() {
        int kept = 0;
        for (int c = 0; c < 100_000; c++) {
            kept += ShardWorker.sampledNegative(11, 3, c, 0.1) ? 1 : 0;
        }
        assertTrue(Math.abs(kept - 10_000) < 400, "kept " + kept);
    }

    @Test
    void checksItsArguments() {
        MarginLoss loss = (MarginLoss) LossRegistry.create("arcface");
        assertRejected(() -> ShardedHead.builder(loss, 0, D), "classes must be >= 1, got 0");
        assertRejected(() -> ShardedHead.builder(loss, C, 0), "dim must be >= 1, got 0");
        assertRejected(() -> ShardedHead.builder(loss, C, D).shards(0), "shards must be >= 1, got 0");
        assertRejected(() -> ShardedHead.builder(loss, C, D).threads(0), "threads must be >= 1, got 0");
        assertRejected(() -> ShardedHead.builder(loss, C, D).shards(2).threads(3).build(), "threads must be at most shards (2), got 3");
        assertRejected(() -> ShardedHead.builder(loss, C, D).block(0), "block must be >= 1, got 0");
        for (double rate : new double[] {0, -0.5, 1.5, Double.NaN}) {
            assertRejected(() -> ShardedHead.builder(loss, C, D).sampling(rate, 1), "the sample rate must be in (0, 1], got " + rate);
        }
        assertRejected(() -> ShardedHead.builder(loss, C, D).sgd(-1, 0.9, 0), "learningRate must be finite and >= 0, got -1.0");
        assertRejected(() -> ShardedHead.builder(loss, C, D).sgd(0.1, 1.5, 0), "momentum must be in [0, 1], got 1.5");
        assertRejected(() -> ShardedHead.builder(loss, C, D).sgd(0.1, 0.9, Double.NaN), "weightDecay must be finite and >= 0, got NaN");
        assertRejected(() -> ShardedHead.builder(loss, C, D).weights(new FloatMatrix(new float[C * D], D, C)),
                "weights is 6x13, expected 13x6 (classes x dim)");
        MarginLoss ignoring = (MarginLoss) LossRegistry.create("arcface:ignore_index=3");
        assertRejected(() -> ShardedHead.builder(ignoring, C, D).sampling(0.5, 1).build(),
                "sampling needs an ignore_index outside [0, 13), got 3");
        try (ShardedHead head = ShardedHead.builder(loss, C, D).shards(2).build()) {
            FloatMatrix x = new FloatMatrix(new float[N * D], N, D);
            assertRejected(() -> head.step(new FloatMatrix(new float[N * 5], N, 5), new int[N]), "features has 5 columns, expected 6");
            assertRejected(() -> head.step(new FloatMatrix(new float[0], 0, D), new int[0]), "features has no rows");
            assertRejected(() -> head.step(x, new int[N - 1]), "labels has 8 entries, expected 9");
            int[] bad = new int[N];
            bad[2] = C;
            assertRejected(() -> head.step(x, bad), "labels[2] = 13 is out of range");
            assertRejected(() -> head.step(x, new int[N], new float[3]), "gradFeatures has 3 values, expected 54");
            float[] nan = new float[N * D];
            nan[7] = Float.NaN;
            assertRejected(() -> head.step(new FloatMatrix(nan, N, D), new int[N]), "features[1][1] is NaN");
            assertEquals(0, head.steps(), "a refused step is not counted");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"arcface:s=16,m=0.3", "adaface:s=16", "curricularface:s=16,m=0.3,gradient=full"})
    void computeThenUpdateIsAStepAndADiscardedComputationLeavesNoTrace(String spec) {
        MarginLoss loss = (MarginLoss) LossRegistry.create(spec);
        Random random = new Random(5);
        float[] w = Random2.uniform(random, C, D, 1);
        float[][] xs = {Random2.uniform(random, N, D, 2), Random2.uniform(random, N, D, 2), Random2.uniform(random, N - 2, D, 2)};
        int[][] ys = {Random2.labels(random, N, C), Random2.labels(random, N, C), Random2.labels(random, N - 2, C)};
        try (ShardedHead stepped = head(loss, w, 3, 1, 0.5, 2, MatrixProducts.fixedOrder());
             ShardedHead split = head(loss, w, 3, 1, 0.5, 2, MatrixProducts.fixedOrder())) {
            for (int s = 0; s < 2; s++) {
                ShardedHead.Step expected = stepped.step(new FloatMatrix(xs[s], N, D), ys[s]);
                // A validation batch computed and dropped between the steps.
                split.compute(new FloatMatrix(xs[2], N - 2, D), ys[2]);
                assertTrue(split.hasPending());
                split.discard();
                ShardedHead.Step actual = split.compute(new FloatMatrix(xs[s], N, D), ys[s]);
                assertEquals(s, split.steps(), "a computation does not count as a step");
                split.update();
                assertEquals(expected.loss(), actual.loss(), 0, spec + " step " + s);
                assertArrayEquals(expected.gradFeatures(), actual.gradFeatures(), spec + " step " + s);
                assertArrayEquals(expected.targetProbabilities(), actual.targetProbabilities(), spec + " step " + s);
                assertArrayEquals(stepped.weights(), split.weights(), spec + " weights after step " + s);
                assertArrayEquals(stepped.momentumBuffer(), split.momentumBuffer(), spec + " momentum after step " + s);
                assertEquals(stepped.loss().spec(), split.loss().spec(), spec + " state after step " + s);
            }
            assertEquals(2, split.steps());
            IllegalStateException e = assertThrows(IllegalStateException.class, split::update);
            assertTrue(e.getMessage().contains("no computed step waits for its update"), e.getMessage());
        }
    }
}
