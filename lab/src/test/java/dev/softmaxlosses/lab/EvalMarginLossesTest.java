package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The margin family ({@code normface}, {@code cosface}, {@code am_softmax}, {@code arcface},
 * {@code combined_margin}, {@code sphereface}, {@code lsoftmax}, {@code l2_softmax}) through
 * {@code softmax-lab eval}: every output field compared with {@link MarginReference} (double precision,
 * straight from {@code LOSSES.md}, gradients by central differences), and the family's error paths
 * (status 2, one {@code error:} line naming the problem, no output file).
 *
 * <p>Tolerances are float32's, scaled by what the float32 computation can keep: the loss, the logits
 * and the log-sum-exps within {@code 1e-5 max(1, max |f|) + 1e-4 |expected|} (a logit is a cosine
 * times a scale that may be 64 or a product of norms); the probabilities within
 * {@code 1e-5 + 1e-4 |expected|}; each gradient within {@code 1e-5 max |gradient| + 1e-4 |expected|}
 * over its array (a large {@code s} makes gradients large).
 */
class EvalMarginLossesTest {

    private static final List<String> NAMES = List.of("normface", "cosface", "am_softmax", "arcface", "combined_margin",
            "sphereface", "lsoftmax", "l2_softmax");

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- a case and its expected values

    /** One eval case: the spec and its arrays (floats, so that the JSON holds exactly what the reference reads). */
    private record Case(String spec, float[][] features, float[][] weights, int[] labels, float[] classWeights) {

        Case(String spec, float[][] features, float[][] weights, int[] labels) {
            this(spec, features, weights, labels, null);
        }

        Case spec(String other) {
            return new Case(other, features, weights, labels, classWeights);
        }

        Case classWeights(float... w) {
            return new Case(spec, features, weights, labels, w);
        }

        String json(String id) {
            StringBuilder c = new StringBuilder("{");
            if (id != null) {
                c.append("\"id\": ").append(id).append(", \"loss\": \"").append(spec).append("\", ");
            }
            c.append("\"features\": ").append(EvalLogitLossesTest.json(features));
            c.append(", \"weights\": ").append(EvalLogitLossesTest.json(weights));
            c.append(", \"labels\": ").append(EvalLogitLossesTest.json(labels));
            if (classWeights != null) {
                c.append(", \"class_weights\": ").append(EvalLogitLossesTest.json(classWeights));
            }
            return c.append('}').toString();
        }

        MarginReference.Expected expected() {
            return MarginReference.compute(spec, EvalLogitLossesTest.toDouble(features), EvalLogitLossesTest.toDouble(weights),
                    labels, classWeights == null ? null : EvalLogitLossesTest.toDouble(classWeights));
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Rows of random directions whose norms are log-uniform in {@code [lo, hi]}. */
    private static float[][] vectors(Random random, int rows, int d, double lo, double hi) {
        float[][] v = new float[rows][d];
        for (float[] row : v) {
            double[] g = new double[d];
            double norm = 0;
            for (int k = 0; k < d; k++) {
                g[k] = random.nextGaussian();
                norm += g[k] * g[k];
            }
            norm = Math.sqrt(norm);
            double length = Math.exp(Math.log(lo) + random.nextDouble() * (Math.log(hi) - Math.log(lo)));
            for (int k = 0; k < d; k++) {
                row[k] = (float) (g[k] / norm * length);
            }
        }
        return v;
    }

    private static int[] labels(Random random, int n, int c, double ignoredShare, int ignoreIndex) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextDouble() < ignoredShare ? ignoreIndex : random.nextInt(c);
        }
        return y;
    }

    /** A {@code D = 2} feature at angle {@code theta} from the unit weight {@code (1, 0)}, of length {@code r}. */
    private static float[] atAngle(double theta, double r) {
        return new float[] {(float) (r * Math.cos(theta)), (float) (r * Math.sin(theta))};
    }

    private JsonNode eval(Case c) {
        Path in = Cli.write(dir, "case.json", c.json(null));
        Cli.Run r = Cli.run("eval", "--loss", c.spec(), "--input", in.toString());
        assertEquals(0, r.status(), () -> c.spec() + ": status 0; stderr: " + r.err());
        assertEquals("", r.err(), "nothing on stderr");
        return r.json();
    }

    /** Runs one case and compares every output field with the reference. */
    private JsonNode check(Case c) {
        return check(c, true);
    }

    private JsonNode check(Case c, boolean gradients) {
        JsonNode got = eval(c);
        List<String> errors = compare(c, got, gradients);
        if (!errors.isEmpty()) {
            fail(c.spec() + ": " + errors.size() + " values off, first: "
                    + String.join("; ", errors.subList(0, Math.min(5, errors.size()))));
        }
        return got;
    }

    private static List<String> compare(Case c, JsonNode got, boolean gradients) {
        MarginReference.Expected want = c.expected();
        SoftmaxReference.Expected ce = want.ce();
        List<String> errors = new ArrayList<>();
        assertFinite(errors, got);
        double logitScale = 1;
        for (double[] row : ce.logits()) {
            for (double v : row) {
                logitScale = Math.max(logitScale, Math.abs(v));
            }
        }
        double abs = 1e-5 * logitScale;
        if (ce.loss() == null) {
            if (!got.get("loss").isNull()) {
                errors.add("loss: expected null, got " + got.get("loss"));
            }
        } else {
            double sumScale = c.spec().contains("reduction=sum") ? Math.max(1, c.labels().length) : 1;
            compare(errors, "loss", ce.loss(), got.get("loss").doubleValue(), abs * sumScale);
        }
        compare(errors, "losses", new double[][] {ce.losses()}, new double[][] {Cli.doubles(got.get("losses"))}, abs);
        compare(errors, "logits", ce.logits(), Cli.matrix(got.get("logits")), abs);
        compare(errors, "probabilities", ce.probabilities(), Cli.matrix(got.get("probabilities")), 1e-5);
        compare(errors, "logsumexp", new double[][] {ce.logSumExp()}, new double[][] {Cli.doubles(got.get("logsumexp"))}, abs);
        if (gradients) {
            compare(errors, "grad_features", want.gradFeatures(), Cli.matrix(got.get("grad_features")), 1e-5 * maxAbs(want.gradFeatures()) + 1e-9);
            compare(errors, "grad_weights", want.gradWeights(), Cli.matrix(got.get("grad_weights")), 1e-5 * maxAbs(want.gradWeights()) + 1e-9);
        }
        return errors;
    }

    private static double maxAbs(double[][] m) {
        double max = 0;
        for (double[] row : m) {
            for (double v : row) {
                max = Math.max(max, Math.abs(v));
            }
        }
        return max;
    }

    private static void assertFinite(List<String> errors, JsonNode got) {
        for (String field : List.of("losses", "logits", "probabilities", "logsumexp", "grad_features", "grad_weights")) {
            JsonNode a = got.get(field);
            if (a == null) {
                errors.add(field + " is missing");
                continue;
            }
            for (JsonNode v : a) {
                for (JsonNode x : v.isArray() ? v : List.of(v)) {
                    if (!x.isNumber() || !Double.isFinite(x.doubleValue())) {
                        errors.add(field + " holds " + x);
                        return;
                    }
                }
            }
        }
        JsonNode loss = got.get("loss");
        if (!loss.isNull() && !(loss.isNumber() && Double.isFinite(loss.doubleValue()))) {
            errors.add("loss is " + loss);
        }
    }

    private static void compare(List<String> errors, String where, double want, double got, double abs) {
        boolean same = want == got || Math.abs(got - want) <= abs + 1e-4 * Math.abs(want);
        if (!same) {
            errors.add(where + ": expected " + want + ", got " + got);
        }
    }

    private static void compare(List<String> errors, String name, double[][] want, double[][] got, double abs) {
        if (want.length != got.length) {
            errors.add(name + ": expected " + want.length + " rows, got " + got.length);
            return;
        }
        for (int i = 0; i < want.length; i++) {
            if (want[i].length != got[i].length) {
                errors.add(name + "[" + i + "]: expected " + want[i].length + " values, got " + got[i].length);
                continue;
            }
            for (int k = 0; k < want[i].length; k++) {
                compare(errors, name + "[" + i + "][" + k + "]", want[i][k], got[i][k], abs);
            }
        }
    }

    private static double target(JsonNode got, int row, int label) {
        return got.get("logits").get(row).get(label).doubleValue();
    }

    // ---------------------------------------------------------------- every loss, defaults and parameters

    @Test
    void everyLossWithItsDefaultsMatchesTheReference() {
        Random random = new Random(301);
        for (String name : NAMES) {
            float[][] x = vectors(random, 6, 8, 0.5, 4);
            float[][] w = vectors(random, 5, 8, 0.5, 2);
            check(new Case(name, x, w, labels(random, 6, 5, 0, -100)));
        }
    }

    @Test
    void everyLossWithOtherParametersMatchesTheReference() {
        Random random = new Random(302);
        List<String> specs = List.of("normface:s=4", "normface:s=64", "cosface:s=30,m=0.2", "cosface:s=8,m=0",
                "am_softmax:s=10,m=0.5", "arcface:s=32,m=0.3", "arcface:s=16,m=1.2", "arcface:s=8,m=0.5,easy_margin=true",
                "arcface:s=1,m=0", "combined_margin:s=32,m1=1.35,m2=0.25,m3=0.1", "combined_margin:s=16,m1=0.9,m2=0,m3=0.3",
                "sphereface:m=1", "sphereface:m=2,lambda=5", "sphereface:m=3,lambda=0.5", "sphereface:m=6",
                "lsoftmax:m=1", "lsoftmax:m=3,lambda=2", "lsoftmax:m=4", "l2_softmax:alpha=4", "l2_softmax:alpha=40");
        for (String spec : specs) {
            float[][] x = vectors(random, 7, 5, 0.2, 3);
            float[][] w = vectors(random, 6, 5, 0.3, 3);
            check(new Case(spec, x, w, labels(random, 7, 6, 0, -100)));
        }
    }

    @Test
    void reductionsLabelSmoothingClassWeightsAndIgnoredSamplesWorkAsInSoftmaxCrossEntropy() {
        Random random = new Random(303);
        for (String name : NAMES) {
            float[][] x = vectors(random, 9, 6, 0.3, 3);
            float[][] w = vectors(random, 5, 6, 0.5, 2);
            int[] y = labels(random, 9, 5, 0.3, 2);
            y[0] = 2;
            y[1] = 0;
            Case base = new Case(name, x, w, y).classWeights(0.5f, 2f, 1f, 0f, 3f);
            for (String reduction : List.of("mean", "sum", "none")) {
                check(base.spec(name + ":ignore_index=2,label_smoothing=0.1,reduction=" + reduction));
            }
            check(base.spec(name + ":ignore_index=2,label_smoothing=0.3"));
            check(new Case(name + ":reduction=sum,label_smoothing=0.05", x, w, labels(random, 9, 5, 0, -100)));
        }
    }

    /** The mean divides by the sum of the targets' class weights, as softmax_cross_entropy's does. */
    @Test
    void meanIsNormalisedByTheTargetsClassWeights() {
        Random random = new Random(304);
        float[][] x = vectors(random, 4, 3, 1, 1);
        float[][] w = vectors(random, 3, 3, 1, 1);
        int[] y = {0, 1, 1, 2};
        Case c = new Case("cosface:s=8,m=0.2,reduction=none", x, w, y).classWeights(2f, 0.5f, 3f);
        double[] losses = Cli.doubles(eval(c).get("losses"));
        double mean = eval(c.spec("cosface:s=8,m=0.2")).get("loss").doubleValue();
        double expected = (losses[0] + losses[1] + losses[2] + losses[3]) / (2 + 0.5 + 0.5 + 3);
        assertEquals(expected, mean, 1e-5 * Math.abs(expected));
    }

    // ---------------------------------------------------------------- the target transforms

    @Test
    void arcfaceUsesPhiAboveTheThresholdAndTheLinearFallbackBelow() {
        float[][] w = {{1, 0}, {0, 1}, {-1, 0}};
        double[] thetas = {0.3, 1.2, 2.0, 2.5, 2.75, 3.0};
        float[][] x = new float[thetas.length][];
        for (int i = 0; i < thetas.length; i++) {
            x[i] = atAngle(thetas[i], 1.5);
        }
        int[] y = new int[thetas.length];
        for (double m : new double[] {0.5, 1.0}) {
            JsonNode got = check(new Case("arcface:s=10,m=" + m + ",reduction=sum", x, w, y));
            for (int i = 0; i < thetas.length; i++) {
                double c = Math.cos(thetas[i]);
                double want = c > Math.cos(Math.PI - m) ? 10 * Math.cos(thetas[i] + m) : 10 * (c - m * Math.sin(Math.PI - m));
                assertEquals(want, target(got, i, 0), 1e-4, "theta " + thetas[i] + ", m " + m);
            }
        }
        JsonNode easy = check(new Case("arcface:s=10,m=0.5,easy_margin=true", x, w, y));
        for (int i = 0; i < thetas.length; i++) {
            double c = Math.cos(thetas[i]);
            double want = c > 0 ? 10 * Math.cos(thetas[i] + 0.5) : 10 * c;
            assertEquals(want, target(easy, i, 0), 1e-4, "easy margin, theta " + thetas[i]);
        }
    }

    @Test
    void combinedMarginIsExactlyItsFormulaWithoutFallback() {
        float[][] w = {{1, 0}, {0, 1}};
        double[] thetas = {0.2, 1.0, 2.0, 2.8, 3.05};
        float[][] x = new float[thetas.length][];
        for (int i = 0; i < thetas.length; i++) {
            x[i] = atAngle(thetas[i], 0.7);
        }
        int[] y = new int[thetas.length];
        JsonNode got = check(new Case("combined_margin:s=20,m1=1.2,m2=0.4,m3=0.15,reduction=none", x, w, y));
        for (int i = 0; i < thetas.length; i++) {
            double want = 20 * (Math.cos(1.2 * thetas[i] + 0.4) - 0.15);
            assertEquals(want, target(got, i, 0), 1e-4, "theta " + thetas[i]);
        }
    }

    /**
     * psi over every sector of [0, pi] for m = 1..6, against acos and the sector formula; it decreases in
     * theta. The angles stay 0.02 away from the sector boundaries {@code k pi / m}, where psi'' jumps and
     * central differences lose their order.
     */
    @Test
    void psiCoversEverySectorAndDecreasesInTheta() {
        int steps = 20;
        float[][] w = {{2, 0}, {0, 1}, {-1, -1}};
        float[][] x = new float[steps][];
        for (int i = 0; i < steps; i++) {
            x[i] = atAngle(0.07 + i * (Math.PI - 0.14) / (steps - 1), 1.3);
        }
        int[] y = new int[steps];
        for (int m = 1; m <= 6; m++) {
            for (String name : List.of("sphereface", "lsoftmax")) {
                JsonNode got = check(new Case(name + ":m=" + m + ",reduction=sum", x, w, y));
                double previous = Double.POSITIVE_INFINITY;
                for (int i = 0; i < steps; i++) {
                    double f = target(got, i, 0);
                    assertTrue(f < previous, name + " m=" + m + ": the target logit decreases in theta at step " + i);
                    previous = f;
                }
            }
            check(new Case("sphereface:m=" + m + ",lambda=3", x, w, y));
        }
    }

    // ---------------------------------------------------------------- gradient conventions

    @Test
    void straightThroughTakesTheTargetSlopeAsOne() {
        Random random = new Random(305);
        for (String name : List.of("arcface", "combined_margin")) {
            float[][] x = vectors(random, 6, 4, 0.5, 2);
            float[][] w = vectors(random, 4, 4, 0.5, 2);
            int[] y = labels(random, 6, 4, 0, -100);
            JsonNode straight = check(new Case(name + ":s=16,gradient=straight_through", x, w, y));
            JsonNode exact = check(new Case(name + ":s=16", x, w, y));
            assertEquals(exact.get("loss").doubleValue(), straight.get("loss").doubleValue(), 0.0, "the same forward");
            assertFalse(exact.get("grad_features").equals(straight.get("grad_features")), "another feature gradient");
        }
    }

    @Test
    void spherefaceNormalizedRescalesOnlyTheTargetsFeatureGradient() {
        Random random = new Random(306);
        for (String spec : List.of("sphereface:gradient=sphereface_normalized", "sphereface:m=2,lambda=1.5,gradient=sphereface_normalized",
                "sphereface:m=3,gradient=sphereface_normalized,reduction=none")) {
            float[][] x = vectors(random, 6, 5, 0.3, 5);
            float[][] w = vectors(random, 4, 5, 0.5, 2);
            int[] y = labels(random, 6, 4, 0.2, -100);
            JsonNode normalized = check(new Case(spec, x, w, y));
            JsonNode exact = eval(new Case(spec.replace("gradient=sphereface_normalized", "gradient=exact"), x, w, y));
            assertEquals(exact.get("grad_weights"), normalized.get("grad_weights"), "the weights' gradient stays exact");
        }
    }

    // ---------------------------------------------------------------- identities between the losses

    @Test
    void theFamilyReducesToItsSimplerMembers() {
        Random random = new Random(307);
        float[][] x = vectors(random, 8, 6, 0.5, 3);
        float[][] w = vectors(random, 5, 6, 0.5, 3);
        int[] y = labels(random, 8, 5, 0.1, -100);
        assertSame(eval(new Case("arcface:s=20,m=0", x, w, y)), eval(new Case("normface:s=20", x, w, y)));
        assertSame(eval(new Case("combined_margin:s=20,m1=1,m2=0,m3=0.3", x, w, y)), eval(new Case("cosface:s=20,m=0.3", x, w, y)));
        assertSame(eval(new Case("am_softmax:s=20,m=0.3", x, w, y)), eval(new Case("cosface:s=20,m=0.3", x, w, y)));
        assertSame(eval(new Case("sphereface:m=1,lambda=4", x, w, y)), eval(new Case("sphereface:m=1", x, w, y)));
    }

    /** lsoftmax with m = 1 is the plain softmax loss on W x: its logits, and grad_features = grad_logits W. */
    @Test
    void lsoftmaxWithMarginOneIsTheSoftmaxOfWx() {
        Random random = new Random(308);
        float[][] x = vectors(random, 5, 4, 0.5, 2);
        float[][] w = vectors(random, 3, 4, 0.5, 2);
        int[] y = labels(random, 5, 3, 0, -100);
        JsonNode got = check(new Case("lsoftmax:m=1", x, w, y));
        float[][] z = new float[5][3];
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 3; j++) {
                double s = 0;
                for (int k = 0; k < 4; k++) {
                    s += (double) x[i][k] * w[j][k];
                }
                z[i][j] = (float) s;
            }
        }
        Path in = Cli.write(dir, "sce.json", "{\"logits\": " + EvalLogitLossesTest.json(z) + ", \"labels\": "
                + EvalLogitLossesTest.json(y) + "}");
        JsonNode sce = Cli.run("eval", "--loss", "softmax_cross_entropy", "--input", in.toString()).json();
        assertEquals(sce.get("loss").doubleValue(), got.get("loss").doubleValue(), 1e-5);
        double[][] g = Cli.matrix(sce.get("grad_logits"));
        double[][] gx = Cli.matrix(got.get("grad_features"));
        for (int i = 0; i < 5; i++) {
            for (int k = 0; k < 4; k++) {
                double want = 0;
                for (int j = 0; j < 3; j++) {
                    want += g[i][j] * w[j][k];
                }
                assertEquals(want, gx[i][k], 1e-5, "grad_features[" + i + "][" + k + "]");
            }
        }
    }

    private static void assertSame(JsonNode a, JsonNode b) {
        for (String field : List.of("losses", "logits", "probabilities", "grad_features", "grad_weights")) {
            double[][] x = Cli.matrix(a.get(field).get(0).isArray() ? a.get(field) : wrap(a.get(field)));
            double[][] y = Cli.matrix(b.get(field).get(0).isArray() ? b.get(field) : wrap(b.get(field)));
            double scale = 1e-5 * Math.max(1, maxAbs(x));
            for (int i = 0; i < x.length; i++) {
                for (int k = 0; k < x[i].length; k++) {
                    assertEquals(x[i][k], y[i][k], scale, field + "[" + i + "][" + k + "]");
                }
            }
        }
    }

    private static JsonNode wrap(JsonNode v) {
        return Cli.JSON.createArrayNode().add(v);
    }

    // ---------------------------------------------------------------- edges: c = +-1, zero vectors, huge norms

    /** Every value finite; where the loss is differentiable there (all but arcface and combined_margin), the gradients match. */
    @Test
    void aFeatureOnItsClassWeightOrOppositeToItStaysFinite() {
        Random random = new Random(309);
        for (String spec : List.of("normface", "cosface", "am_softmax", "arcface", "arcface:easy_margin=true",
                "arcface:gradient=straight_through", "combined_margin", "combined_margin:m1=1.35,m2=0.2,m3=0.1",
                "sphereface", "sphereface:m=3,lambda=2", "sphereface:gradient=sphereface_normalized", "lsoftmax",
                "lsoftmax:m=5", "l2_softmax")) {
            boolean cone = spec.startsWith("arcface") || spec.startsWith("combined_margin");
            for (float sign : new float[] {1, -1}) {
                float[][] w = vectors(random, 4, 5, 0.5, 2);
                float[][] x = vectors(random, 3, 5, 0.5, 2);
                int[] y = {1, 2, 0};
                for (int k = 0; k < 5; k++) {
                    x[0][k] = sign * w[1][k];
                    x[1][k] = sign * 3 * w[2][k];
                }
                Case c = new Case(spec, x, w, y);
                JsonNode got = eval(c);
                List<String> errors = new ArrayList<>();
                assertFinite(errors, got);
                if (!cone || (sign < 0 && spec.startsWith("arcface"))) {
                    errors.addAll(compare(c, got, true));
                }
                if (!errors.isEmpty()) {
                    fail(spec + " at c = " + sign + ": " + String.join("; ", errors.subList(0, Math.min(5, errors.size()))));
                }
            }
        }
    }

    /**
     * At {@code c = 1} exactly (a feature equal to its class weight) ArcFace's target is {@code s cos m}
     * and combined_margin's {@code s (cos m2 - m3)}. A float32 cosine of 0.99999994 there means
     * {@code theta = 3.5e-4}, which moves {@code s cos(theta + m)} by {@code 0.01} at {@code s = 64} and the
     * loss by 0.6%; the forward values must still match at float32 tolerance.
     */
    @Test
    void arcfaceAndCombinedMarginAtCosineOneMatchTheReference() {
        Random random = new Random(310);
        List<String> errors = new ArrayList<>();
        for (String spec : List.of("arcface", "arcface:easy_margin=true", "combined_margin", "combined_margin:m1=1.35,m2=0.2,m3=0.1")) {
            for (int trial = 0; trial < 20; trial++) {
                float[][] w = vectors(random, 3, 4, 0.5, 2);
                float[][] x = {w[1].clone()};
                Case c = new Case(spec, x, w, new int[] {1});
                JsonNode got = eval(c);
                double f = target(got, 0, 1);
                double want = spec.startsWith("arcface") ? 64 * Math.cos(0.5)
                        : spec.contains("m1=") ? 64 * (Math.cos(0.2) - 0.1) : 64 * Math.cos(0.5);
                if (Math.abs(f - want) > 1e-5 * 64 + 1e-4 * Math.abs(want)) {
                    errors.add(spec + " " + c.json(null) + ": target logit expected " + want + ", got " + f);
                }
                errors.addAll(compare(c, got, false).stream().map(e -> spec + ": " + e).toList());
            }
        }
        if (!errors.isEmpty()) {
            fail(errors.size() + " values off, first: " + String.join("; ", errors.subList(0, Math.min(4, errors.size()))));
        }
    }

    /**
     * A zero feature has x_hat = 0: finite everywhere. Where the loss is differentiable there (not with
     * the norm factor of sphereface and lsoftmax, nor at easy_margin's switch c = 0) the gradient matches
     * the reference's, which for the normalised losses is the floor's Jacobian I / 1e-12.
     */
    @Test
    void aZeroFeatureVectorStaysFinite() {
        Random random = new Random(311);
        for (String spec : List.of("normface", "cosface", "am_softmax", "arcface", "arcface:easy_margin=true", "combined_margin",
                "sphereface", "sphereface:gradient=sphereface_normalized", "lsoftmax", "l2_softmax")) {
            float[][] x = vectors(random, 3, 4, 0.5, 2);
            float[][] w = vectors(random, 3, 4, 0.5, 2);
            x[1] = new float[4];
            Case c = new Case(spec + (spec.contains(":") ? "," : ":") + "reduction=none", x, w, new int[] {0, 1, 2});
            boolean differentiable = !spec.startsWith("sphereface") && !spec.startsWith("lsoftmax") && !spec.contains("easy_margin");
            JsonNode got = check(c, differentiable);
            List<String> errors = new ArrayList<>();
            assertFinite(errors, got);
            assertTrue(errors.isEmpty(), () -> spec + ": " + errors);
        }
    }

    /**
     * {@code l2_softmax}'s logits {@code alpha x_hat . W_j} and {@code lsoftmax}'s other logits
     * {@code W_j . x} are linear in {@code W_j}: a class weight of zeros (a zero-initialised classifier)
     * still has the gradient {@code alpha sum_n dL/df_nj x_hat_n}, respectively {@code sum_n dL/df_nj x_n}.
     */
    @Test
    void aZeroClassWeightStillGetsItsGradient() {
        float[][] x = {{1, 0}, {0.6f, 0.8f}, {-2, 1}};
        float[][] w = {{1, 0}, {0, 0}, {0, 2}};
        int[] y = {0, 2, 0};
        List<String> errors = new ArrayList<>();
        for (String spec : List.of("l2_softmax:alpha=1", "l2_softmax", "lsoftmax", "lsoftmax:m=1")) {
            Case c = new Case(spec + (spec.contains(":") ? "," : ":") + "reduction=sum", x, w, y);
            JsonNode got = eval(c);
            SoftmaxReference.Expected ce = c.expected().ce();
            boolean l2 = spec.startsWith("l2_softmax");
            double alpha = spec.equals("l2_softmax") ? 16 : 1;
            for (int k = 0; k < 2; k++) {
                double want = 0;
                for (int n = 0; n < 3; n++) {
                    double xn = Math.hypot(x[n][0], x[n][1]);
                    want += ce.gradLogits()[n][1] * (l2 ? alpha * x[n][k] / xn : x[n][k]);
                }
                double gotValue = got.get("grad_weights").get(1).get(k).doubleValue();
                if (Math.abs(gotValue - want) > 1e-5 + 1e-4 * Math.abs(want)) {
                    errors.add(spec + ": grad_weights[1][" + k + "] expected " + want + ", got " + gotValue);
                }
            }
        }
        if (!errors.isEmpty()) {
            fail(String.join("; ", errors));
        }
    }

    @Test
    void aZeroClassWeightStaysFiniteForTheNormalisedLosses() {
        Random random = new Random(312);
        for (String spec : List.of("normface", "cosface", "arcface", "combined_margin", "sphereface", "lsoftmax", "l2_softmax")) {
            float[][] x = vectors(random, 3, 4, 0.5, 2);
            float[][] w = vectors(random, 3, 4, 0.5, 2);
            w[2] = new float[4];
            JsonNode got = check(new Case(spec, x, w, new int[] {0, 1, 1}), false);
            List<String> errors = new ArrayList<>();
            assertFinite(errors, got);
            assertTrue(errors.isEmpty(), () -> spec + ": " + errors);
        }
    }

    @Test
    void hugeAndTinyNormsMatchTheReference() {
        Random random = new Random(313);
        for (String name : NAMES) {
            for (double[] norms : new double[][] {{1e6, 1e6}, {1e6, 1}, {1, 1e6}, {1e-3, 1}, {1e-3, 1e3}}) {
                float[][] x = vectors(random, 4, 5, norms[0], norms[0] * 2);
                float[][] w = vectors(random, 3, 5, norms[1], norms[1] * 2);
                check(new Case(name + ":reduction=sum", x, w, labels(random, 4, 3, 0, -100)));
            }
        }
    }

    @Test
    void emptyBatchAndEveryLabelIgnoredGiveZero() {
        float[][] w = {{1, 0, 0}, {0, 1, 1}};
        for (String name : NAMES) {
            JsonNode empty = eval(new Case(name, new float[0][], w, new int[0]));
            assertEquals(0.0, empty.get("loss").doubleValue(), 0.0, name);
            assertEquals(0, empty.get("losses").size(), name);
            assertEquals(0, empty.get("grad_features").size(), name);
            for (JsonNode row : empty.get("grad_weights")) {
                for (JsonNode v : row) {
                    assertEquals(0.0, v.doubleValue(), 0.0, name);
                }
            }
            JsonNode ignored = check(new Case(name, new float[][] {{1, 2, 3}, {0.5f, -1, 0}}, w, new int[] {-100, -100}));
            assertEquals(0.0, ignored.get("loss").doubleValue(), 0.0, name);
            for (String field : List.of("grad_features", "grad_weights")) {
                for (JsonNode row : ignored.get(field)) {
                    for (JsonNode v : row) {
                        assertEquals(0.0, v.doubleValue(), 0.0, name + " " + field);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- many random cases in one jsonl run

    @Test
    void randomCasesOfEveryLossMatchTheReferenceThroughJsonl() {
        Random random = new Random(314);
        List<Case> cases = new ArrayList<>();
        while (cases.size() < 160) {
            String name = NAMES.get(cases.size() % NAMES.size());
            StringBuilder spec = new StringBuilder(name).append(":reduction=")
                    .append(List.of("mean", "sum", "none").get(random.nextInt(3)));
            switch (name) {
                case "normface" -> spec.append(",s=").append(new double[] {1, 16, 64}[random.nextInt(3)]);
                case "cosface", "am_softmax" -> spec.append(",s=").append(new double[] {8, 30, 64}[random.nextInt(3)])
                        .append(",m=").append(new double[] {0, 0.35, 0.8}[random.nextInt(3)]);
                case "arcface" -> {
                    spec.append(",s=").append(new double[] {8, 64}[random.nextInt(2)])
                            .append(",m=").append(new double[] {0.2, 0.5, 1.5}[random.nextInt(3)]);
                    if (random.nextBoolean()) {
                        spec.append(",easy_margin=true");
                    }
                }
                case "combined_margin" -> spec.append(",m1=").append(new double[] {1, 1.35, 0.8}[random.nextInt(3)])
                        .append(",m2=").append(new double[] {0, 0.3}[random.nextInt(2)])
                        .append(",m3=").append(new double[] {0, 0.2}[random.nextInt(2)]);
                case "sphereface", "lsoftmax" -> spec.append(",m=").append(1 + random.nextInt(5))
                        .append(",lambda=").append(new double[] {0, 1, 10}[random.nextInt(3)]);
                default -> spec.append(",alpha=").append(new double[] {1, 16, 48}[random.nextInt(3)]);
            }
            if (random.nextInt(3) == 0) {
                spec.append(",label_smoothing=0.1");
            }
            int ignore = random.nextBoolean() ? -100 : 1;
            if (ignore != -100) {
                spec.append(",ignore_index=").append(ignore);
            }
            int n = random.nextInt(9);
            int c = 1 + random.nextInt(8);
            int d = 2 + random.nextInt(7);
            double lo = new double[] {0.01, 0.5, 10}[random.nextInt(3)];
            Case k = new Case(spec.toString(), vectors(random, n, d, lo, lo * 20), vectors(random, c, d, 0.3, 5),
                    labels(random, n, c, 0.2, ignore));
            if (random.nextInt(4) == 0) {
                float[] cw = new float[c];
                for (int j = 0; j < c; j++) {
                    cw[j] = new float[] {0, 0.5f, 1, 2.5f}[random.nextInt(4)];
                }
                k = k.classWeights(cw);
            }
            if (awayFromKinks(k)) {
                cases.add(k);
            }
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
            for (String e : compare(cases.get(i), got, true)) {
                errors.add(cases.get(i).spec() + " (line " + i + "): " + e);
            }
        }
        if (!errors.isEmpty()) {
            fail(errors.size() + " values off, first: " + String.join("; ", errors.subList(0, Math.min(5, errors.size()))));
        }
    }

    /** No target cosine within 1e-3 of a point where the loss is not differentiable (or is ill-conditioned). */
    private static boolean awayFromKinks(Case k) {
        MarginReference.Params p = new MarginReference.Params(k.spec());
        double[][] cos = MarginReference.cosines(EvalLogitLossesTest.toDouble(k.features()), EvalLogitLossesTest.toDouble(k.weights()));
        for (int i = 0; i < k.labels().length; i++) {
            int y = k.labels()[i];
            if (y == p.ce.ignoreIndex) {
                continue;
            }
            double c = cos[i][y];
            if (p.name.equals("arcface")) {
                double threshold = p.easyMargin ? 0 : Math.cos(Math.PI - p.m);
                if (Math.abs(c - threshold) < 1e-3 || Math.abs(c) > 1 - 1e-3) {
                    return false;
                }
            }
            if (p.name.equals("combined_margin") && Math.abs(c) > 1 - 1e-3) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- error paths

    private static final String PREVIOUS = "previous content\n";
    private static final String X = "\"features\": [[1, 0], [0.5, 0.5]]";
    private static final String W = "\"weights\": [[1, 0], [0, 1], [1, 1]]";
    private static final String Y = "\"labels\": [0, 2]";
    private static final String GOOD = "{" + X + ", " + W + ", " + Y + "}";

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
            assertTrue(line.contains(f), () -> spec + ": the error names '" + f + "': " + line);
        }
        assertFalse(Files.exists(fresh), "no output file on error");

        Path existing = Cli.write(dir, "existing-output.json", PREVIOUS);
        Cli.Run again = Cli.run("eval", "--loss", spec, "--input", in.toString(), "--output", existing.toString());
        assertEquals(SoftmaxLab.EXIT_BAD_INPUT, again.status());
        assertEquals(line, again.err().strip(), "the same error over an existing file");
        assertEquals(PREVIOUS, Cli.read(existing), "an existing output file is left untouched");
    }

    @Test
    void missingFeaturesWeightsOrLabelsAreRefused() {
        for (String name : NAMES) {
            rejects(name, "{" + W + ", " + Y + "}", name, "features");
            rejects(name, "{" + X + ", " + Y + "}", name, "weights");
            rejects(name, "{" + X + ", " + W + "}", name, "labels");
        }
    }

    @Test
    void shapeMismatchesAreRefused() {
        for (String name : NAMES) {
            rejects(name, "{\"features\": [[1, 0, 0], [0.5, 0.5, 1]], " + W + ", " + Y + "}", "features", "3", "2", "weights");
        }
        rejects("arcface", "{" + X + ", \"weights\": [[1, 0], [0, 1, 3], [1, 1]], " + Y + "}", "weights[1]", "3", "2");
        rejects("cosface", "{" + X + ", " + W + ", \"labels\": [0]}", "labels", "1", "2");
        rejects("normface", "{" + X + ", " + W + ", " + Y + ", \"class_weights\": [1, 2]}", "class_weights", "2", "3");
    }

    @Test
    void nonFiniteFeaturesOrWeightsAreRefused() {
        for (String name : NAMES) {
            rejects(name, "{\"features\": [[1, NaN], [0.5, 0.5]], " + W + ", " + Y + "}", "features[0][1]", "NaN");
            rejects(name, "{\"features\": [[1, 0], [0.5, Infinity]], " + W + ", " + Y + "}", "features[1][1]", "Infinity");
            rejects(name, "{\"features\": [[1, 0], [-Infinity, 0.5]], " + W + ", " + Y + "}", "features[1][0]", "-Infinity");
            rejects(name, "{" + X + ", \"weights\": [[1, 0], [0, NaN], [1, 1]], " + Y + "}", "weights[1][1]", "NaN");
            rejects(name, "{" + X + ", \"weights\": [[1, 0], [0, 1], [Infinity, 1]], " + Y + "}", "weights[2][0]", "Infinity");
            rejects(name, "{" + X + ", \"weights\": [[1, 0], [0, 1], [1, -Infinity]], " + Y + "}", "weights[2][1]", "-Infinity");
        }
    }

    @Test
    void labelsOutOfRangeAreRefused() {
        for (String name : NAMES) {
            rejects(name, "{" + X + ", " + W + ", \"labels\": [0, 3]}", "labels[1]", "3");
            rejects(name, "{" + X + ", " + W + ", \"labels\": [-1, 0]}", "labels[0]", "-1");
        }
        rejects("arcface:ignore_index=-1", "{" + X + ", " + W + ", \"labels\": [-100, 0]}", "labels[0]", "-100");
    }

    @Test
    void badParametersAreRefused() {
        rejects("sphereface:m=1.5", GOOD, "m", "integer", "1.5");
        rejects("lsoftmax:m=2.5", GOOD, "m", "integer", "2.5");
        rejects("lsoftmax:m=0", GOOD, "m", ">= 1", "0");
        rejects("arcface:m=4", GOOD, "m", "[0, pi)", "4");
        rejects("arcface:m=-0.1", GOOD, "m", "[0, pi)", "-0.1");
        rejects("cosface:gradient=straight_through", GOOD, "gradient", "straight_through", "cosface");
        rejects("sphereface:gradient=straight_through", GOOD, "gradient", "straight_through", "sphereface");
        rejects("arcface:gradient=sphereface_normalized", GOOD, "gradient", "sphereface_normalized", "arcface");
        rejects("arcface:gradient=bogus", GOOD, "gradient", "bogus");
        for (String name : List.of("normface", "cosface", "am_softmax", "arcface", "combined_margin")) {
            rejects(name + ":s=0", GOOD, "s", "> 0", "0");
            rejects(name + ":s=-2", GOOD, "s", "> 0", "-2");
        }
        rejects("l2_softmax:alpha=0", GOOD, "alpha", "> 0");
        rejects("sphereface:lambda=-1", GOOD, "lambda", ">= 0", "-1");
        rejects("arcface:easy_margin=maybe", GOOD, "easy_margin", "maybe");
        rejects("combined_margin:m1=NaN", GOOD, "m1", "finite");
        rejects("normface:label_smoothing=1", GOOD, "label_smoothing", "1");
        rejects("arcface:scale=3", GOOD, "unknown parameter 'scale'", "arcface");
        rejects("sphereface:s=3", GOOD, "unknown parameter 's'", "sphereface");
    }

    @Test
    void logitsAndTargetsAreRefusedByTheMarginFamily() {
        for (String name : NAMES) {
            rejects(name, "{" + X + ", " + W + ", " + Y + ", \"logits\": [[1, 2, 3], [1, 2, 3]]}", name, "logits");
        }
    }

    @Test
    void aBadLineOfAJsonlRunFailsAloneWithStatusOne() {
        String lines = "{\"id\": 1, \"loss\": \"arcface\", " + X + ", " + W + ", " + Y + "}\n"
                + "{\"id\": 2, \"loss\": \"sphereface:m=1.5\", " + X + ", " + W + ", " + Y + "}\n"
                + "{\"id\": 3, \"loss\": \"l2_softmax\", " + X + ", " + W + ", " + Y + "}\n";
        Path in = Cli.write(dir, "mixed.jsonl", lines);
        Cli.Run r = Cli.run("eval", "--input", in.toString());
        assertEquals(1, r.status(), r::err);
        String[] out = r.out().split("\n");
        assertEquals(3, out.length);
        assertTrue(Cli.parse(out[0]).has("grad_weights"));
        JsonNode bad = Cli.parse(out[1]);
        assertEquals(2, bad.get("id").intValue());
        assertTrue(bad.get("error").asText().contains("integer"), bad::toString);
        assertTrue(Cli.parse(out[2]).has("grad_features"));
    }
}
