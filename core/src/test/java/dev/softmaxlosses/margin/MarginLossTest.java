package dev.softmaxlosses.margin;

import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.FeatureLoss;
import dev.softmaxlosses.LogitBatch;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.FeatureBatch;
import static dev.softmaxlosses.testing.Assertions2.assertAllFinite;
import static dev.softmaxlosses.testing.Assertions2.assertClose;
import static dev.softmaxlosses.testing.Assertions2.assertRejected;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.Loss;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.testing.Random2;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The margin family's identities, worked values, extremes and validation. */
class MarginLossTest {

    private static LossResult run(String spec, float[] x, int n, float[] w, int c, int d, int... labels) {
        return ((FeatureLoss) LossRegistry.create(spec)).compute(FeatureBatch.of(new FloatMatrix(x, n, d), new FloatMatrix(w, c, d), labels));
    }

    private static void assertSameResult(LossResult a, LossResult b, double rel, String what) {
        assertClose(a.loss(), b.loss(), rel, 1e-7, what + " loss");
        for (int i = 0; i < a.gradFeatures().length; i++) {
            assertClose(a.gradFeatures()[i], b.gradFeatures()[i], rel, 1e-6, what + " grad_features[" + i + "]");
        }
        for (int i = 0; i < a.gradWeights().length; i++) {
            assertClose(a.gradWeights()[i], b.gradWeights()[i], rel, 1e-6, what + " grad_weights[" + i + "]");
        }
    }

    private final Random random = new Random(17);
    private final float[] x = Random2.uniform(random, 6, 4, 2);
    private final float[] w = Random2.uniform(random, 5, 4, 2);
    private final int[] labels = {0, 1, 2, 3, 4, 1};

    @Test
    void aWorkedNormFaceExample() {
        // x = (3, 4), W = I: cosines (0.6, 0.8); s = 2: f = (1.2, 1.6), label 1.
        LossResult r = run("normface:s=2", new float[] {3, 4}, 1, new float[] {1, 0, 0, 1}, 2, 2, 1);
        assertArrayEquals(new float[] {1.2f, 1.6f}, r.logits(), 1e-6f);
        assertClose(Math.log(Math.exp(1.2) + Math.exp(1.6)) - 1.6, r.loss(), "loss");
    }

    @Test
    void aWorkedArcFaceExample() {
        // The target cosine 0.8: theta = acos 0.8, f_y = s cos(theta + 0.5).
        LossResult r = run("arcface:s=2,m=0.5", new float[] {3, 4}, 1, new float[] {1, 0, 0, 1}, 2, 2, 1);
        double fy = 2 * Math.cos(Math.acos(0.8) + 0.5);
        assertClose(fy, r.logits()[1], 1e-6, 1e-7, "target logit");
        assertClose(Math.log(Math.exp(1.2) + Math.exp(fy)) - fy, r.loss(), "loss");
    }

    @ParameterizedTest
    @ValueSource(strings = {"cosface:m=0,s=16", "am_softmax:m=0,s=16", "arcface:m=0,s=16"})
    void aMarginOfZeroIsNormFace(String spec) {
        assertSameResult(run("normface:s=16", x, 6, w, 5, 4, labels), run(spec, x, 6, w, 5, 4, labels), 1e-5, spec);
    }

    @Test
    void combinedMarginGeneralisesArcFaceAndCosFace() {
        // Small angles, so theta + m stays below pi and ArcFace's fallback is not used.
        float[] near = w.clone();
        float[] features = new float[6 * 4];
        for (int n = 0; n < 6; n++) {
            for (int k = 0; k < 4; k++) {
                features[n * 4 + k] = near[labels[n] * 4 + k] + 0.1f * (float) random.nextGaussian();
            }
        }
        assertSameResult(run("arcface:s=30,m=0.5", features, 6, w, 5, 4, labels),
                run("combined_margin:s=30,m1=1,m2=0.5,m3=0", features, 6, w, 5, 4, labels), 2e-5, "(1, m, 0) = arcface");
        assertSameResult(run("cosface:s=30,m=0.35", x, 6, w, 5, 4, labels),
                run("combined_margin:s=30,m1=1,m2=0,m3=0.35", x, 6, w, 5, 4, labels), 2e-5, "(1, 0, m) = cosface");
    }

    @Test
    void sphereFaceWithMarginOneIsTheSoftmaxOnNormTimesCosine() {
        LossResult sphere = run("sphereface:m=1", x, 6, w, 5, 4, labels);
        float[] logits = new float[6 * 5];
        for (int n = 0; n < 6; n++) {
            for (int j = 0; j < 5; j++) {
                double dot = 0;
                double norm = 0;
                for (int k = 0; k < 4; k++) {
                    dot += x[n * 4 + k] * w[j * 4 + k];
                    norm += w[j * 4 + k] * w[j * 4 + k];
                }
                logits[n * 5 + j] = (float) (dot / Math.sqrt(norm));
            }
        }
        LossResult plain = ((LogitLoss) LossRegistry.create("softmax_cross_entropy")).compute(LogitBatch.of(new FloatMatrix(logits, 6, 5), labels));
        assertClose(plain.loss(), sphere.loss(), 1e-5, 1e-7, "loss");
        for (int i = 0; i < logits.length; i++) {
            assertClose(logits[i], sphere.logits()[i], 1e-5, 1e-6, "logits[" + i + "]");
        }
    }

    @Test
    void lSoftmaxWithMarginOneIsThePlainSoftmaxOnWx() {
        LossResult l = run("lsoftmax:m=1", x, 6, w, 5, 4, labels);
        float[] logits = new float[6 * 5];
        for (int n = 0; n < 6; n++) {
            for (int j = 0; j < 5; j++) {
                double dot = 0;
                for (int k = 0; k < 4; k++) {
                    dot += x[n * 4 + k] * w[j * 4 + k];
                }
                logits[n * 5 + j] = (float) dot;
            }
        }
        LossResult plain = ((LogitLoss) LossRegistry.create("softmax_cross_entropy")).compute(LogitBatch.of(new FloatMatrix(logits, 6, 5), labels));
        assertClose(plain.loss(), l.loss(), 1e-5, 1e-7, "loss");
        // d/dx of W x is W^T g: compare with the plain gradient pushed through W.
        for (int n = 0; n < 6; n++) {
            for (int k = 0; k < 4; k++) {
                double expected = 0;
                for (int j = 0; j < 5; j++) {
                    expected += plain.gradLogits()[n * 5 + j] * w[j * 4 + k];
                }
                assertClose(expected, l.gradFeatures()[n * 4 + k], 1e-4, 1e-6, "grad_features");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"normface", "cosface", "am_softmax", "arcface", "combined_margin", "l2_softmax"})
    void scalingAFeatureChangesNothing(String spec) {
        float[] scaled = x.clone();
        for (int k = 0; k < 4; k++) {
            scaled[k] *= 40;
            scaled[8 + k] *= 0.01f;
        }
        LossResult a = run(spec, x, 6, w, 5, 4, labels);
        LossResult b = run(spec, scaled, 6, w, 5, 4, labels);
        assertClose(a.loss(), b.loss(), 1e-5, 1e-6, spec + " loss");
        assertArrayEquals(a.logits(), b.logits(), 1e-4f * 64, spec + " logits");
    }

    @Test
    void theArcFaceTargetLogitNeverIncreasesAsThetaGrows() {
        for (boolean easy : new boolean[] {false, true}) {
            for (double m : new double[] {0.1, 0.5, 1.0, 2.0}) {
                ArcFaceLoss arc = ArcFaceLoss.builder().margin(m).easyMargin(easy).build();
                double previous = Double.POSITIVE_INFINITY;
                for (int i = 0; i <= 20_000; i++) {
                    double theta = Math.PI * i / 20_000;
                    double t = arc.target(Math.cos(theta));
                    if (!easy) {
                        assertTrue(t <= previous + 1e-12, "m " + m + " theta " + theta);
                    }
                    previous = t;
                }
            }
        }
    }

    @Test
    void psiIsContinuousWithAContinuousDerivativeAtEverySectorBoundary() {
        for (int m = 1; m <= 5; m++) {
            MultiplicativeAngle angle = new MultiplicativeAngle(m);
            for (int k = 1; k < m; k++) {
                double boundary = Math.cos(k * Math.PI / m);
                double eps = 1e-9;
                assertClose(angle.psi(boundary + eps), angle.psi(boundary - eps), 0, 1e-6, "psi at m=" + m + " k=" + k);
                assertClose(angle.psiSlope(boundary + eps), angle.psiSlope(boundary - eps), 0, 1e-5, "psi' at m=" + m + " k=" + k);
            }
            for (int i = 0; i <= 1000; i++) {
                double theta = Math.PI * i / 1000;
                int k = Math.min(m - 1, (int) Math.floor(theta * m / Math.PI));
                double expected = ((k & 1) == 0 ? 1 : -1) * Math.cos(m * theta) - 2 * k;
                assertClose(expected, angle.psi(Math.cos(theta)), 0, 1e-9, "psi(" + theta + ") m=" + m);
            }
            assertClose(1, angle.psi(1), 0, 1e-12, "psi(0) = 1");
            assertClose(-2 * m + 1, angle.psi(-1), 0, 1e-9, "psi(pi) = 1 - 2m");
        }
    }

    @Test
    void psiDecreasesMonotonicallyInTheta() {
        for (int m = 1; m <= 5; m++) {
            MultiplicativeAngle angle = new MultiplicativeAngle(m);
            double previous = Double.POSITIVE_INFINITY;
            for (int i = 0; i <= 10_000; i++) {
                double value = angle.psi(Math.cos(Math.PI * i / 10_000));
                assertTrue(value <= previous + 1e-12, "m " + m + " step " + i);
                previous = value;
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"normface", "cosface", "am_softmax", "arcface", "arcface:easy_margin=true", "combined_margin",
            "combined_margin:m1=2,m2=0.3", "sphereface", "sphereface:gradient=sphereface_normalized", "lsoftmax",
            "l2_softmax", "arcface:gradient=straight_through"})
    void extremesGiveFiniteLossesAndGradients(String spec) {
        // Row 0 lies on its class weight, row 1 opposite it, row 2 is zero, row 3 is huge, row 4 tiny.
        float[] weights = {1, 2, 2, -3, 0.5f, 1, 0, 0, 1e-7f};
        float[] features = {2, 4, 4, 3, -0.5f, -1, 0, 0, 0, 1e6f, -2e6f, 5e5f, 1e-20f, 0, 0};
        LossResult r = run(spec, features, 5, weights, 3, 3, 0, 1, 2, 1, 0);
        assertTrue(Double.isFinite(r.loss()), spec + " loss " + r.loss());
        assertAllFinite(r.gradFeatures(), spec + " grad_features");
        assertAllFinite(r.gradWeights(), spec + " grad_weights");
        assertAllFinite(r.losses(), spec + " losses");
        assertAllFinite(r.probabilities(), spec + " probabilities");
    }

    @Test
    void aFeatureOnItsClassWeightGetsNoGradientAlongTheCircle() {
        // c = 1 exactly: d cos / dx is 0, so only the component along x (through the loss's other classes) remains.
        LossResult r = run("arcface:s=16", new float[] {2, 0}, 1, new float[] {1, 0, 0, 1}, 2, 2, 0);
        assertAllFinite(r.gradFeatures(), "grad");
        double cosOther = 0;
        assertClose(16 * Math.cos(0.5), r.logits()[0], 1e-6, 1e-6, "f_y");
        assertClose(16 * cosOther, r.logits()[1], 1e-6, 1e-6, "f_j");
    }

    @Test
    void aZeroClassWeightRowStillLearnsWhereTheLogitIsLinearInIt() {
        // L2-softmax's f_j = alpha x_hat . W_j and L-Softmax's W_j . x are linear in W_j: at W_j = 0 the
        // gradient is alpha x_hat p_j (resp. x p_j), not 0. x = (1, 0), W = ((1, 0), (0, 0)), label 0.
        double p1 = 1 / (1 + Math.E);
        LossResult l2 = run("l2_softmax:alpha=1", new float[] {1, 0}, 1, new float[] {1, 0, 0, 0}, 2, 2, 0);
        assertClose(p1, l2.gradWeights()[2], 1e-6, 1e-7, "l2_softmax dL/dW_1");
        LossResult l = run("lsoftmax:m=1", new float[] {1, 0}, 1, new float[] {1, 0, 0, 0}, 2, 2, 0);
        assertClose(p1, l.gradWeights()[2], 1e-6, 1e-7, "lsoftmax dL/dW_1");
    }

    @Test
    void aZeroFeatureStillLearnsWhereTheLogitIsLinearInIt() {
        // L-Softmax with m = 1 is the plain softmax on W x: at x = 0 the gradient is sum_j (p_j - y_j) W_j.
        LossResult l = run("lsoftmax:m=1", new float[] {0, 0}, 1, new float[] {1, 0, 0, 2}, 2, 2, 0);
        assertClose(-0.5, l.gradFeatures()[0], 1e-6, 1e-7, "dL/dx_0");
        assertClose(1.0, l.gradFeatures()[1], 1e-6, 1e-7, "dL/dx_1");
    }

    @Test
    void aFeatureOnItsClassWeightHasTheExactTargetLogit() {
        // A float cosine of such a pair is 0.99999994; computed in double the target logit is s cos(m).
        float[] weights = {-0.3414262f, 0.07694273f, -0.92521626f, -0.61060524f, -0.7916472f, 1.1000941f, -0.9188873f,
                -0.44881836f, 0.07374421f, 0.8703339f, -1.0501653f, -0.7846087f};
        float[] feature = {-0.7916472f, 1.1000941f, -0.9188873f, -0.44881836f};
        LossResult r = run("arcface", feature, 1, weights, 3, 4, 1);
        assertClose(64 * Math.cos(0.5), r.logits()[1], 1e-7, 1e-6, "f_y");
    }

    @Test
    void inferenceLogitsHaveNoMargin() {
        ArcFaceLoss arc = ArcFaceLoss.builder().scale(16).margin(0.5).build();
        FloatMatrix logits = arc.inferenceLogits(new FloatMatrix(x, 6, 4), new FloatMatrix(w, 5, 4));
        LossResult normface = run("normface:s=16", x, 6, w, 5, 4, labels);
        assertArrayEquals(normface.logits(), logits.data(), 1e-5f);
    }

    @Test
    void ignoredSamplesAddNothing() {
        int[] ignored = labels.clone();
        ignored[2] = -100;
        LossResult r = run("arcface:reduction=none", x, 6, w, 5, 4, ignored);
        assertEquals(0f, r.losses()[2]);
        for (int k = 0; k < 4; k++) {
            assertEquals(0f, r.gradFeatures()[2 * 4 + k]);
        }
    }

    @Test
    void classWeightsAndLabelSmoothingWorkAsInTheSoftmaxLoss() {
        FeatureLoss cos = ((FeatureLoss) LossRegistry.create("cosface:s=10,label_smoothing=0.1"));
        float[] classWeights = {1, 2, 0.5f, 1, 3};
        LossResult r = cos.compute(new FeatureBatch(new FloatMatrix(x, 6, 4), new FloatMatrix(w, 5, 4), labels, classWeights));
        LossResult plain = ((LogitLoss) LossRegistry.create("softmax_cross_entropy:label_smoothing=0.1")).compute(
                LogitBatch.of(new FloatMatrix(r.logits().clone(), 6, 5), labels).classWeights(classWeights));
        assertClose(plain.loss(), r.loss(), 1e-6, 1e-7, "the same cross-entropy on the final logits");
    }

    @Test
    void emptyBatchGivesZero() {
        LossResult r = run("arcface", new float[0], 0, w, 5, 4);
        assertEquals(0.0, r.loss());
        assertArrayEquals(new float[5 * 4], r.gradWeights());
    }

    @Test
    void rejectsBadInput() {
        FeatureLoss arc = ((FeatureLoss) LossRegistry.create("arcface"));
        assertRejected(() -> arc.compute(FeatureBatch.of(FloatMatrix.of("features", new float[][] {{1, 2, 3}}), FloatMatrix.of("weights", new float[][] {{1, 2}}), new int[] {0})), "features has 3 columns, expected 2 (the columns of weights)");
        assertRejected(() -> arc.compute(FeatureBatch.of(FloatMatrix.of("features", new float[][] {{1, Float.NaN}}), FloatMatrix.of("weights", new float[][] {{1, 2}}), new int[] {0})), "features[0][1] is NaN");
        assertRejected(() -> arc.compute(FeatureBatch.of(FloatMatrix.of("features", new float[][] {{1, 2}}), FloatMatrix.of("weights", new float[][] {{1, Float.NEGATIVE_INFINITY}}), new int[] {0})), "weights[0][1] is -Infinity");
        assertRejected(() -> arc.compute(FeatureBatch.of(FloatMatrix.of("features", new float[][] {{1, 2}}), FloatMatrix.of("weights", new float[][] {{1, 2}}), new int[] {1})), "labels[0] = 1 is out of range");
        assertRejected(() -> LossRegistry.create("arcface:m=4"), "m must be in [0, pi), got 4.0");
        assertRejected(() -> LossRegistry.create("sphereface:m=1.5"), "parameter m of sphereface must be an integer, got '1.5'");
        assertRejected(() -> LossRegistry.create("sphereface:m=0"), "m must be an integer >= 1 and <= 4096, got 0");
        assertRejected(() -> LossRegistry.create("lsoftmax:lambda=-1"), "lambda must be a finite number >= 0, got -1.0");
        assertRejected(() -> LossRegistry.create("cosface:s=0"), "s must be a finite number > 0, got 0.0");
        assertRejected(() -> LossRegistry.create("cosface:gradient=straight_through"),
                "gradient=straight_through is not offered by cosface; it has only gradient=exact");
        assertRejected(() -> LossRegistry.create("arcface:gradient=sphereface_normalized"),
                "gradient=sphereface_normalized is not offered by arcface; it offers exact and straight_through");
    }

    @Test
    void lambdaScheduleAndScaleBounds() {
        LambdaSchedule schedule = LambdaSchedule.sphereFace();
        assertEquals(1000, schedule.at(0), 1e-9);
        assertEquals(1000 / (1 + 0.12 * 100), schedule.at(100), 1e-9);
        assertEquals(5, schedule.at(1_000_000), 1e-9);
        assertEquals(0.4509, ScaleBounds.bestProbability(1, 10), 1e-4);
        assertEquals(0.00734, ScaleBounds.bestProbability(1, 1000), 1e-5);
        double s = ScaleBounds.cosFaceMinimumScale(0.9, 10);
        assertEquals(0.9 * Math.log(9 * 0.9 / 0.1), s, 1e-12);
        assertTrue(ScaleBounds.isScaleLargeEnough(64, 0.99, 10_000));
        assertEquals(Math.log(0.9 * 8 / 0.1), ScaleBounds.l2SoftmaxMinimumAlpha(0.9, 10), 1e-12);
    }
}
