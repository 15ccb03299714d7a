package dev.softmaxlosses.margin;

import dev.softmaxlosses.internal.Checks;

import java.util.Map;

/**
 * NormFace (Wang et al. 2017, "NormFace: L2 Hypersphere Embedding for Face Verification"): the softmax
 * loss on cosines, with features and class weights normalised and the cosines scaled by {@code s}.
 *
 * <pre>  f_j = s cos_j  (every class, the target included)</pre>
 *
 * Without a scale the best probability is bounded ({@link ScaleBounds#bestProbability}); NormFace
 * learns {@code s}, whose gradient is {@link dev.softmaxlosses.LossResult#gradScale()}. Spec
 * {@code normface}: {@code s} (16) and the common {@code label_smoothing}, {@code ignore_index},
 * {@code reduction}. CosFace, AM-Softmax and ArcFace with margin 0 are this loss.
 */
public final class NormFaceLoss extends MarginLoss {

    public static final String NAME = "normface";

    private final double scale;

    private NormFaceLoss(Builder b) {
        super(b);
        this.scale = Checks.requirePositive("s", b.scale);
        MarginChecks.requireParametersInRange(this);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override String name() { return NAME; }
    @Override public double scale() { return scale; }
    @Override boolean scalesByFeatureNorm() { return false; }
    @Override boolean scalesByWeightNorm() { return false; }
    @Override double target(double c) { return c; }
    @Override double targetSlope(double c) { return 1; }

    @Override
    void putOwnParameters(Map<String, String> p) {
        p.put("s", Double.toString(scale));
    }

    /** Builds a {@link NormFaceLoss}. */
    public static final class Builder extends MarginLossBuilder<Builder> {
        private double scale = 16;

        private Builder() {}

        /** The scale s of the cosines (default 16). */
        public Builder scale(double scale) { this.scale = scale; return this; }

        public NormFaceLoss build() { return new NormFaceLoss(this); }
    }

}
