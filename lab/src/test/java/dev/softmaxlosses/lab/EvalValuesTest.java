package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.spec.LossRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.StringJoiner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The numbers {@code softmax-lab eval} writes, read back with Jackson and compared with
 * {@link SoftmaxReference} (double precision, straight from {@code LOSSES.md}) at a float32 tolerance:
 * {@code |got - expected| <= 1e-6 + 1e-5 |expected|}.
 */
class EvalValuesTest {

    private static final String SCE = "softmax_cross_entropy";
    private static final double ABS = 1e-6;
    private static final double REL = 1e-5;

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- helpers

    /** Random float32 logits, written so that the JSON holds exactly those floats. */
    private static float[][] logits(Random random, int n, int c, double scale) {
        float[][] z = new float[n][c];
        for (float[] row : z) {
            for (int k = 0; k < c; k++) {
                row[k] = (float) (random.nextGaussian() * scale);
            }
        }
        return z;
    }

    private static String json(float[][] m) {
        StringJoiner rows = new StringJoiner(", ", "[", "]");
        for (float[] row : m) {
            rows.add(json(row));
        }
        return rows.toString();
    }

    private static String json(float[] v) {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        for (float x : v) {
            j.add(x == Float.NEGATIVE_INFINITY ? "-Infinity" : Float.toString(x));
        }
        return j.toString();
    }

    private static String json(int[] v) {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        for (int x : v) {
            j.add(Integer.toString(x));
        }
        return j.toString();
    }

    private static double[][] toDouble(float[][] m) {
        double[][] d = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            d[i] = new double[m[i].length];
            for (int k = 0; k < m[i].length; k++) {
                d[i][k] = m[i][k];
            }
        }
        return d;
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    private JsonNode eval(String spec, String caseJson) {
        Path in = Cli.write(dir, "case.json", caseJson);
        Cli.Run r = Cli.run("eval", "--loss", spec, "--input", in.toString());
        assertEquals(0, r.status(), () -> "status 0; stderr: " + r.err());
        return r.json();
    }

    /** Runs one case and compares every output field with the reference. */
    private void check(String spec, float[][] z, int[] labels, float[][] targets, float[] classWeights,
                       SoftmaxReference.Options options) {
        StringBuilder c = new StringBuilder("{\"logits\": ").append(json(z));
        if (labels != null) {
            c.append(", \"labels\": ").append(json(labels));
        }
        if (targets != null) {
            c.append(", \"targets\": ").append(json(targets));
        }
        if (classWeights != null) {
            c.append(", \"class_weights\": ").append(json(classWeights));
            options.classWeights(toDouble(classWeights));
        }
        c.append('}');
        JsonNode got = eval(spec, c.toString());
        SoftmaxReference.Expected want = SoftmaxReference.compute(toDouble(z), labels,
                targets == null ? null : toDouble(targets), options);
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
        if (!errors.isEmpty()) {
            fail(spec + ": " + errors.size() + " values off, first: " + String.join("; ", errors.subList(0, Math.min(5, errors.size()))));
        }
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

    private static int[] labels(Random random, int n, int c) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextInt(c);
        }
        return y;
    }

    private static SoftmaxReference.Options options() {
        return new SoftmaxReference.Options();
    }

    // ---------------------------------------------------------------- worked values

    @Test
    void readmeExampleGivesTheWorkedValues() {
        JsonNode r = eval(SCE, "{\"logits\": [[1.5, 1.2, 1.0], [1.0, 2.0, 3.0], [0.5, -Infinity, 2.5]],"
                + " \"labels\": [0, 2, 0], \"class_weights\": [1.0, 2.0, 1.0]}");
        double l0 = Math.log(Math.exp(1.5) + Math.exp(1.2) + Math.exp(1.0)) - 1.5;
        double l1 = Math.log(Math.exp(1.0) + Math.exp(2.0) + Math.exp(3.0)) - 3.0;
        double l2 = Math.log(Math.exp(0.5) + Math.exp(2.5)) - 0.5;
        assertEquals((l0 + l1 + l2) / 3, r.get("loss").doubleValue(), 1e-6);
        assertEquals(l2, r.get("losses").get(2).doubleValue(), 1e-6);
    }

    @Test
    void plainSoftmaxGradientIsProbabilitiesMinusOneHot() {
        JsonNode r = eval(SCE + ":reduction=sum", "{\"logits\": [[2, 1, 0.1]], \"labels\": [1]}");
        double[] p = Cli.doubles(r.get("probabilities").get(0));
        double[] g = Cli.doubles(r.get("grad_logits").get(0));
        assertEquals(p[0], g[0], 1e-7);
        assertEquals(p[1] - 1, g[1], 1e-7);
        assertEquals(p[2], g[2], 1e-7);
    }

    // ---------------------------------------------------------------- every option against the reference

    @Test
    void plainLossMatchesTheReference() {
        Random random = new Random(1);
        float[][] z = logits(random, 8, 5, 3);
        check(SCE, z, labels(random, 8, 5), null, null, options());
    }

    @Test
    void temperatureMatchesTheReference() {
        Random random = new Random(2);
        float[][] z = logits(random, 6, 7, 4);
        check(SCE + ":temperature=2.5", z, labels(random, 6, 7), null, null, options().temperature(2.5));
        check(SCE + ":temperature=0.25", z, labels(random, 6, 7), null, null, options().temperature(0.25));
    }

    @Test
    void labelSmoothingMatchesTheReference() {
        Random random = new Random(3);
        float[][] z = logits(random, 5, 9, 2);
        int[] y = labels(random, 5, 9);
        check(SCE + ":label_smoothing=0.1", z, y, null, null, options().labelSmoothing(0.1));
        check(SCE + ":label_smoothing=0.75,reduction=sum", z, y, null, null, options().labelSmoothing(0.75).reduction("sum"));
    }

    @Test
    void classWeightsMatchTheReferenceWithTheWeightedMean() {
        Random random = new Random(4);
        float[][] z = logits(random, 10, 4, 2);
        float[] w = {0.5f, 2f, 0f, 1.25f};
        check(SCE, z, labels(random, 10, 4), null, w, options());
    }

    @Test
    void classWeightsWithLabelSmoothingAndTemperatureMatchTheReference() {
        Random random = new Random(5);
        float[][] z = logits(random, 7, 6, 3);
        float[] w = {1f, 0.3f, 2.5f, 0f, 1f, 4f};
        check(SCE + ":label_smoothing=0.2,temperature=1.7", z, labels(random, 7, 6), null, w,
                options().labelSmoothing(0.2).temperature(1.7));
    }

    @Test
    void batchClassBalanceMatchesTheReference() {
        Random random = new Random(6);
        float[][] z = logits(random, 12, 3, 2);
        int[] y = {0, 0, 0, 0, 0, 0, 1, 1, 1, 2, -100, 0};
        check(SCE + ":class_balance=batch", z, y, null, null, options().balanceBatch());
        check(SCE + ":class_balance=batch,reduction=sum", z, y, null, new float[] {1f, 2f, 0.5f},
                options().balanceBatch().reduction("sum"));
    }

    @Test
    void softTargetsMatchTheReferenceWithMeanOverN() {
        Random random = new Random(7);
        float[][] z = logits(random, 6, 5, 2);
        float[][] t = new float[6][5];
        for (float[] row : t) {
            for (int k = 0; k < 5; k++) {
                row[k] = random.nextBoolean() ? random.nextFloat() : 0f; // need not sum to 1
            }
        }
        check(SCE, z, null, t, null, options());
        check(SCE + ":label_smoothing=0.3,temperature=0.5", z, null, t, new float[] {1f, 2f, 0f, 0.5f, 1f},
                options().labelSmoothing(0.3).temperature(0.5));
    }

    @Test
    void softTargetsWithMaskedUntargetedClassMatchTheReference() {
        float[][] z = {{1f, Float.NEGATIVE_INFINITY, 2f}, {0.5f, -1f, Float.NEGATIVE_INFINITY}};
        float[][] t = {{0.25f, 0f, 0.75f}, {1f, 0f, 0f}};
        check(SCE + ":reduction=sum", z, null, t, null, options().reduction("sum"));
    }

    @Test
    void ignoredSamplesMatchTheReference() {
        Random random = new Random(8);
        float[][] z = logits(random, 9, 4, 3);
        int[] y = {0, -100, 3, 2, -100, 1, 1, -100, 0};
        check(SCE, z, y, null, null, options());
        int[] y3 = {0, 3, 3, 2, 3, 1, 1, 3, 0};
        check(SCE + ":ignore_index=3,label_smoothing=0.1", z, y3, null, new float[] {1f, 2f, 3f, 4f},
                options().ignoreIndex(3).labelSmoothing(0.1));
    }

    @Test
    void everyReductionMatchesTheReference() {
        Random random = new Random(9);
        float[][] z = logits(random, 5, 6, 2);
        int[] y = labels(random, 5, 6);
        for (String reduction : List.of("mean", "sum", "none")) {
            check(SCE + ":reduction=" + reduction, z, y, null, new float[] {1f, 1f, 2f, 1f, 0.5f, 1f},
                    options().reduction(reduction));
        }
    }

    @Test
    void maskedLogitsMatchTheReference() {
        float[][] z = {{1f, Float.NEGATIVE_INFINITY, 3f, 0.5f}, {Float.NEGATIVE_INFINITY, 2f, -1f, Float.NEGATIVE_INFINITY}};
        check(SCE, z, new int[] {0, 2}, null, null, options());
        check(SCE + ":temperature=3", z, new int[] {2, 1}, null, new float[] {1f, 2f, 3f, 4f}, options().temperature(3));
    }

    @Test
    void oneClassGivesLossZeroAndGradientZero() {
        check(SCE, new float[][] {{5f}, {-3f}}, new int[] {0, 0}, null, null, options());
    }

    @Test
    void largeLogitsMatchTheReferenceWithoutOverflow() {
        Random random = new Random(10);
        float[][] z = logits(random, 6, 20, 1000);
        z[0][3] = 30000f;
        z[1][0] = -30000f;
        check(SCE, z, labels(random, 6, 20), null, null, options());
        check(SCE + ":reduction=none", z, labels(random, 6, 20), null, new float[20], options().reduction("none"));
    }

    @Test
    void wideRowsMatchTheReference() {
        Random random = new Random(11);
        float[][] z = logits(random, 3, 1000, 5);
        check(SCE + ":label_smoothing=0.1", z, labels(random, 3, 1000), null, null, options().labelSmoothing(0.1));
    }

    @Test
    void manyRowsMatchTheReference() {
        Random random = new Random(12);
        float[][] z = logits(random, 3000, 10, 2);
        int[] y = labels(random, 3000, 10);
        y[17] = -100;
        check(SCE, z, y, null, null, options());
    }

    /**
     * Label smoothing on logits far from 0: the smoothing term {@code sum_c w_c z'_c} cancels against
     * {@code C max}, so it must be accumulated in double, as {@code LOSSES.md} says. Float partial sums
     * (as the SIMD kernels once kept) put the first case at 2.3727736 instead of 2.3716750.
     */
    @Test
    void labelSmoothingOnLargeLogitsMatchesTheReference() {
        float[][] z = {{30000.1f, 29999.3f, 30000.7f, 29998.9f, 30001.3f, 29999.7f, 30000.3f, 29999.1f}};
        check(SCE + ":label_smoothing=0.9", z, new int[] {0}, null, null, options().labelSmoothing(0.9));
        Random random = new Random(13);
        float[][] big = logits(random, 4, 36, 1);
        for (float[] row : big) {
            for (int k = 0; k < row.length; k++) {
                row[k] += 24000f;
            }
        }
        check(SCE + ":label_smoothing=0.5", big, labels(random, 4, 36), null, null, options().labelSmoothing(0.5));
    }

    // ---------------------------------------------------------------- the round trip of floats

    /**
     * Every number written is the float the library computed: read back as a double and narrowed to
     * float, it is bit for bit the library's value (the shortest repr of a float is enough for that).
     */
    @Test
    void floatsSurviveTheRoundTripExactly() {
        Random random = new Random(14);
        float[][] z = logits(random, 20, 7, 10);
        z[3][2] = Float.NEGATIVE_INFINITY;
        z[5][0] = 1.0e-30f;
        z[6][1] = Float.MIN_VALUE;
        int[] y = labels(random, 20, 7);
        y[3] = 0;
        String spec = SCE + ":temperature=0.7,reduction=sum";
        JsonNode got = eval(spec, "{\"logits\": " + json(z) + ", \"labels\": " + json(y) + "}");

        LossResult r = LossResult.forLogits(20, 7);
        float[] flat = new float[140];
        for (int i = 0; i < 20; i++) {
            System.arraycopy(z[i], 0, flat, i * 7, 7);
        }
        ((LogitLoss) LossRegistry.create(spec)).compute(LossInput.of(new FloatMatrix(flat, 20, 7), y), r);

        assertEquals(r.loss(), got.get("loss").doubleValue(), "the reduced loss is a double, written exactly");
        assertBits("losses", r.losses(), got.get("losses"));
        assertBits("logsumexp", r.logSumExp(), got.get("logsumexp"));
        for (String name : List.of("logits", "probabilities", "grad_logits")) {
            float[] want = switch (name) {
                case "logits" -> r.logits();
                case "probabilities" -> r.probabilities();
                default -> r.gradLogits();
            };
            JsonNode rows = got.get(name);
            for (int i = 0; i < 20; i++) {
                float[] row = new float[7];
                System.arraycopy(want, i * 7, row, 0, 7);
                assertBits(name + "[" + i + "]", row, rows.get(i));
            }
        }
    }

    @Test
    void inputLogitsComeBackUnchangedAtTemperatureOne() {
        Random random = new Random(15);
        float[][] z = logits(random, 10, 10, 1e4);
        z[0][0] = 3.4028235e38f;
        z[0][1] = -3.4028235e38f;
        z[1][1] = 1.17549435e-38f;
        JsonNode got = eval(SCE, "{\"logits\": " + json(z) + ", \"labels\": " + json(labels(random, 10, 10)) + "}");
        for (int i = 0; i < 10; i++) {
            assertBits("logits[" + i + "]", z[i], got.get("logits").get(i));
        }
    }

    private static void assertBits(String name, float[] want, JsonNode got) {
        assertEquals(want.length, got.size(), name);
        for (int i = 0; i < want.length; i++) {
            JsonNode v = got.get(i);
            assertTrue(v.isNumber(), name + "[" + i + "] is a number");
            float back = (float) v.doubleValue();
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(back),
                    name + "[" + i + "]: wrote " + v + " for " + want[i]);
        }
    }
}
