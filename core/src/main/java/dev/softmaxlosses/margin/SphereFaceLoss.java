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
        super(b.options, b.margin, b.lambda);
    }

    /** m = 4, lambda = 0 unless set. */
    public static Builder builder() {
        return new Builder();
    }

    @Override String name() { return NAME; }
    @Override Gradient offeredGradient() { return Gradient.SPHEREFACE_NORMALIZED; }
    @Override boolean scalesByWeightNorm() { return false; }

    /**
     * Replaces each target's exact feature gradient {@code G/(1+lambda) (psi' w + (psi - c psi') x_hat)}
     * by the Caffe layer's normalised one; the lambda part and the other classes stay exact.
     */
    static void normaliseTargetFeatureGradients(MarginLoss loss, Geometry g, int[] labels, int ignore,
                                                float[] gradLogits, float[] gradFeatures) {
        SphereFaceLoss sphere = (SphereFaceLoss) loss;
        int c = g.c;
        int d = g.d;
        for (int r = 0; r < g.n; r++) {
            int y = labels[r];
            double norm = g.featureNorms[r];
            if (y == ignore || gradLogits[r * c + y] == 0 || norm < NORM_EPS) {
                continue;
            }
            double cosine = g.targetCos[r];
            double slope = sphere.angle.psiSlope(cosine);
            double alongX = sphere.angle.psi(cosine) - cosine * slope;
            double length = Math.sqrt(slope * slope + (alongX / norm) * (alongX / norm));
            if (length == 0) {
                continue;
            }
            double factor = gradLogits[r * c + y] / (1 + sphere.lambda) * (1 / length - 1);
            for (int k = 0; k < d; k++) {
                gradFeatures[r * d + k] += (float) (factor * (slope * g.weightsHat[y * d + k] + alongX * g.featuresHat[r * d + k]));
            }
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
