package dev.softmaxlosses.margin;

import dev.softmaxlosses.internal.Checks;

import java.util.Map;

/**
 * Sub-center ArcFace (Deng et al. 2020, "Sub-center ArcFace: Boosting Face Recognition by Large-scale
 * Noisy Web Faces"): {@code k} sub-centres per class, so that a class's noisy samples gather around
 * sub-centres of their own instead of pulling its dominant one.
 *
 * <pre>
 *   cos_nc = max_j cos(x_n, W_{c k + j})        (ties: the first j)
 *   f_y = s T(cos_ny)   (ArcFace's transform, {@link AngularMargin}),   f_c = s cos_nc
 * </pre>
 *
 * {@code weights} are {@code C k x D}, rows {@code c k .. c k + k - 1} being class {@code c}'s
 * sub-centres; the logits are {@code N x C}. The gradient of each (row, class) flows only into its
 * chosen sub-centre. {@link SubCentreCleaning} finds each class's dominant sub-centre and the samples
 * far from it. Spec {@code subcenter_arcface}: {@code s} (64), {@code m} (0.5, in [0, pi)),
 * {@code k} (3, the paper's), {@code easy_margin} (false), and the common parameters; with
 * {@code k = 1} it is ArcFace.
 */
public final class SubCenterArcFaceLoss extends ArcMarginLoss {

    public static final String NAME = "subcenter_arcface";

    private final double scale;
    private final double margin;
    private final int subCentres;
    private final boolean easyMargin;
    private final AngularMargin arc;

    private SubCenterArcFaceLoss(Builder b) {
        super(b);
        this.scale = Checks.requirePositive("s", b.scale);
        this.arc = new AngularMargin(b.margin, b.easyMargin);
        if (b.subCentres < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + b.subCentres);
        }
        this.margin = b.margin;
        this.subCentres = b.subCentres;
        this.easyMargin = b.easyMargin;
        MarginChecks.requireParametersInRange(this);
    }

    public static Builder builder() {
        return new Builder();
    }

    public double margin() { return margin; }

    @Override String name() { return NAME; }
    @Override AngularMargin arc() { return arc; }
    @Override public double scale() { return scale; }
    @Override public int subCentres() { return subCentres; }
    @Override boolean scalesByFeatureNorm() { return false; }
    @Override boolean scalesByWeightNorm() { return false; }

    @Override
    void putOwnParameters(Map<String, String> p) {
        p.put("s", Double.toString(scale));
        p.put("m", Double.toString(margin));
        p.put("k", Integer.toString(subCentres));
        p.put("easy_margin", Boolean.toString(easyMargin));
    }

    /** Builds a {@link SubCenterArcFaceLoss}. */
    public static final class Builder extends MarginLossBuilder<Builder> {
        private double scale = 64;
        private double margin = 0.5;
        private int subCentres = 3;
        private boolean easyMargin;

        private Builder() {}

        /** The scale s (default 64). */
        public Builder scale(double scale) { this.scale = scale; return this; }

        /** The additive angular margin m in radians, in [0, pi) (default 0.5). */
        public Builder margin(double marginRadians) { this.margin = marginRadians; return this; }

        /** The sub-centres k of each class, at least 1 (default 3). */
        public Builder subCentres(int k) { this.subCentres = k; return this; }

        /** Use {@code cos(theta + m)} only where {@code cos > 0} (default false). */
        public Builder easyMargin(boolean easyMargin) { this.easyMargin = easyMargin; return this; }

        public SubCenterArcFaceLoss build() { return new SubCenterArcFaceLoss(this); }
    }
}
