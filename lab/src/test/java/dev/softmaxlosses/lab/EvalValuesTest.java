package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.softmaxlosses.testing.Compute;
import dev.softmaxlosses.testing.Expected;
import dev.softmaxlosses.testing.Mismatches;
import dev.softmaxlosses.testing.ReferenceCrossEntropy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static dev.softmaxlosses.testing.ContractData.logits;
import static dev.softmaxlosses.testing.ContractData.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The numbers {@code softmax-lab eval} writes for {@code softmax_cross_entropy}, read back with Jackson:
 * the README's worked values, a few cases that carry every array and option compared with core's
 * {@link ReferenceCrossEntropy} at a float32 tolerance {@code |got - expected| <= 1e-6 + 1e-5 |expected|}
 * (the mapping of the JSON), and the round trip of floats. The loss's contract itself is tested in
 * core ({@code SoftmaxCrossEntropyContractTest}), on the scalar and the SIMD kernels.
 */
class EvalValuesTest {

    private static final String SCE = "softmax_cross_entropy";
    private static final double ABS = 1e-6;
    private static final double REL = 1e-5;

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- helpers

    private JsonNode eval(String spec, String caseJson) {
        Path in = Cli.write(dir, "case.json", caseJson);
        Cli.Run r = Cli.run("eval", "--loss", spec, "--input", in.toString());
        assertEquals(0, r.status(), () -> "status 0; stderr: " + r.err());
        return r.json();
    }

    /** Runs one case and compares every output field with the reference. */
    private void check(String spec, float[][] z, int[] labels, float[][] targets, float[] classWeights,
                       ReferenceCrossEntropy.Options options) {
        StringBuilder c = new StringBuilder("{\"logits\": ").append(Cli.json(z));
        if (labels != null) {
            c.append(", \"labels\": ").append(Cli.json(labels));
        }
        if (targets != null) {
            c.append(", \"targets\": ").append(Cli.json(targets));
        }
        if (classWeights != null) {
            c.append(", \"class_weights\": ").append(Cli.json(classWeights));
            options.classWeights(toDouble(classWeights));
        }
        c.append('}');
        JsonNode got = eval(spec, c.toString());
        Expected want = ReferenceCrossEntropy.compute(toDouble(z), labels, toDouble(targets), options);
        Mismatches.assertNone(spec, Mismatches.logits(want, Cli.result(got), ABS, REL));
    }

    private static int[] labels(Random random, int n, int c) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextInt(c);
        }
        return y;
    }

    private static ReferenceCrossEntropy.Options options() {
        return new ReferenceCrossEntropy.Options();
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

    // ---------------------------------------------------------------- every array and option reaches the loss

    @Test
    void hardLabelsWithEveryOptionMatchTheReference() {
        Random random = new Random(5);
        float[][] z = logits(random, 7, 6, 3);
        int[] y = labels(random, 7, 6);
        y[2] = 3;
        float[] w = {1f, 0.3f, 2.5f, 0f, 1f, 4f};
        check(SCE + ":label_smoothing=0.2,temperature=1.7,ignore_index=3", z, y, null, w,
                options().labelSmoothing(0.2).temperature(1.7).ignoreIndex(3));
        check(SCE + ":class_balance=batch,reduction=none", z, y, null, null, options().balanceBatch().reduction("none"));
        check(SCE + ":reduction=sum", new float[][] {{1f, Float.NEGATIVE_INFINITY, 3f}, {0.5f, 2f, -1f}}, new int[] {0, 1},
                null, null, options().reduction("sum"));
    }

    @Test
    void softTargetsMatchTheReference() {
        Random random = new Random(7);
        float[][] z = logits(random, 6, 5, 2);
        float[][] t = new float[6][5];
        for (float[] row : t) {
            for (int k = 0; k < 5; k++) {
                row[k] = random.nextBoolean() ? random.nextFloat() : 0f; // need not sum to 1
            }
        }
        check(SCE + ":label_smoothing=0.3,temperature=0.5", z, null, t, new float[] {1f, 2f, 0f, 0.5f, 1f},
                options().labelSmoothing(0.3).temperature(0.5));
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
        JsonNode got = eval(spec, "{\"logits\": " + Cli.json(z) + ", \"labels\": " + Cli.json(y) + "}");

        Compute.Result r = Compute.logits(spec, z, y, null);

        assertEquals(r.loss(), got.get("loss").doubleValue(), "the reduced loss is a double, written exactly");
        assertBits("losses", floats(r.losses()), got.get("losses"));
        assertBits("logsumexp", floats(r.logSumExp()), got.get("logsumexp"));
        for (String name : List.of("logits", "probabilities", "grad_logits")) {
            double[][] want = switch (name) {
                case "logits" -> r.logits();
                case "probabilities" -> r.probabilities();
                default -> r.gradLogits();
            };
            JsonNode rows = got.get(name);
            for (int i = 0; i < 20; i++) {
                assertBits(name + "[" + i + "]", floats(want[i]), rows.get(i));
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
        JsonNode got = eval(SCE, "{\"logits\": " + Cli.json(z) + ", \"labels\": " + Cli.json(labels(random, 10, 10)) + "}");
        for (int i = 0; i < 10; i++) {
            assertBits("logits[" + i + "]", z[i], got.get("logits").get(i));
        }
    }

    /** The library's floats back from the exact doubles {@link Compute} gives them as. */
    private static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
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
