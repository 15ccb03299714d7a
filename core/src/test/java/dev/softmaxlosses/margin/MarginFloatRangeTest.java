package dev.softmaxlosses.margin;

import dev.softmaxlosses.FeatureLoss;
import dev.softmaxlosses.FeatureBatch;
import static dev.softmaxlosses.testing.Assertions2.assertAllFinite;
import static dev.softmaxlosses.testing.Assertions2.assertRejected;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.spec.LossRegistry;

import org.junit.jupiter.api.Test;

/**
 * The margin family's float32 range: parameters whose logits or target slope pass half the range are
 * refused when built, norms that do so before anything is computed, and a gradient that still
 * overflows names the row, its norm and the parameters.
 */
class MarginFloatRangeTest {

    private static final String HALF = "more than half the float32 range (1.7014117E38)";
    private static final float[][] W = {{1, 0}, {0, 1}};

    private static MarginLoss loss(String spec) {
        return (MarginLoss) LossRegistry.create(spec);
    }

    private static FeatureBatch input(float[][] features, float[][] weights, int... labels) {
        return FeatureBatch.of(features, weights, labels);
    }

    @Test
    void rejectsParametersWhoseLogitsPassHalfTheFloat32Range() {
        assertRejected(() -> loss("cosface:m=3e37"), "cosface with s = 64.0, m = 3.0E37 has final logits up to "
                + "s max|T(c)| = 1.92E39, " + HALF + ", past which a row's spread and loss overflow; choose smaller parameters");
        assertRejected(() -> loss("normface:s=2e38"), "normface with s = 2.0E38 has final logits up to s max|T(c)| = 2.0E38");
        assertRejected(() -> loss("combined_margin:m1=1,m3=-1e37"), "combined_margin with s = 64.0, m1 = 1.0, m2 = 0.5, "
                + "m3 = -1.0E37 has final logits up to s max|T(c)| = 6.4E38");
        assertRejected(() -> loss("l2_softmax:alpha=3e38"), "l2_softmax with alpha = 3.0E38 has final logits up to");
        assertRejected(() -> CosFaceLoss.builder().scale(1e38).margin(1).build(), "cosface with s = 1.0E38, m = 1.0 has final logits");
    }

    @Test
    void rejectsParametersWhoseTargetSlopePassesIt() {
        assertRejected(() -> loss("combined_margin:m1=1e38"), "combined_margin with s = 64.0, m1 = 1.0E38, m2 = 0.5, m3 = 0.0 "
                + "gives the target logit a slope up to s max|T'(c)| = 6.4E45, " + HALF + ", and its gradients overflow; "
                + "choose smaller parameters");
        assertRejected(() -> loss("arcface:s=1e33"), "arcface with s = 1.0E33, m = 0.5, easy_margin = false gives the target "
                + "logit a slope up to s max|T'(c)| = 4.7942642E38");
        loss("arcface:s=1e33,gradient=straight_through");
    }

    @Test
    void rejectsNormsWhoseLogitsPassIt() {
        String lsoftmax = "lsoftmax's final logits can reach 1.2727922E39 (the scale times the norms it carries times "
                + "max|T(c)|), " + HALF + ": features[1] has norm 4.2426407E38 and weights[0] has norm 1.0; scale them down";
        FeatureBatch big = input(new float[][] {{1, 0}, {3e38f, 3e38f}}, W, 0, 1);
        assertRejected(() -> loss("lsoftmax").compute(big), lsoftmax);
        assertRejected(() -> new StreamingMarginHead(loss("lsoftmax"), 1).compute(big), lsoftmax);
        assertRejected(() -> loss("lsoftmax").inferenceLogits(big.features(), big.weights()), lsoftmax);
        assertRejected(() -> loss("l2_softmax").compute(input(new float[][] {{1, 0}}, new float[][] {{1, 0}, {3e38f, -3e38f}}, 0)),
                "l2_softmax's final logits can reach 6.7882251E39", "weights[1] has norm 4.2426407E38; scale them down");
        assertRejected(() -> loss("sphereface").compute(input(new float[][] {{0, 3e37f}}, W, 0)),
                "sphereface's final logits can reach 2.1000001E38", "features[0] has norm 3.0E37; scale them down");
        LossResult fits = loss("sphereface").compute(input(new float[][] {{0, 2e37f}}, W, 0));
        assertAllFinite(fits.losses(), "losses");
        assertAllFinite(fits.gradFeatures(), "grad_features");
    }

    @Test
    void aGradientThatOverflowsNamesTheRowItsNormAndTheParameters() {
        FeatureBatch tiny = input(new float[][] {{1, 1}, {1e-30f, 0}}, W, 0, 1);
        String message = "the gradient of features[1] is not a float32 number (";
        String because = "): features[1] has norm 1.0E-30 (divided as if it were 1.0E-12) and normface has s = 1.0E32; "
                + "a larger norm or smaller parameters keep it finite";
        assertRejected(() -> loss("normface:s=1e32").compute(tiny), message, because);
        assertRejected(() -> new StreamingMarginHead(loss("normface:s=1e32"), 1).compute(tiny), message, because);
        assertAllFinite(loss("normface:s=1e20").compute(tiny).gradFeatures(), "grad_features at s = 1e20");
    }

    @Test
    void aLossThatClassWeightsPushPastFloat32IsRefusedInBothPaths() {
        FeatureBatch weighted = new FeatureBatch(FloatMatrix.of("features", new float[][] {{0, 1}}), FloatMatrix.of("weights", W), new int[] {0}, new float[] {1e10f, 1});
        String message = "the loss of sample 0 is 9.9999997E47, beyond the float32 range (3.4028235E38): "
                + "lower class_weights (up to 1.0E10), which multiply it";
        assertRejected(() -> loss("normface:s=1e38").compute(weighted), message);
        assertRejected(() -> new StreamingMarginHead(loss("normface:s=1e38"), 1).compute(weighted), message);
    }

    @Test
    void inferenceLogitsOfLargeButFittingNormsAreFinite() {
        FloatMatrix x = new FloatMatrix(new float[] {1e18f, 0, 0, 1e18f}, 2, 2);
        FloatMatrix w = new FloatMatrix(new float[] {1e19f, 0, 0, 1e19f}, 2, 2);
        assertAllFinite(loss("lsoftmax:m=1").inferenceLogits(x, w).data(), "logits");
    }
}
