package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.StringJoiner;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code focal}, {@code distillation}, {@code multiclass_hinge}, {@code max_hinge}, {@code lse_hinge}
 * and {@code softplus_lse} through {@code softmax-lab eval}: every output field compared with
 * {@link LogitLossesReference} (double precision, straight from {@code LOSSES.md}) at a float32
 * tolerance {@code |got - expected| <= 1e-6 + 1e-5 |expected|}, and each loss's error paths (status 2,
 * one {@code error:} line naming the problem, no output file).
 */
class EvalLogitLossesTest {

    private static final double ABS = 1e-6;
    private static final double REL = 1e-5;
    private static final float MASK = Float.NEGATIVE_INFINITY;

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- a case and its expected values

    /** One eval case: the spec, its arrays, and the reference options that mean the same. */
    private static final class Case {
        final String spec;
        final float[][] logits;
        final int[] labels;
        float[][] teacher;
        float[] classWeights;
        final LogitLossesReference.Options options = new LogitLossesReference.Options();

        Case(String spec, float[][] logits, int[] labels) {
            this.spec = spec;
            this.logits = logits;
            this.labels = labels;
        }

        Case teacher(float[][] t) { teacher = t; return this; }

        Case classWeights(float... w) {
            classWeights = w;
            options.classWeights(toDouble(w));
            return this;
        }

        Case with(java.util.function.Consumer<LogitLossesReference.Options> set) {
            set.accept(options);
            return this;
        }

        String name() {
            int colon = spec.indexOf(':');
            return colon < 0 ? spec : spec.substring(0, colon);
        }

        String json(String id) {
            StringBuilder c = new StringBuilder("{");
            if (id != null) {
                c.append("\"id\": ").append(id).append(", \"loss\": \"").append(spec).append("\", ");
            }
            c.append("\"logits\": ").append(EvalLogitLossesTest.json(logits));
            if (labels != null) {
                c.append(", \"labels\": ").append(EvalLogitLossesTest.json(labels));
            }
            if (teacher != null) {
                c.append(", \"teacher_logits\": ").append(EvalLogitLossesTest.json(teacher));
            }
            if (classWeights != null) {
                c.append(", \"class_weights\": ").append(EvalLogitLossesTest.json(classWeights));
            }
            return c.append('}').toString();
        }

        SoftmaxReference.Expected expected() {
            double[][] z = toDouble(logits);
            return switch (name()) {
                case "focal" -> LogitLossesReference.focal(z, labels, options);
                case "distillation" -> LogitLossesReference.distillation(z, toDouble(teacher), labels, options);
                case "multiclass_hinge" -> LogitLossesReference.multiclassHinge(z, labels, options);
                case "max_hinge" -> LogitLossesReference.maxHinge(z, labels, options);
                case "lse_hinge" -> LogitLossesReference.lseHinge(z, labels, options);
                case "softplus_lse" -> LogitLossesReference.softplusLse(z, labels, options);
                default -> throw new IllegalArgumentException(spec);
            };
        }
    }

    // ---------------------------------------------------------------- helpers

    private static float[][] logits(Random random, int n, int c, double scale) {
        float[][] z = new float[n][c];
        for (float[] row : z) {
            for (int k = 0; k < c; k++) {
                row[k] = (float) (random.nextGaussian() * scale);
            }
        }
        return z;
    }

    /** Logits on a grid of quarters, so that hinge arguments are exact and either 0 or at least 1/4 away. */
    private static float[][] quarterLogits(Random random, int n, int c, int range) {
        float[][] z = new float[n][c];
        for (float[] row : z) {
            for (int k = 0; k < c; k++) {
                row[k] = (random.nextInt(8 * range + 1) - 4 * range) / 4f;
            }
        }
        return z;
    }

    private static int[] labels(Random random, int n, int c, double ignoredShare, int ignoreIndex) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextDouble() < ignoredShare ? ignoreIndex : random.nextInt(c);
        }
        return y;
    }

    /** Masks each non-target class with probability {@code share}, keeping every row some class. */
    private static void mask(Random random, float[][] z, int[] y, double share) {
        for (int n = 0; n < z.length; n++) {
            for (int k = 0; k < z[n].length; k++) {
                boolean target = y != null && y[n] == k;
                if (!target && random.nextDouble() < share) {
                    z[n][k] = MASK;
                }
            }
            boolean any = false;
            for (float v : z[n]) {
                any |= v != MASK;
            }
            if (!any) {
                z[n][0] = 0.5f;
            }
        }
    }

    static String json(float[][] m) {
        StringJoiner rows = new StringJoiner(", ", "[", "]");
        for (float[] row : m) {
            rows.add(json(row));
        }
        return rows.toString();
    }

    static String json(float[] v) {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        for (float x : v) {
            j.add(x == MASK ? "-Infinity" : Float.toString(x));
        }
        return j.toString();
    }

    static String json(int[] v) {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        for (int x : v) {
            j.add(Integer.toString(x));
        }
        return j.toString();
    }

    static double[][] toDouble(float[][] m) {
        if (m == null) {
            return null;
        }
        double[][] d = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            d[i] = toDouble(m[i]);
        }
        return d;
    }

    static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    private JsonNode eval(Case c) {
        Path in = Cli.write(dir, "case.json", c.json(null));
        Cli.Run r = Cli.run("eval", "--loss", c.spec, "--input", in.toString());
        assertEquals(0, r.status(), () -> c.spec + ": status 0; stderr: " + r.err());
        assertEquals("", r.err(), "nothing on stderr");
        return r.json();
    }

    /** Runs one case and compares every output field with the reference. */
    private JsonNode check(Case c) {
        JsonNode got = eval(c);
        List<String> errors = compare(c, got);
        if (!errors.isEmpty()) {
            fail(c.spec + ": " + errors.size() + " values off, first: " + String.join("; ", errors.subList(0, Math.min(5, errors.size()))));
        }
        return got;
    }

    private static List<String> compare(Case c, JsonNode got) {
        SoftmaxReference.Expected want = c.expected();
        List<String> errors = new ArrayList<>();
        if (want.loss() == null) {
            if (!got.get("loss").isNull()) {
                errors.add("loss: expected null, got " + got.get("loss"));
            }
        } else {
            compare(errors, "loss", want.loss(), got.get("loss").doubleValue());
        }
        compare(errors, "losses", want.losses(), Cli.doubles(got.get("losses")));
        compare(errors, "logits", want.logits(), Cli.matrix(got.get("logits")));
        compare(errors, "probabilities", want.probabilities(), Cli.matrix(got.get("probabilities")));
        compare(errors, "logsumexp", want.logSumExp(), Cli.doubles(got.get("logsumexp")));
        compare(errors, "grad_logits", want.gradLogits(), Cli.matrix(got.get("grad_logits")));
        return errors;
    }

    private static void compare(List<String> errors, String where, double want, double got) {
        boolean same = want == got || Math.abs(got - want) <= ABS + REL * Math.abs(want);
        if (!same) {
            errors.add(where + ": expected " + want + ", got " + got);
        }
    }

    private static void compare(List<String> errors, String name, double[] want, double[] got) {
        if (want.length != got.length) {
            errors.add(name + ": expected " + want.length + " values, got " + got.length);
            return;
        }
        for (int i = 0; i < want.length; i++) {
            compare(errors, name + "[" + i + "]", want[i], got[i]);
        }
    }

    private static void compare(List<String> errors, String name, double[][] want, double[][] got) {
        if (want.length != got.length) {
            errors.add(name + ": expected " + want.length + " rows, got " + got.length);
            return;
        }
        for (int i = 0; i < want.length; i++) {
            compare(errors, name + "[" + i + "]", want[i], got[i]);
        }
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
        JsonNode focal = check(new Case("focal:gamma=0,alpha=1", z, y).with(o -> o.gamma(0).alpha(1)));
        SoftmaxReference.Expected sce = SoftmaxReference.compute(toDouble(z), y, null, new SoftmaxReference.Options());
        assertEquals(sce.loss(), focal.get("loss").doubleValue(), ABS + REL * sce.loss());
        double[][] grad = Cli.matrix(focal.get("grad_logits"));
        for (int n = 0; n < 8; n++) {
            for (int k = 0; k < 5; k++) {
                assertEquals(sce.gradLogits()[n][k], grad[n][k], ABS, "grad[" + n + "][" + k + "]");
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
                JsonNode got = check(c);
                SoftmaxReference.Expected want = c.expected();
                for (int n = 0; n < 2; n++) {
                    if (want.losses()[n] < 1e-30) {
                        continue;   // below the normal floats: nothing to assert but the tolerance
                    }
                    double loss = got.get("losses").get(n).doubleValue();
                    assertTrue(loss > 0, "loss " + loss + " > 0 at gamma " + gamma + ", gap " + gap);
                    assertEquals(want.losses()[n], loss, 1e-3 * want.losses()[n], "relative, at gamma " + gamma + ", gap " + gap);
                    assertTrue(got.get("grad_logits").get(n).get(1).doubleValue() < 0, "d/dz_y < 0");
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
            JsonNode got = eval(c);
            SoftmaxReference.Expected want = c.expected();
            double loss = got.get("losses").get(0).doubleValue();
            assertEquals(want.losses()[0], loss, 1e-4 * want.losses()[0],
                    "gamma " + gamma + ": loss " + loss + ", expected " + want.losses()[0]);
            double gradY = got.get("grad_logits").get(0).get(1).doubleValue();
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

    private static float[][] near(Random random, float[][] z, double noise) {
        float[][] t = new float[z.length][];
        for (int n = 0; n < z.length; n++) {
            t[n] = z[n].clone();
            for (int k = 0; k < t[n].length; k++) {
                t[n][k] += (float) (random.nextGaussian() * noise);
            }
        }
        return t;
    }

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
        JsonNode got = check(c);
        double sum = 0;
        for (JsonNode l : got.get("losses")) {
            sum += l.doubleValue();
            assertTrue(l.doubleValue() > 0, "every sample, ignored or not, has its soft term");
        }
        assertEquals(sum / 8, got.get("loss").doubleValue(), 1e-6);
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
        JsonNode got = check(new Case("distillation:alpha=1,temperature=4", z, null).teacher(near(random, z, 0))
                .with(o -> o.alpha(1).temperature(4)));
        assertEquals(0, got.get("loss").doubleValue(), 1e-6);
        for (JsonNode row : got.get("grad_logits")) {
            for (JsonNode g : row) {
                assertEquals(0, g.doubleValue(), 1e-6);
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
        JsonNode multi = check(new Case("multiclass_hinge:reduction=sum", z, new int[] {2}).with(o -> o.reduction("sum")));
        assertEquals(0, multi.get("loss").doubleValue());
        JsonNode max = check(new Case("max_hinge:reduction=sum", z, new int[] {2}).with(o -> o.reduction("sum")));
        assertEquals(0, max.get("loss").doubleValue());
        for (JsonNode g : max.get("grad_logits").get(0)) {
            assertEquals(0, g.doubleValue());
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
        JsonNode got = check(new Case("max_hinge:reduction=sum", z, new int[] {1, 0}).with(o -> o.reduction("sum")));
        double[][] g = Cli.matrix(got.get("grad_logits"));
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
        JsonNode got = check(new Case("softplus_lse", z, y));
        SoftmaxReference.Expected sce = SoftmaxReference.compute(toDouble(z), y, null, new SoftmaxReference.Options());
        assertEquals(sce.loss(), got.get("loss").doubleValue(), ABS + REL * sce.loss());
        double[][] grad = Cli.matrix(got.get("grad_logits"));
        for (int n = 0; n < 9; n++) {
            for (int k = 0; k < 5; k++) {
                assertEquals(sce.gradLogits()[n][k], grad[n][k], ABS, "grad[" + n + "][" + k + "]");
            }
        }
    }

    /** The survey's chain, at equal margin: multiclass >= max <= lse, and softplus(u) >= max(0, u). */
    @Test
    void hingeFamilyOrdersAsTheDerivationSays() {
        Random random = new Random(307);
        float[][] z = logits(random, 20, 6, 2);
        int[] y = labels(random, 20, 6, 0, -100);
        double[] multi = Cli.doubles(check(new Case("multiclass_hinge:margin=0.5,reduction=none", z, y)
                .with(o -> o.margin(0.5).reduction("none"))).get("losses"));
        double[] max = Cli.doubles(check(new Case("max_hinge:margin=0.5,reduction=none", z, y)
                .with(o -> o.margin(0.5).reduction("none"))).get("losses"));
        double[] lse = Cli.doubles(check(new Case("lse_hinge:margin=0.5,reduction=none", z, y)
                .with(o -> o.margin(0.5).reduction("none"))).get("losses"));
        double[] soft = Cli.doubles(check(new Case("softplus_lse:margin=0.5,reduction=none", z, y)
                .with(o -> o.margin(0.5).reduction("none"))).get("losses"));
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

    private static final List<String> ALL =
            List.of("focal", "distillation", "multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse");

    @Test
    void emptyBatchAndEveryLabelIgnoredGiveZero() {
        for (String name : ALL) {
            Case all = new Case(name, new float[][] {{1f, 2f, 3f}, {0f, -1f, 4f}}, new int[] {-100, -100});
            if (name.equals("distillation")) {
                all = new Case("distillation:alpha=0", all.logits, all.labels).with(o -> o.alpha(0))
                        .teacher(new float[][] {{3f, 2f, 1f}, {0f, 0f, 0f}});
            }
            JsonNode got = check(all);
            assertEquals(0, got.get("loss").doubleValue(), name);
            Path in = Cli.write(dir, "empty.json", name.equals("distillation")
                    ? "{\"logits\": [], \"teacher_logits\": [], \"labels\": []}"
                    : "{\"logits\": [], \"labels\": []}");
            Cli.Run r = Cli.run("eval", "--loss", name, "--input", in.toString());
            assertEquals(0, r.status(), () -> name + ": " + r.err());
            assertEquals(0, r.json().get("loss").doubleValue(), name + " on an empty batch");
            assertEquals(0, r.json().get("losses").size());
        }
    }

    /** Many random cases of every loss and parameter, one {@code .jsonl} run, each line checked. */
    @Test
    void randomCasesOfEveryLossMatchTheReferenceThroughJsonl() {
        Random random = new Random(400);
        List<Case> cases = new ArrayList<>();
        String[] reductions = {"mean", "sum", "none"};
        for (int i = 0; i < 180; i++) {
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
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < cases.size(); i++) {
            lines.append(cases.get(i).json(Integer.toString(i))).append('\n');
        }
        Path in = Cli.write(dir, "cases.jsonl", lines.toString());
        Path out = dir.resolve("results.jsonl");
        Cli.Run r = Cli.run("eval", "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.status(), r::err);
        String[] results = Cli.read(out).split("\n");
        assertEquals(cases.size(), results.length, "one output line per case");
        List<String> errors = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            JsonNode got = Cli.parse(results[i]);
            assertEquals(i, got.get("id").intValue(), "lines in order");
            for (String e : compare(cases.get(i), got)) {
                errors.add(cases.get(i).spec + " (line " + i + "): " + e);
            }
        }
        if (!errors.isEmpty()) {
            fail(errors.size() + " values off, first: " + String.join("; ", errors.subList(0, Math.min(5, errors.size()))));
        }
    }

    // ---------------------------------------------------------------- error paths

    private static final String PREVIOUS = "previous content\n";

    /**
     * The case is refused: status 2, nothing on stdout, one {@code error:} line containing every
     * fragment, no output file written, an existing one left as it was.
     */
    private void rejects(String spec, String caseJson, String... fragments) {
        Path in = Cli.write(dir, "bad.json", caseJson);
        Path fresh = dir.resolve("fresh-output.json");
        Cli.Run r = Cli.run("eval", "--loss", spec, "--input", in.toString(), "--output", fresh.toString());
        String err = r.err();
        assertEquals(SoftmaxLab.EXIT_BAD_INPUT, r.status(), () -> spec + ": status 2; stderr: " + err);
        assertEquals("", r.out(), "nothing on stdout");
        String line = err.strip();
        assertTrue(err.endsWith("\n"), () -> "a whole line: " + err);
        assertFalse(line.contains("\n"), () -> "one stderr line: " + err);
        assertTrue(line.startsWith("error: "), () -> "begins with 'error: ': " + line);
        assertFalse(line.contains("Exception"), () -> "no Java exception names: " + line);
        for (String f : fragments) {
            assertTrue(line.contains(f), () -> "the error names '" + f + "': " + line);
        }
        assertFalse(Files.exists(fresh), "no output file on error");

        Path existing = Cli.write(dir, "existing-output.json", PREVIOUS);
        Cli.Run again = Cli.run("eval", "--loss", spec, "--input", in.toString(), "--output", existing.toString());
        assertEquals(SoftmaxLab.EXIT_BAD_INPUT, again.status());
        assertEquals(line, again.err().strip(), "the same error over an existing file");
        assertEquals(PREVIOUS, Cli.read(existing), "an existing output file is left untouched");
    }

    private static final String THREE = "\"logits\": [[1, 2, 3], [0.5, -1, 2]]";

    @Test
    void distillationWithoutTeacherLogitsIsRefused() {
        rejects("distillation", "{" + THREE + ", \"labels\": [0, 2]}", "distillation", "teacher_logits");
    }

    @Test
    void distillationBelowAlphaOneWithoutLabelsIsRefused() {
        String c = "{" + THREE + ", \"teacher_logits\": [[1, 2, 3], [0, 0, 0]]}";
        rejects("distillation", c, "distillation", "labels");
        rejects("distillation:alpha=0.3", c, "distillation", "labels");
        rejects("distillation:alpha=0", c, "distillation", "labels");
    }

    @Test
    void teacherLogitsOfAnotherShapeAreRefused() {
        rejects("distillation", "{" + THREE + ", \"teacher_logits\": [[1, 2], [0, 0]], \"labels\": [0, 2]}",
                "teacher_logits", "2x2", "2x3");
        rejects("distillation", "{" + THREE + ", \"teacher_logits\": [[1, 2, 3]], \"labels\": [0, 2]}",
                "teacher_logits", "1x3", "2x3");
    }

    @Test
    void classWeightsAreRefusedByTheHingeLossesAndDistillation() {
        for (String name : List.of("multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse")) {
            rejects(name, "{" + THREE + ", \"labels\": [0, 2], \"class_weights\": [1, 1, 2]}", name, "class_weights");
        }
        rejects("distillation", "{" + THREE + ", \"teacher_logits\": [[1, 2, 3], [0, 0, 0]], \"labels\": [0, 2],"
                + " \"class_weights\": [1, 1, 2]}", "distillation", "class_weights");
    }

    @Test
    void oneClassIsRefusedByTheHingeLosses() {
        for (String name : List.of("multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse")) {
            rejects(name, "{\"logits\": [[1], [2]], \"labels\": [0, 0]}", name, "2 classes", "1");
        }
    }

    @Test
    void badParametersAreRefused() {
        String labelled = "{" + THREE + ", \"labels\": [0, 2]}";
        String distilled = "{" + THREE + ", \"teacher_logits\": [[1, 2, 3], [0, 0, 0]], \"labels\": [0, 2]}";
        rejects("focal:gamma=-1", labelled, "gamma", ">= 0", "-1");
        rejects("focal:alpha=0", labelled, "alpha", "> 0", "0");
        rejects("focal:alpha=-2", labelled, "alpha", "> 0", "-2");
        rejects("focal:gama=2", labelled, "unknown parameter 'gama'", "gamma");
        rejects("distillation:alpha=1.5", distilled, "alpha", "[0, 1]", "1.5");
        rejects("distillation:alpha=-0.1", distilled, "alpha", "[0, 1]", "-0.1");
        rejects("distillation:temperature=0", distilled, "temperature", "> 0");
        rejects("distillation:temperature=-4", distilled, "temperature", "> 0", "-4");
        rejects("softplus_lse:scale=0", labelled, "scale", "> 0", "0");
        rejects("softplus_lse:scale=-2", labelled, "scale", "> 0", "-2");
        rejects("multiclass_hinge:margin=Infinity", labelled, "margin", "finite");
        rejects("max_hinge:margin=abc", labelled, "margin", "abc");
        rejects("lse_hinge:scale=2", labelled, "unknown parameter 'scale'");
    }

    @Test
    void studentMaskedWhereTheTeacherIsNotIsRefused() {
        rejects("distillation", "{\"logits\": [[1, 2, 3], [0.5, -Infinity, 2]], \"teacher_logits\": [[1, 2, 3], [0, 0, 0]],"
                + " \"labels\": [0, 2]}", "logits[1][1]", "-Infinity", "teacher_logits[1][1]");
    }

    @Test
    void nonFiniteTeacherLogitsAreRefused() {
        rejects("distillation", "{" + THREE + ", \"teacher_logits\": [[1, 2, 3], [0, NaN, 0]], \"labels\": [0, 2]}",
                "teacher_logits[1][1]", "NaN");
        rejects("distillation", "{" + THREE + ", \"teacher_logits\": [[1, 2, 3], [0, 0, Infinity]], \"labels\": [0, 2]}",
                "teacher_logits[1][2]", "Infinity");
    }

    @Test
    void maskedTargetAndBadLabelsAreRefused() {
        rejects("focal", "{\"logits\": [[1, 2, 3], [-Infinity, 0, 1]], \"labels\": [0, 0]}", "logits[1][0]", "target");
        for (String name : List.of("multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse")) {
            rejects(name, "{\"logits\": [[1, 2, 3], [-Infinity, 0, 1]], \"labels\": [0, 0]}", "logits[1][0]", "target");
            rejects(name, "{" + THREE + ", \"labels\": [0, 3]}", "labels[1]", "3");
            rejects(name, "{" + THREE + "}", name, "labels");
        }
        rejects("focal", "{" + THREE + ", \"labels\": [0, 2], \"class_weights\": [1, 2]}", "class_weights", "3");
    }

    @Test
    void teacherLogitsAreRefusedByTheOtherLosses() {
        for (String name : List.of("focal", "multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse")) {
            rejects(name, "{" + THREE + ", \"labels\": [0, 2], \"teacher_logits\": [[1, 2, 3], [0, 0, 0]]}",
                    name, "teacher_logits");
        }
    }

    @Test
    void aBadLineOfAJsonlRunFailsAloneWithStatusOne() {
        String lines = "{\"id\": 1, \"loss\": \"focal\", " + THREE + ", \"labels\": [0, 2]}\n"
                + "{\"id\": 2, \"loss\": \"distillation\", " + THREE + ", \"labels\": [0, 2]}\n"
                + "{\"id\": 3, \"loss\": \"max_hinge\", " + THREE + ", \"labels\": [0, 2]}\n";
        Path in = Cli.write(dir, "mixed.jsonl", lines);
        Cli.Run r = Cli.run("eval", "--input", in.toString());
        assertEquals(1, r.status(), r::err);
        String[] out = r.out().split("\n");
        assertEquals(3, out.length);
        assertTrue(Cli.parse(out[0]).has("loss"));
        JsonNode bad = Cli.parse(out[1]);
        assertEquals(2, bad.get("id").intValue());
        assertTrue(bad.get("error").asText().contains("teacher_logits"), bad::toString);
        assertTrue(Cli.parse(out[2]).has("loss"));
    }
}
