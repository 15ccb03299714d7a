package dev.softmaxlosses.logits;

import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.LogitCases;

import static dev.softmaxlosses.testing.Assertions2.assertAllFinite;
import static dev.softmaxlosses.testing.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.Loss;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.testing.Random2;
import dev.softmaxlosses.testing.ReferenceLogitLosses;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Focal, distillation and the hinge family against the double reference, and the survey's identities. */
class LogitLossesTest {

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    /** A row-wise reference: loss of row z with label y, gradient into grad. */
    interface RowReference {
        double row(double[] z, double[] teacher, int y, double[] grad);
    }

    private static LossInput input(float[] z, float[] teacher, int rows, int cols, int[] labels) {
        LossInput.Builder b = LossInput.builder().logits(new FloatMatrix(z, rows, cols)).labels(labels);
        if (teacher != null) {
            b.teacherLogits(new FloatMatrix(teacher, rows, cols));
        }
        return b.build();
    }

    /** Compares every output with the reference, for every reduction. */
    private static void assertMatches(String spec, float[] z, float[] teacher, int rows, int cols, int[] labels,
                                      boolean normaliseByAll, RowReference ref, double abs) {
        for (Reduction reduction : Reduction.values()) {
            Loss loss = LossRegistry.create(spec + (spec.contains(":") ? "," : ":") + "reduction=" + reduction.specName());
            LossResult r = LogitCases.compute(loss, input(z, teacher, rows, cols, labels));
            double total = 0;
            int counted = 0;
            double[][] grads = new double[rows][cols];
            for (int n = 0; n < rows; n++) {
                boolean ignored = labels[n] == -100;
                double[] row = Random2.toDouble(java.util.Arrays.copyOfRange(z, n * cols, (n + 1) * cols));
                double[] t = teacher == null ? null : Random2.toDouble(java.util.Arrays.copyOfRange(teacher, n * cols, (n + 1) * cols));
                double l = ignored && teacher == null ? 0 : ref.row(row, t, ignored ? -1 : labels[n], grads[n]);
                if (ignored && teacher == null) {
                    java.util.Arrays.fill(grads[n], 0);
                }
                assertClose(l, r.losses()[n], 2e-5, abs, spec + " losses[" + n + "]");
                total += l;
                counted += ignored && !normaliseByAll ? 0 : 1;
            }
            double scale = reduction == Reduction.MEAN ? (counted == 0 ? 0 : 1.0 / counted) : 1;
            if (reduction != Reduction.NONE) {
                assertClose(total * scale, r.loss(), 2e-5, abs, spec + " " + reduction + " loss");
            }
            for (int n = 0; n < rows; n++) {
                for (int c = 0; c < cols; c++) {
                    assertClose(grads[n][c] * scale, r.gradLogits()[n * cols + c], 2e-5, 2e-6,
                            spec + " " + reduction + " grad[" + n + "][" + c + "]");
                }
            }
            assertAllFinite(r.probabilities(), spec + " probabilities");
        }
    }

    private static int[] someIgnored(Random random, int rows, int cols) {
        int[] labels = Random2.labels(random, rows, cols);
        for (int n = 0; n < rows; n++) {
            if (random.nextInt(5) == 0) {
                labels[n] = -100;
            }
        }
        return labels;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7})
    void everyLossMatchesTheReference(int seed) {
        Random random = new Random(seed);
        int rows = 1 + random.nextInt(7);
        int cols = 2 + random.nextInt(seed % 2 == 0 ? 30 : 5);
        double magnitude = new double[] {0.3, 2, 8, 40}[seed % 4];
        float[] z = Random2.uniform(random, rows, cols, magnitude);
        float[] teacher = Random2.uniform(random, rows, cols, magnitude);
        int[] labels = someIgnored(random, rows, cols);
        for (double gamma : new double[] {0, 0.5, 2, 5}) {
            for (double alpha : new double[] {0.25, 1}) {
                assertMatches("focal:gamma=" + gamma + ",alpha=" + alpha, z, null, rows, cols, labels, false,
                        (row, t, y, g) -> ReferenceLogitLosses.focal(row, y, gamma, alpha, g), 2e-6);
            }
        }
        for (double t : new double[] {0.5, 1, 4}) {
            for (double alpha : new double[] {0, 0.3, 0.9, 1}) {
                assertMatches("distillation:temperature=" + t + ",alpha=" + alpha, z, teacher, rows, cols, labels, true,
                        (row, tr, y, g) -> ReferenceLogitLosses.distillation(row, tr, y, t, alpha, g), 2e-5 * magnitude);
            }
        }
        for (double m : new double[] {0, 0.5, 1, 3}) {
            assertMatches("multiclass_hinge:margin=" + m, z, null, rows, cols, labels, false,
                    (row, t, y, g) -> ReferenceLogitLosses.multiclassHinge(row, y, m, g), 2e-6 * magnitude);
            assertMatches("max_hinge:margin=" + m, z, null, rows, cols, labels, false,
                    (row, t, y, g) -> ReferenceLogitLosses.maxHinge(row, y, m, g), 2e-6 * magnitude);
            assertMatches("lse_hinge:margin=" + m, z, null, rows, cols, labels, false,
                    (row, t, y, g) -> ReferenceLogitLosses.lseHinge(row, y, m, g), 2e-6 * magnitude);
            for (double s : new double[] {0.5, 1, 4}) {
                assertMatches("softplus_lse:margin=" + m + ",scale=" + s, z, null, rows, cols, labels, false,
                        (row, t, y, g) -> ReferenceLogitLosses.softplusLse(row, y, m, s, g), 2e-6 * magnitude * s);
            }
        }
    }

    private static LossResult run(String spec, float[] z, int rows, int cols, int... labels) {
        return LogitCases.compute(LossRegistry.create(spec), input(z, null, rows, cols, labels));
    }

    @Test
    void focalWithGammaZeroIsTheSoftmaxLoss() {
        Random random = new Random(2);
        float[] z = Random2.uniform(random, 6, 9, 5);
        int[] labels = someIgnored(random, 6, 9);
        LossResult focal = run("focal:gamma=0,alpha=1", z, 6, 9, labels);
        LossResult ce = run("softmax_cross_entropy", z, 6, 9, labels);
        assertClose(ce.loss(), focal.loss(), 1e-6, 1e-7, "loss");
        for (int i = 0; i < z.length; i++) {
            assertClose(ce.gradLogits()[i], focal.gradLogits()[i], 1e-5, 1e-7, "grad[" + i + "]");
        }
    }

    @Test
    void focalNeverExceedsTheSoftmaxLoss() {
        Random random = new Random(8);
        float[] z = Random2.uniform(random, 20, 6, 4);
        int[] labels = Random2.labels(random, 20, 6);
        LossResult ce = run("softmax_cross_entropy:reduction=none", z, 20, 6, labels);
        for (double gamma : new double[] {0.5, 1, 2, 5}) {
            LossResult focal = run("focal:reduction=none,gamma=" + gamma, z, 20, 6, labels);
            for (int n = 0; n < 20; n++) {
                assertTrue(focal.losses()[n] <= ce.losses()[n], "gamma " + gamma + " sample " + n);
            }
        }
    }

    @Test
    void softplusLseWithoutMarginOrScaleIsTheSoftmaxLoss() {
        Random random = new Random(4);
        float[] z = Random2.uniform(random, 7, 5, 6);
        int[] labels = someIgnored(random, 7, 5);
        LossResult lse = run("softplus_lse", z, 7, 5, labels);
        LossResult ce = run("softmax_cross_entropy", z, 7, 5, labels);
        assertClose(ce.loss(), lse.loss(), 1e-6, 1e-7, "loss");
        for (int i = 0; i < z.length; i++) {
            assertClose(ce.gradLogits()[i], lse.gradLogits()[i], 1e-5, 1e-7, "grad[" + i + "]");
            assertClose(ce.probabilities()[i], lse.probabilities()[i], 1e-6, 1e-7, "p[" + i + "]");
        }
    }

    @Test
    void theHingeLossesAreOrderedAsTheDerivationSays() {
        Random random = new Random(6);
        float[] z = Random2.uniform(random, 30, 8, 3);
        int[] labels = Random2.labels(random, 30, 8);
        for (double m : new double[] {0, 0.5, 1}) {
            float[] multi = run("multiclass_hinge:reduction=none,margin=" + m, z, 30, 8, labels).losses();
            float[] max = run("max_hinge:reduction=none,margin=" + m, z, 30, 8, labels).losses();
            float[] lse = run("lse_hinge:reduction=none,margin=" + m, z, 30, 8, labels).losses();
            float[] soft = run("softplus_lse:reduction=none,margin=" + m, z, 30, 8, labels).losses();
            for (int n = 0; n < 30; n++) {
                assertTrue(multi[n] >= max[n], "multiclass >= max, sample " + n);
                assertTrue(lse[n] >= max[n], "lse >= max, sample " + n);
                assertTrue(soft[n] >= lse[n], "softplus >= hinge of the same argument, sample " + n);
            }
        }
    }

    @Test
    void distillationWithAlphaZeroIsTheSoftmaxLoss() {
        Random random = new Random(12);
        float[] z = Random2.uniform(random, 5, 6, 3);
        float[] t = Random2.uniform(random, 5, 6, 3);
        int[] labels = Random2.labels(random, 5, 6);
        LossResult d = LogitCases.compute(LossRegistry.create("distillation:alpha=0"), input(z, t, 5, 6, labels));
        LossResult ce = run("softmax_cross_entropy", z, 5, 6, labels);
        assertClose(ce.loss(), d.loss(), 1e-6, 1e-7, "loss");
        for (int i = 0; i < z.length; i++) {
            assertClose(ce.gradLogits()[i], d.gradLogits()[i], 1e-5, 1e-7, "grad[" + i + "]");
        }
    }

    @Test
    void distillationSoftTermVanishesWhenStudentEqualsTeacher() {
        Random random = new Random(14);
        float[] z = Random2.uniform(random, 4, 7, 20);
        LossResult d = LogitCases.compute(LossRegistry.create("distillation:alpha=1,temperature=3"), LossInput.builder()
                .logits(new FloatMatrix(z, 4, 7)).teacherLogits(new FloatMatrix(z.clone(), 4, 7)).build());
        assertEquals(0.0, d.loss(), 1e-12);
        for (float g : d.gradLogits()) {
            assertEquals(0f, g, 1e-8f);
        }
    }

    @Test
    void distillationKeepsTheSoftTermOfIgnoredSamples() {
        float[] z = {1, 2, 3, 3, 2, 1};
        float[] t = {3, 2, 1, 3, 2, 1};
        LossResult d = LogitCases.compute(LossRegistry.create("distillation:alpha=0.5,reduction=none"), input(z, t, 2, 3, new int[] {-100, 0}));
        assertTrue(d.losses()[0] > 0, "the soft term of an unlabelled sample counts");
        double[] g = new double[3];
        double expected = ReferenceLogitLosses.distillation(new double[] {1, 2, 3}, new double[] {3, 2, 1}, -1, 4, 0.5, g);
        assertClose(expected, d.losses()[0], "soft term only");
        assertClose(0.5 * (Math.log(Math.exp(3) + Math.exp(2) + Math.exp(1)) - 3), d.losses()[1], 1e-5, 1e-7,
                "equal logits leave the hard term");
    }

    @Test
    void distillationFinalLogitsAreStudentOverTemperature() {
        float[] z = {2, 4, 8};
        LossResult d = LogitCases.compute(LossRegistry.create("distillation:temperature=2"), input(z, z.clone(), 1, 3, new int[] {0}));
        assertArrayEquals(new float[] {1, 2, 4}, d.logits());
    }

    @Test
    void softplusLseFinalLogitsCarryScaleAndMargin() {
        float[] z = {0.5f, 0.25f, -1};
        LossResult r = run("softplus_lse:scale=4,margin=0.1", z, 1, 3, 1);
        assertArrayEquals(new float[] {2, 4 * (0.25f - 0.1f), -4}, r.logits());
        double lse = Math.log(Math.exp(2) + Math.exp(4 * 0.15) + Math.exp(-4));
        assertClose(lse - 4 * 0.15, r.loss(), "loss = LSE(f) - f_y");
    }

    @Test
    void focalKeepsAGradientWhenTheTargetProbabilityRoundsToOne() {
        float[] z = {25, 0, 0, 0};
        for (double gamma : new double[] {0, 0.5, 2}) {
            LossResult r = run("focal:gamma=" + gamma, z, 1, 4, 0);
            double rest = 3 * Math.exp(-25);
            double[] g = new double[4];
            double expected = ReferenceLogitLosses.focal(new double[] {25, 0, 0, 0}, 0, gamma, 1, g);
            // The float exponentials carry ~6e-8 relative error into 1 - p_y: a float32 tolerance, relative.
            assertClose(expected, r.loss(), 1e-5, 0, "loss, gamma " + gamma);
            assertClose(g[0], r.gradLogits()[0], 1e-4, 0, "target grad, gamma " + gamma);
            assertTrue(r.gradLogits()[0] < 0 && rest > 0, "the target still gets a push, gamma " + gamma);
        }
    }

    @Test
    void extremeLogitsGiveFiniteResultsForEveryLoss() {
        float[] z = {30000, -30000, 0, 29999, 1e-30f, -30000, -30000, NEG_INF, 30000};
        for (String spec : new String[] {"focal", "focal:gamma=0.5", "multiclass_hinge", "max_hinge", "lse_hinge",
                "softplus_lse:scale=64,margin=0.35"}) {
            LossResult r = run(spec, z, 3, 3, 1, 0, 2);
            assertAllFinite(r.gradLogits(), spec + " grad");
            assertAllFinite(r.losses(), spec + " losses");
            assertAllFinite(r.probabilities(), spec + " probabilities");
        }
        LossResult d = LogitCases.compute(LossRegistry.create("distillation"), input(z, z.clone(), 3, 3, new int[] {1, 0, 2}));
        assertAllFinite(d.gradLogits(), "distillation grad");
    }

    @Test
    void maskedOtherClassesAreInactiveForTheHinges() {
        float[] z = {1, NEG_INF};
        for (String spec : new String[] {"multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse"}) {
            LossResult r = run(spec, z, 1, 2, 0);
            assertEquals(0.0, r.loss(), spec);
            assertArrayEquals(new float[2], r.gradLogits(), spec);
        }
    }

    @Test
    void maxHingeSendsTheGradientToTheFirstLargestRival() {
        LossResult r = run("max_hinge:reduction=sum", new float[] {0, 2, 1, 2}, 1, 4, 2);
        assertArrayEquals(new float[] {0, 1, -1, 0}, r.gradLogits());
        assertClose(2, r.loss(), "2 - 1 + 1");
    }

    @Test
    void aHingeAtZeroIsInactive() {
        LossResult r = run("max_hinge:reduction=sum", new float[] {1, 0}, 1, 2, 0);
        assertEquals(0.0, r.loss());
        assertArrayEquals(new float[2], r.gradLogits());
    }

    /**
     * Long rows get their maximum from the row before (focal and softplus-LSE) and skip the pass for
     * the other classes' maximum where the target is below the row's (the hinge family): each row of a
     * batch must still give what it gives alone, to the bit, across chunk borders, ignored rows, masked
     * classes and targets that are the row's maximum; a bad value is reported at its row and column,
     * with the rows before it written.
     */
    @ParameterizedTest
    @ValueSource(strings = {"focal:gamma=2", "softplus_lse:margin=0.3,scale=2", "lse_hinge:margin=0.5",
            "max_hinge:margin=1", "multiclass_hinge"})
    void longRowsGiveTheBitsOfSingleRows(String spec) {
        int rows = 37;
        int cols = CarriedMax.MIN_COLS + 3;
        Random random = new Random(spec.length());
        float[] z = Random2.growingRows(random, rows, cols);
        int[] labels = Random2.labels(random, rows, cols);
        for (int n = 0; n < rows; n++) {
            if (n % 5 == 0) {
                z[n * cols + labels[n]] = 1000;
            } else if (n % 5 == 1) {
                // The maximum where the row before has its target, which its passes skip.
                z[n * cols + labels[n - 1]] = 900;
            }
        }
        labels[17] = -100;
        labels[20] = 2;
        z[20 * cols + 9] = NEG_INF;
        Loss loss = LossRegistry.create(spec + (spec.contains(":") ? "," : ":") + "reduction=sum");
        LossResult batch = LogitCases.compute(loss, input(z, null, rows, cols, labels));
        for (int n = 0; n < rows; n++) {
            float[] row = java.util.Arrays.copyOfRange(z, n * cols, (n + 1) * cols);
            LossResult single = LogitCases.compute(loss, input(row, null, 1, cols, new int[] {labels[n]}));
            assertEquals(single.losses()[0], batch.losses()[n], spec + " loss of row " + n);
            assertArrayEquals(single.gradLogits(), java.util.Arrays.copyOfRange(batch.gradLogits(), n * cols, (n + 1) * cols),
                    spec + " gradient of row " + n);
        }

        z[21 * cols + cols - 2] = Float.NaN;
        LossResult partial = LossResult.forLogits(rows, cols);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> LogitCases.compute(loss, input(z, null, rows, cols, labels), partial));
        assertEquals("logits[21][" + (cols - 2) + "] is NaN; inputs must be finite numbers (-Infinity is allowed only to mask a class)",
                e.getMessage());
        assertArrayEquals(java.util.Arrays.copyOf(batch.gradLogits(), 21 * cols),
                java.util.Arrays.copyOf(partial.gradLogits(), 21 * cols), spec + ": the rows before the bad one");
    }
}
