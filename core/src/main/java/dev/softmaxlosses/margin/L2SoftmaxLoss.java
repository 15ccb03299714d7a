package dev.softmaxlosses.margin;

import dev.softmaxlosses.internal.Checks;

import java.util.Map;

/**
 * L2-constrained softmax (Ranjan, Castillo and Chellappa 2017, "L2-constrained Softmax Loss for
 * Discriminative Face Verification"): features on a hypersphere of radius alpha, class weights free.
 *
 * <pre>  f_j = alpha x_hat . W_j   (every class)</pre>
 *
 * The lower bound on alpha for a target probability is {@link ScaleBounds#l2SoftmaxMinimumAlpha}.
 * Spec {@code l2_softmax}: {@code alpha} (16), and the common parameters.
 */
public final class L2SoftmaxLoss extends MarginLoss {

    public static final String NAME = "l2_softmax";

    private final double alpha;

    private L2SoftmaxLoss(Builder b) {
        super(b);
        this.alpha = Checks.requirePositive("alpha", b.alpha);
        MarginChecks.requireParametersInRange(this);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override String name() { return NAME; }
    @Override public double scale() { return alpha; }
    @Override boolean scalesByFeatureNorm() { return false; }
    @Override boolean scalesByWeightNorm() { return true; }
    @Override double target(double c) { return c; }
    @Override double targetSlope(double c) { return 1; }

    @Override
    void putOwnParameters(Map<String, String> p) {
        p.put("alpha", Double.toString(alpha));
    }

    /** Builds an {@link L2SoftmaxLoss}. */
    public static final class Builder extends MarginLossBuilder<Builder> {
        private double alpha = 16;

        private Builder() {}

        /** The radius alpha of the features (default 16). */
        public Builder alpha(double alpha) { this.alpha = alpha; return this; }

        public L2SoftmaxLoss build() { return new L2SoftmaxLoss(this); }
    }
}
