package dev.softmaxlosses.contract;

import static dev.softmaxlosses.testing.ContractData.MASK;
import static dev.softmaxlosses.testing.ContractData.labels;
import static dev.softmaxlosses.testing.ContractData.logits;
import static dev.softmaxlosses.testing.ContractData.mask;
import static dev.softmaxlosses.testing.ContractData.near;
import static dev.softmaxlosses.testing.ContractData.quarterLogits;
import static dev.softmaxlosses.testing.ContractData.toDouble;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.testing.Compute;
import dev.softmaxlosses.testing.Expected;
import dev.softmaxlosses.testing.Mismatches;
import dev.softmaxlosses.testing.ReferenceCrossEntropy;
import dev.softmaxlosses.testing.ReferenceLogitLosses;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

/**
 * The contract of {@code focal}, {@code distillation}, {@code multiclass_hinge}, {@code max_hinge},
 * {@code lse_hinge} and {@code softplus_lse} ({@code LOSSES.md}): every output compared with
 * {@link ReferenceLogitLosses} (double precision, straight from the spec) at a float32 tolerance
 * {@code |got - expected| <= 1e-6 + 1e-5 |expected|}. Core's suite runs on the scalar kernels and
 * again on the SIMD ones, so this does too. Every call into the library goes through {@link Compute}.
 */
public class LogitLossesContractTest {

    private static final double ABS = 1e-6;
    private static final double REL = 1e-5;

    // ---------------------------------------------------------------- a case and its expected values

    /** One case: the spec, its arrays, and the reference options that mean the same (the lab's eval tests send them as JSON). */
    public static final class Case {
        public final String spec;
        public final float[][] logits;
        public final int[] labels;
        public float[][] teacher;
        public float[] classWeights;
        public final ReferenceLogitLosses.Options options = new ReferenceLogitLosses.Options();

        public Case(String spec, float[][] logits, int[] labels) {
            this.spec = spec;
            this.logits = logits;
            this.labels = labels;
        }

        public Case teacher(float[][] t) { teacher = t; return this; }

        public Case classWeights(float... w) {
            classWeights = w;
            options.classWeights(toDouble(w));
            return this;
        }

        public Case with(Consumer<ReferenceLogitLosses.Options> set) {
            set.accept(options);
            return this;
        }

        public String name() {
            int colon = spec.indexOf(':');
            return colon < 0 ? spec : spec.substring(0, colon);
        }

        Compute.Result compute() {
            return teacher != null ? Compute.distillation(spec, logits, teacher, labels)
                    : Compute.logits(spec, logits, labels, classWeights);
        }

        public Expected expected() {
            return ReferenceLogitLosses.of(name(), toDouble(logits), toDouble(teacher), labels, options);
        }
    }

    /** Runs one case and compares every output field with the reference. */
    private static Compute.Result check(Case c) {
        Compute.Result got = c.compute();
        Mismatches.assertNone(c.spec, Mismatches.logits(c.expected(), got, ABS, REL));
        return got;
    }

    private static Expected softmaxCrossEntropy(float[][] z, int[] y) {
        return ReferenceCrossEntropy.compute(toDouble(z), y, null, new ReferenceCrossEntropy.Options());
    }

    // ---------------------------------------------------------------- focal

    @Test
    void focalMatchesTheReferenceForEveryGamma() {
        Random random = new Random(101);
        for (double gamma : new double[] {0, 0.5, 1, 2, 5}) {
            float[][] z = logits(random, 9, 6, 2.5);
            int[] y = labels(random, 9, 6, 0, -100);
            check(new Case("focal:gamma=" + gamma, z, y).with(o -> o.gamma(gamma)));
            check(new Case("focal:gamma=" + gamma + ",alpha=0.25,reduction=sum", z, y)
                    .with(o -> o.gamma(gamma).alpha(0.25).reduction("sum")));
        }
    }

    @Test
    void focalDefaultsAreGammaTwoAlphaOne() {
        Random random = new Random(102);
        check(new Case("focal", logits(random, 6, 4, 2), labels(random, 6, 4, 0, -100)));
    }

    @Test
    void focalWithClassWeightsNormalisesMeanByTheCountOfSamples() {
        Random random = new Random(103);
        float[][] z = logits(random, 10, 5, 2);
        int[] y = labels(random, 10, 5, 0.2, -100);
        check(new Case("focal:gamma=1.5,alpha=2", z, y).classWeights(0.5f, 2f, 0f, 1.25f, 3f)
                .with(o -> o.gamma(1.5).alpha(2)));
        check(new Case("focal:reduction=none", z, y).classWeights(1f, 1f, 4f, 0f, 1f).with(o -> o.reduction("none")));
    }

    @Test
    void focalIgnoresSamplesAndMaskedClasses() {
        Random random = new Random(104);
        float[][] z = logits(random, 12, 7, 3);
        int[] y = labels(random, 12, 7, 0.3, 3);
        mask(random, z, y, 0.3);
        check(new Case("focal:ignore_index=3,gamma=0.5", z, y).with(o -> o.ignoreIndex(3).gamma(0.5)));
    }

    @Test
    void focalWithGammaZeroAndAlphaOneIsSoftmaxCrossEntropy() {
        Random random = new Random(105);
        float[][] z = logits(random, 8, 5, 3);
        int[] y = labels(random, 8, 5, 0.2, -100);
        Compute.Result focal = check(new Case("focal:gamma=0,alpha=1", z, y).with(o -> o.gamma(0).alpha(1)));
        Expected sce = softmaxCrossEntropy(z, y);
        assertEquals(sce.loss(), focal.loss(), ABS + REL * sce.loss());
        for (int n = 0; n < 8; n++) {
            for (int k = 0; k < 5; k++) {
                assertEquals(sce.gradLogits()[n][k], focal.gradLogits()[n][k], ABS, "grad[" + n + "][" + k + "]");
            }
        }
    }

    /**
     * {@code p_y} rounds to 1 in float32 here ({@code z_y - z_other} of 17 to 30), yet {@code 1 - p_y},
     * the loss and the gradient stay positive and right: the spec's "compute 1 - p_y as the sum of
     * the other probabilities".
     */
    @Test
    void focalStaysRightWhenTheTargetProbabilityRoundsToOneInFloat() {
        for (double gamma : new double[] {0, 0.5, 1, 2, 5}) {
            for (float gap : new float[] {17f, 20f, 25f}) {
                float[][] z = {{0f, gap, -1f}, {10000f, 10000f + gap, 9997f}};
                Case c = new Case("focal:reduction=none,gamma=" + gamma, z, new int[] {1, 1})
                        .with(o -> o.gamma(gamma).reduction("none"));
                Compute.Result got = check(c);
                Expected want = c.expected();
                for (int n = 0; n < 2; n++) {
                    if (want.losses()[n] < 1e-30) {
                        continue;   // below the normal floats: nothing to assert but the tolerance
                    }
                    double loss = got.losses()[n];
                    assertTrue(loss > 0, "loss " + loss + " > 0 at gamma " + gamma + ", gap " + gap);
                    assertEquals(want.losses()[n], loss, 1e-3 * want.losses()[n], "relative, at gamma " + gamma + ", gap " + gap);
                    assertTrue(got.gradLogits()[n][1] < 0, "d/dz_y < 0");
                }
            }
        }
    }

    /**
     * As above with {@code z_y - z_other = 40}, where {@code p_y} rounds to 1 even in double: summing
     * the other probabilities still gives {@code 1 - p_y = 4.25e-18}, a normal float, and a loss of
     * {@code 4.25e-18} for {@code gamma = 0} ({@code 8.8e-27} for {@code gamma = 0.5}), while
     * {@code 1 - p_y} taken as {@code (sum - e_y) / sum} is 0.
     */
    @Test
    void focalOneMinusTargetProbabilityDoesNotRoundToZeroEvenInDouble() {
        for (double gamma : new double[] {0, 0.5}) {
            Case c = new Case("focal:reduction=none,gamma=" + gamma, new float[][] {{0f, 40f, -1f}}, new int[] {1})
                    .with(o -> o.gamma(gamma).reduction("none"));
            Compute.Result got = c.compute();
            Expected want = c.expected();
            double loss = got.losses()[0];
            assertEquals(want.losses()[0], loss, 1e-4 * want.losses()[0],
                    "gamma " + gamma + ": loss " + loss + ", expected " + want.losses()[0]);
            double gradY = got.gradLogits()[0][1];
            assertEquals(want.gradLogits()[0][1], gradY, 1e-4 * Math.abs(want.gradLogits()[0][1]),
                    "gamma " + gamma + ": d/dz_y " + gradY + ", expected " + want.gradLogits()[0][1]);
        }
    }

    @Test
    void focalOnLargeLogitsMatchesTheReference() {
        Random random = new Random(106);
        float[][] z = logits(random, 6, 12, 1000);
        z[0][3] = 30000f;
        z[1][0] = -30000f;
        check(new Case("focal:gamma=2,reduction=sum", z, labels(random, 6, 12, 0, -100)).with(o -> o.reduction("sum")));
    }

    // ---------------------------------------------------------------- distillation

    @Test
    void distillationMatchesTheReferenceForEveryAlphaAndTemperature() {
        Random random = new Random(201);
        for (double alpha : new double[] {0, 0.3, 0.9, 1}) {
            for (double t : new double[] {0.5, 1, 4}) {
                float[][] z = logits(random, 7, 5, 2);
                float[][] teacher = near(random, z, 1.5);
                int[] y = labels(random, 7, 5, 0, -100);
                for (String reduction : List.of("mean", "sum", "none")) {
                    check(new Case("distillation:alpha=" + alpha + ",temperature=" + t + ",reduction=" + reduction, z, y)
                            .teacher(teacher).with(o -> o.alpha(alpha).temperature(t).reduction(reduction)));
                }
            }
        }
    }

    @Test
    void distillationDefaultsAreTemperatureFourAlphaPointNine() {
        Random random = new Random(202);
        float[][] z = logits(random, 5, 6, 3);
        check(new Case("distillation", z, labels(random, 5, 6, 0, -100)).teacher(near(random, z, 2)));
    }

    @Test
    void distillationAtAlphaOneNeedsNoLabels() {
        Random random = new Random(203);
        float[][] z = logits(random, 6, 4, 2);
        check(new Case("distillation:alpha=1,temperature=2", z, null).teacher(near(random, z, 1))
                .with(o -> o.alpha(1).temperature(2)));
    }

    /** An ignored label drops only the hard term; the mean still divides by N. */
    @Test
    void distillationIgnoredLabelsKeepTheSoftTermAndMeanIsOverN() {
        Random random = new Random(204);
        float[][] z = logits(random, 8, 5, 2);
        int[] y = {0, -1, 3, -1, -1, 4, 2, -1};
        Case c = new Case("distillation:alpha=0.3,temperature=1,ignore_index=-1", z, y).teacher(near(random, z, 1))
                .with(o -> o.alpha(0.3).temperature(1).ignoreIndex(-1));
        Compute.Result got = check(c);
        double sum = 0;
        for (double l : got.losses()) {
            sum += l;
            assertTrue(l > 0, "every sample, ignored or not, has its soft term");
        }
        assertEquals(sum / 8, got.loss(), 1e-6);
    }

    @Test
    void distillationAllowsClassesTheTeacherAloneMasks() {
        float[][] z = {{1f, MASK, 2f, 0.5f}, {0.3f, -1f, 2.5f, MASK}, {MASK, 1f, MASK, 0f}};
        float[][] teacher = {{MASK, MASK, 1f, 2f}, {1f, 0f, MASK, MASK}, {MASK, 2f, MASK, MASK}};
        check(new Case("distillation:alpha=0.9,temperature=2,reduction=sum", z, new int[] {0, 2, 1}).teacher(teacher)
                .with(o -> o.alpha(0.9).temperature(2).reduction("sum")));
        check(new Case("distillation:alpha=1,temperature=0.5", z, null).teacher(teacher)
                .with(o -> o.alpha(1).temperature(0.5)));
    }

    @Test
    void distillationOfAStudentEqualToItsTeacherIsZero() {
        Random random = new Random(205);
        float[][] z = logits(random, 4, 6, 3);
        Compute.Result got = check(new Case("distillation:alpha=1,temperature=4", z, null).teacher(near(random, z, 0))
                .with(o -> o.alpha(1).temperature(4)));
        assertEquals(0, got.loss(), 1e-6);
        for (double[] row : got.gradLogits()) {
            for (double g : row) {
                assertEquals(0, g, 1e-6);
            }
        }
    }

    /**
     * Distributions near 0 or 1 on large logits: {@code z / T} is exact here (T a power of 2), so a
     * float32 softmax (shifted by the row's maximum, divided by the double sum) gives {@code qs - pt}
     * to float precision. Shifting the exponentials by the log-sum-exp rounded to float instead puts
     * an error of about {@code |LSE| 2^-24} on every probability, which the difference {@code qs - pt}
     * then magnifies: in the first case {@code d/dz_1} comes out 1.9995756 (exact 2) and the loss
     * 119974.5 (exact 120000); in the second {@code d/dz_0} is 0 (exact -1.23147e-5); in the third,
     * student and teacher give the same {@code [0.5, 0.5]}, yet the gradient is 1.45e-5 on both.
     */
    @Test
    void distillationStaysAccurateOnLargeLogits() {
        assertAll(
                () -> check(new Case("distillation:alpha=1,temperature=4,reduction=sum",
                        new float[][] {{30000f, 30000f, -30000f}}, null)
                        .teacher(new float[][] {{30000f, -30000f, 30000f}})
                        .with(o -> o.alpha(1).temperature(4).reduction("sum"))),
                () -> check(new Case("distillation:alpha=0.9,temperature=4,reduction=sum",
                        new float[][] {{700f, 650f, 0f, -400f}}, new int[] {0})
                        .teacher(new float[][] {{700f, 640f, 10f, -300f}})
                        .with(o -> o.alpha(0.9).temperature(4).reduction("sum"))),
                () -> check(new Case("distillation:alpha=1,temperature=1,reduction=sum",
                        new float[][] {{0f, 0f}}, null)
                        .teacher(new float[][] {{1000f, 1000f}})
                        .with(o -> o.alpha(1).temperature(1).reduction("sum"))));
    }

    // ---------------------------------------------------------------- the hinge family

    @Test
    void multiclassHingeMatchesTheReference() {
        Random random = new Random(301);
        for (double margin : new double[] {1, 0, 0.5, 2, -0.5}) {
            float[][] z = quarterLogits(random, 10, 6, 3);
            int[] y = labels(random, 10, 6, 0.2, -100);
            String spec = "multiclass_hinge:margin=" + margin;
            check(new Case(spec, z, y).with(o -> o.margin(margin)));
            check(new Case(spec + ",reduction=none", z, y).with(o -> o.margin(margin).reduction("none")));
        }
        Random r2 = new Random(302);
        check(new Case("multiclass_hinge", quarterLogits(r2, 5, 4, 2), labels(r2, 5, 4, 0, -100)));
    }

    /** Strictly positive arguments only: {@code z_i - z_y + m = 0} is inactive. */
    @Test
    void hingeTermsAtZeroAreInactive() {
        float[][] z = {{1f, 2f, 3f}};
        Compute.Result multi = check(new Case("multiclass_hinge:reduction=sum", z, new int[] {2}).with(o -> o.reduction("sum")));
        assertEquals(0, multi.loss());
        Compute.Result max = check(new Case("max_hinge:reduction=sum", z, new int[] {2}).with(o -> o.reduction("sum")));
        assertEquals(0, max.loss());
        for (double g : max.gradLogits()[0]) {
            assertEquals(0, g);
        }
    }

    @Test
    void maxHingeMatchesTheReference() {
        Random random = new Random(303);
        for (double margin : new double[] {1, 0, 0.5, 2, -0.5}) {
            float[][] z = quarterLogits(random, 12, 5, 2);
            int[] y = labels(random, 12, 5, 0.2, -100);
            check(new Case("max_hinge:margin=" + margin + ",reduction=sum", z, y).with(o -> o.margin(margin).reduction("sum")));
        }
    }

    @Test
    void maxHingeSendsItsGradientToTheFirstOfTiedRivals() {
        float[][] z = {{2f, 0f, 2f, 2f}, {1f, 3f, 0f, 3f}};
        double[][] g = check(new Case("max_hinge:reduction=sum", z, new int[] {1, 0}).with(o -> o.reduction("sum"))).gradLogits();
        assertEquals(1, g[0][0]);
        assertEquals(0, g[0][2]);
        assertEquals(0, g[0][3]);
        assertEquals(-1, g[0][1]);
        assertEquals(1, g[1][1]);
        assertEquals(0, g[1][3]);
    }

    @Test
    void lseHingeMatchesTheReference() {
        Random random = new Random(304);
        for (double margin : new double[] {0, 0.5, 1, -0.5}) {
            float[][] z = logits(random, 10, 7, 2);
            int[] y = labels(random, 10, 7, 0.2, -100);
            check(new Case("lse_hinge:margin=" + margin, z, y).with(o -> o.margin(margin)));
        }
        check(new Case("lse_hinge:reduction=none", logits(random, 6, 3, 3), labels(random, 6, 3, 0, -100))
                .with(o -> o.reduction("none")));
    }

    @Test
    void softplusLseMatchesTheReference() {
        Random random = new Random(305);
        for (double scale : new double[] {1, 0.5, 2, 8}) {
            for (double margin : new double[] {0, 0.25, 1}) {
                float[][] z = logits(random, 8, 6, 1.5);
                int[] y = labels(random, 8, 6, 0.2, -100);
                check(new Case("softplus_lse:scale=" + scale + ",margin=" + margin + ",reduction=sum", z, y)
                        .with(o -> o.scale(scale).margin(margin).reduction("sum")));
            }
        }
        check(new Case("softplus_lse", logits(random, 5, 4, 2), labels(random, 5, 4, 0, -100)));
    }

    @Test
    void softplusLseWithoutMarginOrScaleIsSoftmaxCrossEntropy() {
        Random random = new Random(306);
        float[][] z = logits(random, 9, 5, 3);
        int[] y = labels(random, 9, 5, 0.2, -100);
        Compute.Result got = check(new Case("softplus_lse", z, y));
        Expected sce = softmaxCrossEntropy(z, y);
        assertEquals(sce.loss(), got.loss(), ABS + REL * sce.loss());
        for (int n = 0; n < 9; n++) {
            for (int k = 0; k < 5; k++) {
                assertEquals(sce.gradLogits()[n][k], got.gradLogits()[n][k], ABS, "grad[" + n + "][" + k + "]");
            }
        }
    }

    /** The survey's chain, at equal margin: multiclass >= max <= lse, and softplus(u) >= max(0, u). */
    @Test
    void hingeFamilyOrdersAsTheDerivationSays() {
        Random random = new Random(307);
        float[][] z = logits(random, 20, 6, 2);
        int[] y = labels(random, 20, 6, 0, -100);
        double[] multi = check(new Case("multiclass_hinge:margin=0.5,reduction=none", z, y)
                .with(o -> o.margin(0.5).reduction("none"))).losses();
        double[] max = check(new Case("max_hinge:margin=0.5,reduction=none", z, y)
                .with(o -> o.margin(0.5).reduction("none"))).losses();
        double[] lse = check(new Case("lse_hinge:margin=0.5,reduction=none", z, y)
                .with(o -> o.margin(0.5).reduction("none"))).losses();
        double[] soft = check(new Case("softplus_lse:margin=0.5,reduction=none", z, y)
                .with(o -> o.margin(0.5).reduction("none"))).losses();
        for (int n = 0; n < 20; n++) {
            assertTrue(multi[n] >= max[n] - 1e-6, "multiclass >= max at " + n);
            assertTrue(lse[n] >= max[n] - 1e-6, "lse >= max at " + n);
            assertTrue(soft[n] >= lse[n] - 1e-6, "softplus >= lse at " + n);
        }
    }

    @Test
    void hingeLossesAcceptMaskedOtherClasses() {
        float[][] z = {{1f, MASK, 0.5f, 2f}, {MASK, 0.25f, MASK, MASK}, {3f, MASK, MASK, 2.5f}};
        int[] y = {0, 1, 3};
        check(new Case("multiclass_hinge:reduction=sum", z, y).with(o -> o.reduction("sum")));
        check(new Case("max_hinge:margin=2", z, y).with(o -> o.margin(2)));
        check(new Case("lse_hinge:margin=1", z, y).with(o -> o.margin(1)));
        check(new Case("softplus_lse:margin=0.5,scale=2", z, y).with(o -> o.margin(0.5).scale(2)));
        check(new Case("max_hinge:margin=1", new float[][] {{0f, MASK}}, new int[] {0}).with(o -> o.margin(1)));
    }

    @Test
    void hingeLossesOnLargeLogitsMatchTheReference() {
        Random random = new Random(308);
        float[][] z = quarterLogits(random, 6, 9, 20000);
        int[] y = labels(random, 6, 9, 0, -100);
        check(new Case("multiclass_hinge:reduction=sum", z, y).with(o -> o.reduction("sum")));
        check(new Case("max_hinge:reduction=sum", z, y).with(o -> o.reduction("sum")));
        check(new Case("lse_hinge:reduction=sum,margin=1", z, y).with(o -> o.reduction("sum").margin(1)));
        check(new Case("softplus_lse:reduction=sum,margin=1", z, y).with(o -> o.reduction("sum").margin(1)));
    }

    // ---------------------------------------------------------------- all six, the common rules

    static final List<String> ALL =
            List.of("focal", "distillation", "multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse");

    @Test
    void emptyBatchAndEveryLabelIgnoredGiveZero() {
        for (String name : ALL) {
            Case all = new Case(name, new float[][] {{1f, 2f, 3f}, {0f, -1f, 4f}}, new int[] {-100, -100});
            if (name.equals("distillation")) {
                all = new Case("distillation:alpha=0", all.logits, all.labels).with(o -> o.alpha(0))
                        .teacher(new float[][] {{3f, 2f, 1f}, {0f, 0f, 0f}});
            }
            Compute.Result got = check(all);
            assertEquals(0, got.loss(), name);
            Case empty = new Case(name, new float[0][], new int[0]);
            if (name.equals("distillation")) {
                empty.teacher(new float[0][]);
            }
            Compute.Result none = empty.compute();
            assertEquals(0, none.loss(), name + " on an empty batch");
            assertEquals(0, none.losses().length);
        }
    }

    /** Many random cases of every loss and parameter, each checked. */
    @Test
    void randomCasesOfEveryLossMatchTheReference() {
        List<String> errors = new ArrayList<>();
        for (Case c : randomCases(new Random(400), 180)) {
            for (String e : Mismatches.logits(c.expected(), c.compute(), ABS, REL)) {
                errors.add(c.spec + ": " + e);
            }
        }
        Mismatches.assertNone("random cases", errors);
    }

    /** {@code count} random cases, cycling through the six losses, with random parameters, masks and ignored labels. */
    public static List<Case> randomCases(Random random, int count) {
        List<Case> cases = new ArrayList<>();
        String[] reductions = {"mean", "sum", "none"};
        for (int i = 0; i < count; i++) {
            String name = ALL.get(i % ALL.size());
            int n = random.nextInt(12);
            int c = 2 + random.nextInt(9);
            String reduction = reductions[random.nextInt(3)];
            int ignore = random.nextBoolean() ? -100 : random.nextInt(c);
            double ignoredShare = random.nextInt(4) * 0.15;
            int[] y = labels(random, n, c, ignoredShare, ignore);
            boolean hinge = name.endsWith("hinge");
            float[][] z = hinge ? quarterLogits(random, n, c, 3) : logits(random, n, c, 0.1 + 3 * random.nextDouble());
            if (random.nextInt(3) == 0) {
                mask(random, z, y, 0.3);
            }
            Case k;
            StringBuilder spec = new StringBuilder(name).append(":reduction=").append(reduction)
                    .append(",ignore_index=").append(ignore);
            switch (name) {
                case "focal" -> {
                    double gamma = new double[] {0, 0.5, 1, 2, 5}[random.nextInt(5)];
                    double alpha = new double[] {1, 0.25, 2}[random.nextInt(3)];
                    spec.append(",gamma=").append(gamma).append(",alpha=").append(alpha);
                    k = new Case(spec.toString(), z, y).with(o -> o.gamma(gamma).alpha(alpha));
                    if (random.nextBoolean()) {
                        float[] w = new float[c];
                        for (int j = 0; j < c; j++) {
                            w[j] = random.nextInt(5) * 0.5f;
                        }
                        k.classWeights(w);
                    }
                }
                case "distillation" -> {
                    double alpha = new double[] {0, 0.3, 0.9, 1}[random.nextInt(4)];
                    double t = new double[] {0.5, 1, 4}[random.nextInt(3)];
                    spec.append(",alpha=").append(alpha).append(",temperature=").append(t);
                    float[][] teacher = near(random, z, 1);
                    for (int r = 0; r < n; r++) {
                        for (int j = 0; j < c; j++) {
                            if (z[r][j] == MASK) {
                                teacher[r][j] = MASK;   // the student's masks are the teacher's too
                            }
                        }
                    }
                    int[] labels = alpha == 1 && random.nextBoolean() ? null : y;
                    k = new Case(spec.toString(), z, labels).teacher(teacher).with(o -> o.alpha(alpha).temperature(t));
                }
                case "softplus_lse" -> {
                    double scale = new double[] {1, 0.5, 2, 4}[random.nextInt(4)];
                    double margin = new double[] {0, 0.25, 1, -0.5}[random.nextInt(4)];
                    spec.append(",scale=").append(scale).append(",margin=").append(margin);
                    k = new Case(spec.toString(), z, y).with(o -> o.scale(scale).margin(margin));
                }
                default -> {
                    double margin = new double[] {0, 0.5, 1, 2, -0.5}[random.nextInt(5)];
                    spec.append(",margin=").append(margin);
                    k = new Case(spec.toString(), z, y).with(o -> o.margin(margin));
                }
            }
            k.options.reduction(reduction).ignoreIndex(ignore);
            cases.add(k);
        }
        return cases;
    }
}
