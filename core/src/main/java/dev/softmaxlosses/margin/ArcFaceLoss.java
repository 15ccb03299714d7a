package dev.softmaxlosses.margin;

import dev.softmaxlosses.internal.Checks;

import java.util.Map;

/**
 * ArcFace (Deng et al. 2019, "ArcFace: Additive Angular Margin Loss for Deep Face Recognition"): an
 * additive margin on the angle between a normalised feature and its class weight.
 *
 * <pre>
 *   phi = cos(theta + m) = c cos m - sin(theta) sin m,    sin(theta) = sqrt(1 - c^2)
 *   f_y = s phi   where c &gt; cos(pi - m), else s (c - m sin(pi - m))   (keeps f_y decreasing in theta)
 *   f_j = s cos_j
 * </pre>
 *
 * With {@code easy_margin}, {@code phi} is used where {@code c > 0} and {@code c} elsewhere. The exact
 * derivative {@code dphi/dc = cos m + c sin m / sin(theta)} has its {@code 1 / sin(theta)} bounded
 * ({@link MarginLoss#MIN_SIN}); {@code gradient=straight_through} takes {@code df_y/dc = s} as
 * InsightFace's code does. Spec {@code arcface}: {@code s} (64), {@code m} (0.5, in [0, pi)),
 * {@code easy_margin} (false), and the common parameters. With {@code m = 0} it is NormFace;
 * {@link CombinedMarginLoss} with {@code (1, m, 0)} is it without the fallback.
 */
public final class ArcFaceLoss extends ArcMarginLoss {

    public static final String NAME = "arcface";

    private final double scale;
    private final double margin;
    private final boolean easyMargin;
    private final AngularMargin arc;

    private ArcFaceLoss(Builder b) {
        super(b);
        this.scale = Checks.requirePositive("s", b.scale);
        this.arc = new AngularMargin(b.margin, b.easyMargin);
        this.margin = b.margin;
        this.easyMargin = b.easyMargin;
        MarginChecks.requireParametersInRange(this);
    }

    public static Builder builder() {
        return new Builder();
    }

    public double margin() { return margin; }
    public boolean easyMargin() { return easyMargin; }

    @Override String name() { return NAME; }
    @Override AngularMargin arc() { return arc; }
    @Override Gradient offeredGradient() { return Gradient.STRAIGHT_THROUGH; }
    @Override public double scale() { return scale; }
    @Override boolean scalesByFeatureNorm() { return false; }
    @Override boolean scalesByWeightNorm() { return false; }

    @Override
    void putOwnParameters(Map<String, String> p) {
        p.put("s", Double.toString(scale));
        p.put("m", Double.toString(margin));
        p.put("easy_margin", Boolean.toString(easyMargin));
    }

    /** Builds an {@link ArcFaceLoss}. */
    public static final class Builder extends MarginLossBuilder<Builder> {
        private double scale = 64;
        private double margin = 0.5;
        private boolean easyMargin;

        private Builder() {}

        /** The scale s (default 64). */
        public Builder scale(double scale) { this.scale = scale; return this; }

        /** The additive angular margin m in radians, in [0, pi) (default 0.5). */
        public Builder margin(double marginRadians) { this.margin = marginRadians; return this; }

        /** Use {@code phi} only where {@code cos > 0} (default false). */
        public Builder easyMargin(boolean easyMargin) { this.easyMargin = easyMargin; return this; }

        public ArcFaceLoss build() { return new ArcFaceLoss(this); }
    }
}
