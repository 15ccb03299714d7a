package dev.softmaxlosses.margin;

import dev.softmaxlosses.internal.Checks;

import java.util.Map;

/**
 * The combined margin of InsightFace (Deng et al. 2019): SphereFace's multiplicative, ArcFace's
 * additive angular and CosFace's additive cosine margins in one target transform.
 *
 * <pre>  f_y = s (cos(m1 theta + m2) - m3),   theta = acos(c);   f_j = s cos_j</pre>
 *
 * Exactly as written, with no fallback past {@code pi}: {@code (1, m, 0)} is ArcFace where
 * {@code theta + m < pi}, {@code (1, 0, m)} is CosFace. The derivative
 * {@code m1 sin(m1 theta + m2) / sin(theta)} has its {@code 1 / sin(theta)} bounded;
 * {@code gradient=straight_through} takes {@code df_y/dc = s} as InsightFace's code does. Spec
 * {@code combined_margin}: {@code s} (64), {@code m1} (1), {@code m2} (0.5), {@code m3} (0), and the
 * common parameters.
 */
public final class CombinedMarginLoss extends MarginLoss {

    public static final String NAME = "combined_margin";

    private final double scale;
    private final double m1;
    private final double m2;
    private final double m3;

    private CombinedMarginLoss(Builder b) {
        super(b);
        this.scale = Checks.requirePositive("s", b.scale);
        this.m1 = Checks.requireFinite("m1", b.m1);
        this.m2 = Checks.requireFinite("m2", b.m2);
        this.m3 = Checks.requireFinite("m3", b.m3);
        MarginChecks.requireParametersInRange(this);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override String name() { return NAME; }
    @Override Gradient offeredGradient() { return Gradient.STRAIGHT_THROUGH; }
    @Override public double scale() { return scale; }
    @Override boolean scalesByFeatureNorm() { return false; }
    @Override boolean scalesByWeightNorm() { return false; }

    @Override
    double target(double c) {
        return Math.cos(m1 * Math.acos(c) + m2) - m3;
    }

    @Override
    double targetSlope(double c) {
        return m1 * Math.sin(m1 * Math.acos(c) + m2) / Normalisation.boundedSin(c);
    }

    @Override
    double targetBound() {
        return 1 + Math.abs(m3);
    }

    @Override
    double targetSlopeBound() {
        return Math.abs(m1) / MIN_SIN;
    }

    @Override
    void putOwnParameters(Map<String, String> p) {
        p.put("s", Double.toString(scale));
        p.put("m1", Double.toString(m1));
        p.put("m2", Double.toString(m2));
        p.put("m3", Double.toString(m3));
    }

    /** Builds a {@link CombinedMarginLoss}. */
    public static final class Builder extends MarginLossBuilder<Builder> {
        private double scale = 64;
        private double m1 = 1;
        private double m2 = 0.5;
        private double m3 = 0;

        private Builder() {}

        /** The scale s (default 64). */
        public Builder scale(double scale) { this.scale = scale; return this; }

        /** The multiplicative angular m1, additive angular m2 (radians) and additive cosine m3 margins. */
        public Builder margins(double m1, double m2Radians, double m3) {
            this.m1 = m1;
            this.m2 = m2Radians;
            this.m3 = m3;
            return this;
        }

        /** The multiplicative angular margin m1 (default 1). */
        public Builder m1(double m1) { this.m1 = m1; return this; }

        /** The additive angular margin m2 in radians (default 0.5). */
        public Builder m2(double m2Radians) { this.m2 = m2Radians; return this; }

        /** The additive cosine margin m3 (default 0). */
        public Builder m3(double m3) { this.m3 = m3; return this; }

        public CombinedMarginLoss build() { return new CombinedMarginLoss(this); }
    }
}
