package dev.softmaxlosses.margin;

import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.internal.Checks;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The additive cosine margin {@code f_y = s (cos_y - m)}, {@code f_j = s cos_j} on normalised
 * features and class weights, which CosFace and AM-Softmax published at the same time with
 * different default scales: the two differ only in their names and defaults.
 */
abstract sealed class AdditiveCosineMarginLoss extends MarginLoss permits CosFaceLoss, AmSoftmaxLoss {

    private final double scale;
    private final double margin;

    AdditiveCosineMarginLoss(Options options, double scale, double margin) {
        super(options);
        this.scale = Checks.requirePositive("s", scale);
        this.margin = Checks.requireFinite("m", margin);
        MarginChecks.requireParametersInRange(this);
    }

    public double margin() { return margin; }

    @Override public double scale() { return scale; }
    @Override boolean scalesByFeatureNorm() { return false; }
    @Override boolean scalesByWeightNorm() { return false; }
    @Override double target(double c) { return c - margin; }
    @Override double targetSlope(double c) { return 1; }
    @Override double targetBound() { return 1 + Math.abs(margin); }

    @Override
    public LossSpec spec() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("s", Double.toString(scale));
        p.put("m", Double.toString(margin));
        putCommon(p);
        return new LossSpec(name(), p);
    }

    /** The builder of both: the scale s and the margin m, with each loss's defaults. */
    abstract static class Builder<B extends Builder<B>> extends MarginLoss.Builder<B> {
        double scale;
        double margin = 0.35;

        Builder(double defaultScale) {
            this.scale = defaultScale;
        }

        /** The scale s of the cosines. */
        @SuppressWarnings("unchecked")
        public B scale(double scale) { this.scale = scale; return (B) this; }

        /** The additive cosine margin m (default 0.35). */
        @SuppressWarnings("unchecked")
        public B margin(double margin) { this.margin = margin; return (B) this; }
    }
}
