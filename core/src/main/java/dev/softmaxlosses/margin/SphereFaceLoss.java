package dev.softmaxlosses.margin;

/**
 * A-Softmax, SphereFace (Liu et al. 2017, "SphereFace: Deep Hypersphere Embedding for Face
 * Recognition"): a multiplicative angular margin with normalised class weights and raw features.
 *
 * <pre>
 *   f_y = ||x|| (lambda c + psi(theta)) / (1 + lambda),   f_j = ||x|| cos_j
 *   psi(theta) = (-1)^k cos(m theta) - 2k  for theta in [k pi / m, (k + 1) pi / m]
 * </pre>
 *
 * {@code psi} comes from Chebyshev polynomials ({@link MultiplicativeAngle}), never {@code acos}.
 * {@code lambda} is the papers' annealing weight; {@link LambdaSchedule} gives their schedule.
 * {@code gradient=sphereface_normalized} reproduces the original Caffe layer, which divides the
 * target's feature gradient {@code psi' w + (psi - c psi') x / ||x||} by
 * {@code sqrt(psi'^2 + ((psi - c psi') / ||x||)^2)} (a rescaling, not a gradient). Spec
 * {@code sphereface}: {@code m} (4), {@code lambda} (0), and the common parameters. With
 * {@code m = 1} it is the softmax on {@code ||x|| cos}. Related: {@link LSoftmaxLoss}.
 */
public final class SphereFaceLoss extends MultiplicativeMarginLoss {

    public static final String NAME = "sphereface";

    private SphereFaceLoss(Builder b) {
        super(b, b.margin, b.lambda);
    }

    /** m = 4, lambda = 0 unless set. */
    public static Builder builder() {
        return new Builder();
    }

    @Override String name() { return NAME; }
    @Override Gradient offeredGradient() { return Gradient.SPHEREFACE_NORMALIZED; }
    @Override boolean scalesByWeightNorm() { return false; }

    /**
     * With {@code gradient=sphereface_normalized}, replaces the target's exact feature gradient
     * {@code G/(1+lambda) (psi' w_hat + (psi - c psi') x_hat)} by the Caffe layer's normalised one; the
     * lambda part and the other classes stay exact.
     */
    @Override
    void adjustTargetFeatureGradient(double dLdf, double cosine, double featureNorm, float[] featuresHat, int r,
                                     float[] w, int y, double weightNorm, int d, float[] gradFeatures) {
        if (gradient() != Gradient.SPHEREFACE_NORMALIZED || featureNorm < NORM_EPS) {
            return;
        }
        double slope = angle.psiSlope(cosine);
        double alongX = angle.psi(cosine) - cosine * slope;
        double length = Math.sqrt(slope * slope + (alongX / featureNorm) * (alongX / featureNorm));
        if (length == 0) {
            return;
        }
        double factor = dLdf / (1 + lambda) * (1 / length - 1);
        double inverseWeightNorm = 1 / Math.max(weightNorm, NORM_EPS);
        for (int k = 0; k < d; k++) {
            gradFeatures[r * d + k] += (float) (factor * (slope * (float) (w[y * d + k] * inverseWeightNorm)
                    + alongX * featuresHat[r * d + k]));
        }
    }

    /** Builds a {@link SphereFaceLoss}. */
    public static final class Builder extends MultiplicativeMarginLoss.Builder<Builder> {
        private Builder() {
            super(4);
        }

        public SphereFaceLoss build() { return new SphereFaceLoss(this); }
    }
}
