package dev.softmaxlosses.margin;

import dev.softmaxlosses.internal.Checks;

import java.util.Map;

/**
 * The additive cosine margin {@code f_y = s (cos_y - m)}, {@code f_j = s cos_j} on normalised
 * features and class weights, which CosFace and AM-Softmax published at the same time with
 * different default scales: the two differ only in their names and defaults, and share this class
 * and its builder.
 */
public abstract sealed class AdditiveCosineMarginLoss extends MarginLoss permits CosFaceLoss, AmSoftmaxLoss {

    private final double scale;
    private final double margin;

    AdditiveCosineMarginLoss(Builder<?> b) {
        super(b);
        this.scale = Checks.requirePositive("s", b.scale);
        this.margin = Checks.requireFinite("m", b.margin);
        MarginChecks.requireParametersInRange(this);
    }

    /** Asked by the constructor, before any field is set. */
    @Override String name() { return this instanceof CosFaceLoss ? CosFaceLoss.NAME : AmSoftmaxLoss.NAME; }

    public double margin() { return margin; }

    @Override public double scale() { return scale; }
    @Override boolean scalesByFeatureNorm() { return false; }
    @Override boolean scalesByWeightNorm() { return false; }
    @Override double target(double c) { return c - margin; }
    @Override double targetSlope(double c) { return 1; }
    @Override double targetBound() { return 1 + Math.abs(margin); }

    @Override
    void putOwnParameters(Map<String, String> p) {
        p.put("s", Double.toString(scale));
        p.put("m", Double.toString(margin));
    }

    /** The builder of both: the scale s and the margin m, with each loss's default scale. */
    public static final class Builder<L extends AdditiveCosineMarginLoss> extends MarginLossBuilder<Builder<L>> {
        private final java.util.function.Function<Builder<L>, L> constructor;
        private double scale;
        private double margin = 0.35;

        Builder(double defaultScale, java.util.function.Function<Builder<L>, L> constructor) {
            this.scale = defaultScale;
            this.constructor = constructor;
        }

        /** The scale s of the cosines. */
        public Builder<L> scale(double scale) { this.scale = scale; return this; }

        /** The additive cosine margin m (default 0.35). */
        public Builder<L> margin(double margin) { this.margin = margin; return this; }

        public L build() { return constructor.apply(this); }
    }
}
