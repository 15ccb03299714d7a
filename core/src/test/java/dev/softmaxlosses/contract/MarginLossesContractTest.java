package dev.softmaxlosses.contract;

import static dev.softmaxlosses.testing.ContractData.atAngle;
import static dev.softmaxlosses.testing.ContractData.labels;
import static dev.softmaxlosses.testing.ContractData.toDouble;
import static dev.softmaxlosses.testing.ContractData.vectors;
import static dev.softmaxlosses.testing.Mismatches.maxAbs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.softmaxlosses.testing.Compute;
import dev.softmaxlosses.testing.Expected;
import dev.softmaxlosses.testing.Mismatches;
import dev.softmaxlosses.testing.ReferenceMargin;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The contract of the margin family ({@code normface}, {@code cosface}, {@code am_softmax},
 * {@code arcface}, {@code combined_margin}, {@code sphereface}, {@code lsoftmax}, {@code l2_softmax};
 * {@code LOSSES.md}): every output compared with {@link ReferenceMargin} (double precision, straight
 * from the spec, gradients by central differences) at the tolerances of {@link Mismatches#margin}.
 * Core's suite runs on the scalar kernels and again on the SIMD ones, so this does too. Every call
 * into the library goes through {@link Compute}.
 */
public class MarginLossesContractTest {

    static final List<String> NAMES = List.of("normface", "cosface", "am_softmax", "arcface", "combined_margin",
            "sphereface", "lsoftmax", "l2_softmax");

    // ---------------------------------------------------------------- a case and its expected values

    /** One case: the spec and its arrays (the lab's eval tests send them as JSON). */
    public record Case(String spec, float[][] features, float[][] weights, int[] labels, float[] classWeights) {

        public Case(String spec, float[][] features, float[][] weights, int[] labels) {
            this(spec, features, weights, labels, null);
        }

        public Case spec(String other) {
            return new Case(other, features, weights, labels, classWeights);
        }

        public Case classWeights(float... w) {
            return new Case(spec, features, weights, labels, w);
        }

        Compute.Result compute() {
            return Compute.margin(spec, features, weights, labels, classWeights);
        }

        public ReferenceMargin.Result expected() {
            return ReferenceMargin.compute(spec, toDouble(features), toDouble(weights), labels, toDouble(classWeights));
        }
    }

    private static Compute.Result run(Case c) {
        return c.compute();
    }

    /** Runs one case and compares every output field with the reference. */
    private static Compute.Result check(Case c) {
        return check(c, true);
    }

    private static Compute.Result check(Case c, boolean gradients) {
        Compute.Result got = c.compute();
        Mismatches.assertNone(c.spec(), compare(c, got, gradients));
        return got;
    }

    static List<String> compare(Case c, Compute.Result got, boolean gradients) {
        return Mismatches.margin(c.spec(), c.labels().length, c.expected(), got, gradients);
    }

    private static List<String> nonFinite(Compute.Result got) {
        return Mismatches.nonFinite(got);
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
        double[] losses = c.compute().losses();
        double mean = c.spec("cosface:s=8,m=0.2").compute().loss();
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
            Compute.Result got = check(new Case("arcface:s=10,m=" + m + ",reduction=sum", x, w, y));
            for (int i = 0; i < thetas.length; i++) {
                double c = Math.cos(thetas[i]);
                double want = c > Math.cos(Math.PI - m) ? 10 * Math.cos(thetas[i] + m) : 10 * (c - m * Math.sin(Math.PI - m));
                assertEquals(want, got.logits()[i][0], 1e-4, "theta " + thetas[i] + ", m " + m);
            }
        }
        Compute.Result easy = check(new Case("arcface:s=10,m=0.5,easy_margin=true", x, w, y));
        for (int i = 0; i < thetas.length; i++) {
            double c = Math.cos(thetas[i]);
            double want = c > 0 ? 10 * Math.cos(thetas[i] + 0.5) : 10 * c;
            assertEquals(want, easy.logits()[i][0], 1e-4, "easy margin, theta " + thetas[i]);
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
        Compute.Result got = check(new Case("combined_margin:s=20,m1=1.2,m2=0.4,m3=0.15,reduction=none", x, w, y));
        for (int i = 0; i < thetas.length; i++) {
            double want = 20 * (Math.cos(1.2 * thetas[i] + 0.4) - 0.15);
            assertEquals(want, got.logits()[i][0], 1e-4, "theta " + thetas[i]);
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
                Compute.Result got = check(new Case(name + ":m=" + m + ",reduction=sum", x, w, y));
                double previous = Double.POSITIVE_INFINITY;
                for (int i = 0; i < steps; i++) {
                    double f = got.logits()[i][0];
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
            Compute.Result straight = check(new Case(name + ":s=16,gradient=straight_through", x, w, y));
            Compute.Result exact = check(new Case(name + ":s=16", x, w, y));
            assertEquals(exact.loss(), straight.loss(), 0.0, "the same forward");
            assertFalse(Arrays.deepEquals(exact.gradFeatures(), straight.gradFeatures()), "another feature gradient");
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
            Compute.Result normalized = check(new Case(spec, x, w, y));
            Compute.Result exact = run(new Case(spec.replace("gradient=sphereface_normalized", "gradient=exact"), x, w, y));
            assertArrayEquals(exact.gradWeights(), normalized.gradWeights(), "the weights' gradient stays exact");
        }
    }

    // ---------------------------------------------------------------- identities between the losses

    @Test
    void theFamilyReducesToItsSimplerMembers() {
        Random random = new Random(307);
        float[][] x = vectors(random, 8, 6, 0.5, 3);
        float[][] w = vectors(random, 5, 6, 0.5, 3);
        int[] y = labels(random, 8, 5, 0.1, -100);
        assertSame(run(new Case("arcface:s=20,m=0", x, w, y)), run(new Case("normface:s=20", x, w, y)));
        assertSame(run(new Case("combined_margin:s=20,m1=1,m2=0,m3=0.3", x, w, y)), run(new Case("cosface:s=20,m=0.3", x, w, y)));
        assertSame(run(new Case("am_softmax:s=20,m=0.3", x, w, y)), run(new Case("cosface:s=20,m=0.3", x, w, y)));
        assertSame(run(new Case("sphereface:m=1,lambda=4", x, w, y)), run(new Case("sphereface:m=1", x, w, y)));
    }

    /** lsoftmax with m = 1 is the plain softmax loss on W x: its logits, and grad_features = grad_logits W. */
    @Test
    void lsoftmaxWithMarginOneIsTheSoftmaxOfWx() {
        Random random = new Random(308);
        float[][] x = vectors(random, 5, 4, 0.5, 2);
        float[][] w = vectors(random, 3, 4, 0.5, 2);
        int[] y = labels(random, 5, 3, 0, -100);
        Compute.Result got = check(new Case("lsoftmax:m=1", x, w, y));
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
        Compute.Result sce = Compute.logits("softmax_cross_entropy", z, y, null);
        assertEquals(sce.loss(), got.loss(), 1e-5);
        double[][] g = sce.gradLogits();
        double[][] gx = got.gradFeatures();
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

    private static void assertSame(Compute.Result a, Compute.Result b) {
        for (String field : List.of("losses", "logits", "probabilities", "grad_features", "grad_weights")) {
            double[][] x = field(a, field);
            double[][] y = field(b, field);
            double scale = 1e-5 * Math.max(1, maxAbs(x));
            for (int i = 0; i < x.length; i++) {
                for (int k = 0; k < x[i].length; k++) {
                    assertEquals(x[i][k], y[i][k], scale, field + "[" + i + "][" + k + "]");
                }
            }
        }
    }

    private static double[][] field(Compute.Result r, String field) {
        return switch (field) {
            case "losses" -> new double[][] {r.losses()};
            case "logits" -> r.logits();
            case "probabilities" -> r.probabilities();
            case "grad_features" -> r.gradFeatures();
            default -> r.gradWeights();
        };
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
                Compute.Result got = run(c);
                List<String> errors = new ArrayList<>(nonFinite(got));
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
                Compute.Result got = run(c);
                double f = got.logits()[0][1];
                double want = spec.startsWith("arcface") ? 64 * Math.cos(0.5)
                        : spec.contains("m1=") ? 64 * (Math.cos(0.2) - 0.1) : 64 * Math.cos(0.5);
                if (Math.abs(f - want) > 1e-5 * 64 + 1e-4 * Math.abs(want)) {
                    errors.add(spec + " " + "features " + Arrays.deepToString(c.features()) + ", weights " + Arrays.deepToString(c.weights()) + ": target logit expected " + want + ", got " + f);
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
            Compute.Result got = check(c, differentiable);
            List<String> errors = new ArrayList<>(nonFinite(got));
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
            Compute.Result got = run(c);
            Expected ce = c.expected().ce();
            boolean l2 = spec.startsWith("l2_softmax");
            double alpha = spec.equals("l2_softmax") ? 16 : 1;
            for (int k = 0; k < 2; k++) {
                double want = 0;
                for (int n = 0; n < 3; n++) {
                    double xn = Math.hypot(x[n][0], x[n][1]);
                    want += ce.gradLogits()[n][1] * (l2 ? alpha * x[n][k] / xn : x[n][k]);
                }
                double gotValue = got.gradWeights()[1][k];
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
            Compute.Result got = check(new Case(spec, x, w, new int[] {0, 1, 1}), false);
            List<String> errors = new ArrayList<>(nonFinite(got));
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
            Compute.Result empty = run(new Case(name, new float[0][], w, new int[0]));
            assertEquals(0.0, empty.loss(), 0.0, name);
            assertEquals(0, empty.losses().length, name);
            assertEquals(0, empty.gradFeatures().length, name);
            for (double[] row : empty.gradWeights()) {
                for (double v : row) {
                    assertEquals(0.0, v, 0.0, name);
                }
            }
            Compute.Result ignored = check(new Case(name, new float[][] {{1, 2, 3}, {0.5f, -1, 0}}, w, new int[] {-100, -100}));
            assertEquals(0.0, ignored.loss(), 0.0, name);
            for (String field : List.of("grad_features", "grad_weights")) {
                for (double[] row : field(ignored, field)) {
                    for (double v : row) {
                        assertEquals(0.0, v, 0.0, name + " " + field);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- many random cases

    @Test
    void randomCasesOfEveryLossMatchTheReference() {
        List<String> errors = new ArrayList<>();
        for (Case c : randomCases(new Random(314), 160)) {
            for (String e : compare(c, c.compute(), true)) {
                errors.add(c.spec() + ": " + e);
            }
        }
        Mismatches.assertNone("random cases", errors);
    }

    /**
     * The same random cases on the engine's other paths: the streaming head with blocks of 1 to C + 2
     * classes (without the N x C outputs), the classes split into 1 to C shards with merged row states,
     * and shards walked in blocks.
     */
    @Test
    void randomCasesOnTheStreamingAndShardedPathsMatchTheReference() {
        Random random = new Random(315);
        List<String> errors = new ArrayList<>();
        for (Case c : randomCases(new Random(314), 160)) {
            int classes = c.weights().length;
            int block = 1 + random.nextInt(classes + 2);
            int shards = 1 + random.nextInt(classes);
            for (int[] path : new int[][] {{block, 0}, {0, shards}, {block, shards}}) {
                Compute.Result got = Compute.margin(c.spec(), c.features(), c.weights(), c.labels(), c.classWeights(),
                        path[0], path[1]);
                for (String e : compare(c, got, true)) {
                    errors.add(c.spec() + " block " + path[0] + " shards " + path[1] + ": " + e);
                }
            }
        }
        Mismatches.assertNone("random cases on every path", errors);
    }

    /** {@code count} random cases, cycling through the family, away from the kinks of the loss. */
    public static List<Case> randomCases(Random random, int count) {
        List<Case> cases = new ArrayList<>();
        while (cases.size() < count) {
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
        return cases;
    }

    /** No target cosine within 1e-3 of a point where the loss is not differentiable (or is ill-conditioned). */
    private static boolean awayFromKinks(Case k) {
        ReferenceMargin.Params p = new ReferenceMargin.Params(k.spec());
        double[][] cos = ReferenceMargin.cosines(toDouble(k.features()), toDouble(k.weights()));
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
}
