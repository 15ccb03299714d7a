package dev.softmaxlosses.logits;

import dev.softmaxlosses.testing.LogitCases;

import static dev.softmaxlosses.testing.Assertions2.assertAllClose;
import static dev.softmaxlosses.testing.Assertions2.assertAllFinite;
import static dev.softmaxlosses.testing.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.logits.SoftmaxCrossEntropyLoss.ClassBalance;
import dev.softmaxlosses.testing.Random2;
import dev.softmaxlosses.testing.Expected;
import dev.softmaxlosses.testing.ReferenceCrossEntropy;

import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Worked examples, the reference, identities and extremes of softmax cross-entropy. */
class SoftmaxCrossEntropyLossTest {

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    private static LossResult compute(SoftmaxCrossEntropyLoss loss, float[] z, int rows, int cols, int[] labels) {
        return LogitCases.compute(loss, LossInput.of(new FloatMatrix(z, rows, cols), labels));
    }

    @Test
    void plainGradientIsProbabilitiesMinusOneHot() {
        float[] z = {1.5f, 1.2f, 1.0f};
        LossResult r = compute(SoftmaxCrossEntropyLoss.create(), z, 1, 3, new int[] {0});
        double[] p = {0.42601251, 0.31559783, 0.25838965};
        assertClose(-Math.log(p[0]), r.loss(), "loss");
        assertAllClose(new double[] {p[0] - 1, p[1], p[2]}, r.gradLogits(), "grad");
        assertAllClose(p, r.probabilities(), "probabilities");
        assertClose(Math.log(Math.exp(1.5) + Math.exp(1.2) + Math.exp(1.0)), r.logSumExp()[0], "lse");
    }

    @Test
    void workedExampleWithTwoSamplesAndMean() {
        // l = -log softmax: sample 0 label 2 of [1,2,3,4], sample 1 label 0 of [10,5,5].
        float[] z = {1, 2, 3, 4, 10, 5, 5, 0};
        LossResult r = compute(SoftmaxCrossEntropyLoss.create(), z, 2, 4, new int[] {2, 0});
        double l0 = 4.4401897 - 3;
        double l1 = Math.log(Math.exp(10) + 2 * Math.exp(5) + 1) - 10;
        assertClose(l0, r.losses()[0], "l0");
        assertClose(l1, r.losses()[1], "l1");
        assertClose((l0 + l1) / 2, r.loss(), "mean");
    }

    /** Every option against the literal double-precision formulas, over many random batches. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19})
    void matchesTheReferenceForEveryOption(int seed) {
        Random random = new Random(seed);
        for (int trial = 0; trial < 12; trial++) {
            int rows = random.nextInt(6);
            int cols = 1 + random.nextInt(trial % 3 == 0 ? 40 : 6);
            double magnitude = new double[] {0.5, 3, 30, 3e4}[random.nextInt(4)];
            float[] z = Random2.uniform(random, rows, cols, magnitude);
            double temperature = new double[] {1, 1, 0.5, 2.5}[random.nextInt(4)];
            double eps = random.nextBoolean() ? 0 : 0.15;
            boolean soft = random.nextInt(4) == 0;
            boolean balance = !soft && random.nextInt(4) == 0;
            Reduction reduction = Reduction.values()[random.nextInt(3)];
            float[] weights = random.nextBoolean() ? null : Random2.uniform(random, 1, cols, 1);
            if (weights != null) {
                for (int c = 0; c < cols; c++) {
                    weights[c] = Math.abs(weights[c]) + (c % 3 == 0 ? 0 : 0.1f);
                }
            }
            int[] labels = Random2.labels(random, rows, cols);
            // The ignore index may be a class too, as in PyTorch.
            int ignoreIndex = trial % 2 == 0 ? -100 : 0;
            for (int n = 0; n < rows; n++) {
                if (random.nextInt(5) == 0) {
                    labels[n] = ignoreIndex;
                }
            }
            float[] t = null;
            if (soft) {
                t = Random2.uniform(random, rows, cols, 1);
                for (int i = 0; i < t.length; i++) {
                    t[i] = Math.abs(t[i]);
                }
            }
            SoftmaxCrossEntropyLoss loss = SoftmaxCrossEntropyLoss.builder().temperature(temperature).labelSmoothing(eps)
                    .classBalance(balance ? ClassBalance.BATCH : ClassBalance.NONE).ignoreIndex(ignoreIndex)
                    .reduction(reduction).build();
            LossInput.Builder in = LossInput.builder().logits(new FloatMatrix(z, rows, cols)).classWeights(weights);
            if (soft) {
                in.targets(new FloatMatrix(t, rows, cols));
            } else {
                in.labels(labels);
            }
            LossResult r = LogitCases.compute(loss, in.build());
            Expected ref = ReferenceCrossEntropy.compute(Random2.toDouble(z, rows, cols),
                    soft ? null : labels, soft ? Random2.toDouble(t, rows, cols) : null,
                    weights == null ? null : Random2.toDouble(weights), (float) temperature, (float) eps, balance, ignoreIndex,
                    reduction.specName());
            String what = "seed " + seed + " trial " + trial + " " + loss.spec();
            // Losses near 0 of logits near 3e4 carry the logits' float rounding: compare relative to them.
            double abs = 2e-6 * Math.max(1, magnitude / temperature);
            if (reduction != Reduction.NONE) {
                assertClose(ref.loss(), r.loss(), 2e-5, abs, what + " loss");
            }
            for (int n = 0; n < rows; n++) {
                assertClose(ref.losses()[n], r.losses()[n], 2e-5, abs, what + " losses[" + n + "]");
            }
            assertAllClose(ref.probabilities(), r.probabilities(), what + " probabilities");
            assertAllClose(ref.gradLogits(), r.gradLogits(), what + " grad");
            for (int n = 0; n < rows; n++) {
                assertClose(ref.logSumExp()[n], r.logSumExp()[n], 2e-5, abs, what + " lse[" + n + "]");
            }
        }
    }

    /** Caffe's test: the sum over l of the loss with label l ignored is C - 1 times the full loss. */
    @Test
    void ignoreLabelIdentityOfCaffe() {
        Random random = new Random(7);
        int rows = 10;
        int cols = 5;
        float[] z = Random2.uniform(random, rows, cols, 3);
        int[] labels = Random2.labels(random, rows, cols);
        double full = compute(SoftmaxCrossEntropyLoss.builder().reduction(Reduction.SUM).build(), z, rows, cols, labels).loss();
        double sum = 0;
        for (int l = 0; l < cols; l++) {
            sum += compute(SoftmaxCrossEntropyLoss.builder().reduction(Reduction.SUM).ignoreIndex(l).build(),
                    z, rows, cols, labels).loss();
        }
        assertClose((cols - 1) * full, sum, 1e-6, 0, "sum over ignored labels");
    }

    @Test
    void oneHotSoftTargetsEqualHardLabels() {
        Random random = new Random(3);
        int rows = 6;
        int cols = 7;
        float[] z = Random2.uniform(random, rows, cols, 4);
        int[] labels = Random2.labels(random, rows, cols);
        float[] oneHot = new float[rows * cols];
        for (int n = 0; n < rows; n++) {
            oneHot[n * cols + labels[n]] = 1;
        }
        float[] weights = {1, 2, 0.5f, 1, 3, 1, 0.1f};
        SoftmaxCrossEntropyLoss loss = SoftmaxCrossEntropyLoss.builder().temperature(1.7).labelSmoothing(0.2)
                .reduction(Reduction.SUM).classWeights(weights).build();
        LossResult hard = compute(loss, z, rows, cols, labels);
        LossResult soft = LogitCases.compute(loss, LossInput.builder().logits(new FloatMatrix(z, rows, cols))
                .targets(new FloatMatrix(oneHot, rows, cols)).build());
        assertClose(hard.loss(), soft.loss(), "loss");
        for (int i = 0; i < rows * cols; i++) {
            assertClose(hard.gradLogits()[i], soft.gradLogits()[i], "grad[" + i + "]");
        }
    }

    @Test
    void shiftingARowChangesNothing() {
        Random random = new Random(11);
        int rows = 4;
        int cols = 9;
        float[] z = Random2.uniform(random, rows, cols, 2);
        int[] labels = Random2.labels(random, rows, cols);
        float[] shifted = z.clone();
        for (int n = 0; n < rows; n++) {
            for (int c = 0; c < cols; c++) {
                shifted[n * cols + c] += 64 * (n + 1);
            }
        }
        SoftmaxCrossEntropyLoss loss = SoftmaxCrossEntropyLoss.builder().labelSmoothing(0.1).build();
        LossResult a = compute(loss, z, rows, cols, labels);
        LossResult b = compute(loss, shifted, rows, cols, labels);
        assertClose(a.loss(), b.loss(), 1e-5, 1e-5, "loss");
        for (int i = 0; i < z.length; i++) {
            assertClose(a.gradLogits()[i], b.gradLogits()[i], 1e-4, 1e-5, "grad[" + i + "]");
        }
    }

    @Test
    void gradientRowsSumToZero() {
        Random random = new Random(5);
        int rows = 8;
        int cols = 13;
        float[] z = Random2.uniform(random, rows, cols, 5);
        int[] labels = Random2.labels(random, rows, cols);
        labels[3] = -100;
        float[] weights = Random2.uniform(random, 1, cols, 1);
        for (int c = 0; c < cols; c++) {
            weights[c] = Math.abs(weights[c]);
        }
        SoftmaxCrossEntropyLoss loss = SoftmaxCrossEntropyLoss.builder().temperature(0.7).labelSmoothing(0.3)
                .classWeights(weights).build();
        float[] grad = compute(loss, z, rows, cols, labels).gradLogits();
        for (int n = 0; n < rows; n++) {
            double sum = 0;
            double scale = 0;
            for (int c = 0; c < cols; c++) {
                sum += grad[n * cols + c];
                scale += Math.abs(grad[n * cols + c]);
            }
            assertEquals(0, sum, 1e-6 * Math.max(1, scale), "row " + n);
        }
    }

    @Test
    void temperatureEqualsDividingTheLogits() {
        Random random = new Random(9);
        float[] z = Random2.uniform(random, 3, 6, 8);
        int[] labels = {1, 5, 0};
        double t = 4;
        float[] divided = z.clone();
        for (int i = 0; i < divided.length; i++) {
            divided[i] /= (float) t;
        }
        LossResult hot = compute(SoftmaxCrossEntropyLoss.builder().temperature(t).build(), z, 3, 6, labels);
        LossResult cold = compute(SoftmaxCrossEntropyLoss.create(), divided, 3, 6, labels);
        assertClose(cold.loss(), hot.loss(), "loss");
        for (int i = 0; i < z.length; i++) {
            assertClose(cold.gradLogits()[i] / t, hot.gradLogits()[i], "grad[" + i + "]");
            assertClose(divided[i], hot.logits()[i], "final logits[" + i + "]");
        }
    }

    @Test
    void labelSmoothingFitsTheUniformDistribution() {
        // With eps the optimum of the loss is q itself: a probability of 1 - eps + eps / C on the label.
        float[] z = {(float) Math.log(0.9 + 0.1 / 3), (float) Math.log(0.1 / 3), (float) Math.log(0.1 / 3)};
        LossResult r = compute(SoftmaxCrossEntropyLoss.builder().labelSmoothing(0.1).build(), z, 1, 3, new int[] {0});
        for (float g : r.gradLogits()) {
            assertEquals(0, g, 1e-6);
        }
    }

    @Test
    void classBalanceWeighsTheRareClassUp() {
        float[] z = {0, 0, 0, 0, 0, 0, 0, 0};
        int[] labels = {0, 0, 0, 1};
        LossResult r = compute(SoftmaxCrossEntropyLoss.builder().classBalance(ClassBalance.BATCH).reduction(Reduction.NONE).build(),
                z, 4, 2, labels);
        // w_0 = 1 - 3/4, w_1 = 1 - 1/4: the single sample of class 1 weighs three times one of class 0.
        assertClose(0.25 * Math.log(2), r.losses()[0], "class 0");
        assertClose(0.75 * Math.log(2), r.losses()[3], "class 1");
    }

    @Test
    void extremeLogitsGiveFiniteResults() {
        float[] z = {30000, -30000, 0, 29999.5f, 1e-30f, -30000, -30000, 30000, 30000};
        LossResult r = compute(SoftmaxCrossEntropyLoss.builder().labelSmoothing(0.1).build(), z, 3, 3, new int[] {1, 0, 2});
        assertAllFinite(r.gradLogits(), "grad");
        assertAllFinite(r.probabilities(), "probabilities");
        // Row 0, label 1: lse = 30000, so l = 0.9 * 60000 + (0.1 / 3) * (0 + 60000 + 30000).
        assertClose(0.9 * 60000 + 0.1 / 3 * (0 + 60000 + 30000), r.losses()[0], 1e-5, 0, "l0");
        assertClose(Math.log(2) + 0.1 / 3 * 60000, r.losses()[2], 1e-4, 0, "l2");
    }

    @Test
    void aProbabilityThatRoundsToOneStillHasAGradient() {
        // p_y = 1 - 2e-9: 1 - p_y rounds away in float, but is computed from the other classes.
        float[] z = {20, 0, 0};
        LossResult r = compute(SoftmaxCrossEntropyLoss.create(), z, 1, 3, new int[] {0});
        double rest = 2 * Math.exp(-20);
        assertClose(-rest / (1 + rest), r.gradLogits()[0], 1e-6, 0, "grad of the target");
        assertClose(Math.log1p(rest), r.loss(), 1e-6, 0, "loss");
    }

    @Test
    void maskedClassesGetProbabilityAndGradientZero() {
        float[] z = {1, NEG_INF, 2, NEG_INF, 3, NEG_INF};
        LossResult r = compute(SoftmaxCrossEntropyLoss.create(), z, 2, 3, new int[] {2, 1});
        assertEquals(0f, r.probabilities()[1]);
        assertEquals(0f, r.gradLogits()[1]);
        assertEquals(0f, r.gradLogits()[3]);
        assertEquals(0f, r.gradLogits()[5]);
        assertClose(0, r.losses()[1], "only one class left: loss 0");
        assertEquals(NEG_INF, r.logits()[1]);
    }

    @Test
    void maskedClassWithoutSoftTargetWeightIsAllowed() {
        float[] z = {1, NEG_INF, 2};
        float[] t = {0.25f, 0, 0.75f};
        LossResult r = LogitCases.compute(SoftmaxCrossEntropyLoss.create(), LossInput.builder()
                .logits(new FloatMatrix(z, 1, 3)).targets(new FloatMatrix(t, 1, 3)).build());
        assertAllFinite(r.gradLogits(), "grad");
        double lse = Math.log(Math.exp(1) + Math.exp(2));
        assertClose(0.25 * (lse - 1) + 0.75 * (lse - 2), r.loss(), "loss");
    }

    @Test
    void allLabelsIgnoredGivesZeroLossAndGradients() {
        float[] z = {1, 2, 3, 4, 5, 6};
        LossResult r = compute(SoftmaxCrossEntropyLoss.create(), z, 2, 3, new int[] {-100, -100});
        assertEquals(0.0, r.loss());
        assertArrayEquals(new float[6], r.gradLogits());
        assertClose(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), r.logSumExp()[0], "lse of an ignored row");
    }

    @Test
    void zeroWeightNormaliserGivesZeroNotNaN() {
        LossResult r = LogitCases.compute(SoftmaxCrossEntropyLoss.create(), LossInput.builder()
                .logits(new float[][] {{1, 2}, {3, 4}}).labels(0, 0).classWeights(0, 1).build());
        assertEquals(0.0, r.loss());
        assertArrayEquals(new float[4], r.gradLogits());
    }

    @Test
    void emptyBatchGivesZero() {
        LossResult r = compute(SoftmaxCrossEntropyLoss.create(), new float[0], 0, 0, new int[0]);
        assertEquals(0.0, r.loss());
        assertEquals(0, r.losses().length);
    }

    @Test
    void reductionsRelateAsSumMeanAndNone() {
        Random random = new Random(21);
        float[] z = Random2.uniform(random, 5, 4, 2);
        int[] labels = {0, 1, 2, 3, 0};
        LossResult none = compute(SoftmaxCrossEntropyLoss.builder().reduction(Reduction.NONE).build(), z, 5, 4, labels);
        LossResult sum = compute(SoftmaxCrossEntropyLoss.builder().reduction(Reduction.SUM).build(), z, 5, 4, labels);
        LossResult mean = compute(SoftmaxCrossEntropyLoss.create(), z, 5, 4, labels);
        double total = 0;
        for (float l : none.losses()) {
            total += l;
        }
        assertClose(total, sum.loss(), "sum");
        assertClose(total / 5, mean.loss(), "mean");
        assertArrayEquals(none.gradLogits(), sum.gradLogits());
        for (int i = 0; i < z.length; i++) {
            assertClose(sum.gradLogits()[i] / 5, mean.gradLogits()[i], "mean grad");
        }
    }

    @Test
    void hotPathMatchesComputeAndReusesBuffers() {
        Random random = new Random(4);
        float[] z = Random2.uniform(random, 7, 11, 3);
        int[] labels = Random2.labels(random, 7, 11);
        SoftmaxCrossEntropyLoss loss = SoftmaxCrossEntropyLoss.builder().labelSmoothing(0.05).build();
        float[] grad = new float[z.length];
        float[] losses = new float[7];
        double value = withLosses(loss, z, labels, 7, 11, losses, grad);
        LossResult buffers = LossResult.forLogits(7, 11);
        LogitCases.compute(loss, LossInput.of(new FloatMatrix(z, 7, 11), labels), buffers);
        assertEquals(buffers.loss(), value);
        assertArrayEquals(buffers.gradLogits(), grad);
        assertArrayEquals(buffers.losses(), losses);
    }

    /**
     * Batches large enough to be split across threads give the same bits on any number of threads:
     * long rows (row by row) and short ones (through the SIMD kernels' block path), with ignored rows.
     */
    @ParameterizedTest
    @CsvSource({"300, 1000, 0.1, 1.0", "14000, 10, 0.0, 0.7"})
    void resultsAreBitIdenticalForAnyThreadCount(int rows, int cols, double eps, double temperature) throws Exception {
        Random random = new Random(cols);
        float[] z = Random2.uniform(random, rows, cols, 6);
        int[] labels = Random2.labels(random, rows, cols);
        for (int n = 0; n < rows; n += 7) {
            labels[n] = -100;
        }
        SoftmaxCrossEntropyLoss loss = SoftmaxCrossEntropyLoss.builder().labelSmoothing(eps).temperature(temperature).build();
        assertSameBitsOnEveryPool(rows, z.length, (losses, grad) -> withLosses(loss, z, labels, rows, cols, losses, grad),
                1, 3, 8);
    }

    /** One batch call writing per-sample losses and the gradient. */
    private interface BatchCall {
        double run(float[] losses, float[] grad);
    }

    /** The call on this thread and on fork-join pools of each size: the same bits of the loss and of every output. */
    private static void assertSameBitsOnEveryPool(int rows, int values, BatchCall call, int... poolSizes) throws Exception {
        float[] gradCommon = new float[values];
        float[] lossesCommon = new float[rows];
        double common = call.run(lossesCommon, gradCommon);
        for (int threads : poolSizes) {
            ForkJoinPool pool = new ForkJoinPool(threads);
            try {
                float[] grad = new float[values];
                float[] losses = new float[rows];
                double value = pool.submit(() -> call.run(losses, grad)).get();
                assertEquals(Double.doubleToRawLongBits(common), Double.doubleToRawLongBits(value), threads + " threads");
                assertArrayEquals(gradCommon, grad, threads + " threads");
                assertArrayEquals(lossesCommon, losses, threads + " threads");
            } finally {
                pool.shutdown();
            }
        }
    }

    /**
     * A batch must give each row exactly what the row alone gives, across chunk borders, ignored rows
     * and masked classes, and a bad value in the middle of a chunk must still be reported at its row
     * and column, with the rows before it written. Rows of at least CarriedMax.MIN_COLS get their
     * maximum from the previous row's pass; short rows go a chunk at a time through the SIMD kernels'
     * block path, and back row by row for a chunk with a bad value.
     */
    @ParameterizedTest
    @ValueSource(ints = {10, 16, CarriedMax.MIN_COLS + 3})
    void batchRowsGiveTheBitsOfSingleRows(int cols) {
        int rows = 37;
        Random random = new Random(5);
        float[] z = Random2.growingRows(random, rows, cols);
        int[] labels = Random2.labels(random, rows, cols);
        labels[17] = -100;
        labels[20] = 2;
        z[20 * cols + 9] = NEG_INF;
        SoftmaxCrossEntropyLoss loss = SoftmaxCrossEntropyLoss.builder().reduction(Reduction.SUM).build();
        float[] grad = new float[z.length];
        float[] losses = new float[rows];
        double total = withLosses(loss, z, labels, rows, cols, losses, grad);
        double expectedTotal = 0;
        for (int n = 0; n < rows; n++) {
            float[] row = java.util.Arrays.copyOfRange(z, n * cols, (n + 1) * cols);
            float[] rowGrad = new float[cols];
            double rowLoss = loss.forwardBackward(row, new int[] {labels[n]}, 1, cols, rowGrad);
            assertEquals((float) rowLoss, losses[n], "loss of row " + n);
            assertArrayEquals(rowGrad, java.util.Arrays.copyOfRange(grad, n * cols, (n + 1) * cols), "gradient of row " + n);
            expectedTotal += rowLoss;
        }
        assertClose(expectedTotal, total, 1e-12, 1e-9, "total");

        z[21 * cols + cols - 2] = Float.NaN;
        float[] partial = new float[z.length];
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> loss.forwardBackward(z, labels, rows, cols, partial));
        assertEquals("logits[21][" + (cols - 2) + "] is NaN; inputs must be finite numbers (-Infinity is allowed only to mask a class)",
                e.getMessage());
        assertArrayEquals(java.util.Arrays.copyOf(grad, 21 * cols), java.util.Arrays.copyOf(partial, 21 * cols),
                "the rows before the bad one");
    }

    /** The hot path's gradient with the per-sample losses, through the lean result of the same pass. */
    private static double withLosses(SoftmaxCrossEntropyLoss loss, float[] z, int[] labels, int rows, int cols,
                                     float[] losses, float[] grad) {
        LossResult r = LossResult.forLogits(rows, cols);
        loss.compute(dev.softmaxlosses.LogitBatch.of(new FloatMatrix(z, rows, cols), labels), r);
        System.arraycopy(r.losses(), 0, losses, 0, rows);
        System.arraycopy(r.gradLogits(), 0, grad, 0, grad.length);
        return r.loss();
    }
}
