package dev.softmaxlosses.margin;

import dev.softmaxlosses.internal.Checks;

import java.util.Map;

/**
 * MagFace (Meng et al. 2021, "MagFace: A Universal Representation for Face Recognition and Quality
 * Assessment"): ArcFace whose margin grows with the feature's magnitude, and a regulariser that
 * rewards a large magnitude, so that the norm of a feature tells its quality.
 *
 * <pre>
 *   a = clamp(||x||, l_a, u_a),   m(a) = (u_m - l_m) / (u_a - l_a) (a - l_a) + l_m,   g(a) = a / u_a^2 + 1 / a
 *   f_y = s T(c; m(a))  (ArcFace's transform, {@link AngularMargin}, with the fallback or easy_margin),   f_j = s cos_j
 *   l_n = w_y (CE_n + lambda_g g(a))
 * </pre>
 *
 * The gradient is exact and flows into the feature's norm through {@code m(a)} and {@code g(a)}, as in
 * the official code (which does not detach the norm); the clamp passes none outside
 * {@code [l_a, u_a]}. Spec {@code magface}: {@code s} (64), {@code l_a} (10), {@code u_a} (110),
 * {@code l_m} (0.45), {@code u_m} (0.8), {@code lambda_g} (35), {@code easy_margin} (false): the
 * paper's face-recognition settings; and the common parameters.
 */
public final class MagFaceLoss extends MarginLoss {

    public static final String NAME = "magface";

    private final double scale;
    private final double lowerNorm;
    private final double upperNorm;
    private final double lowerMargin;
    private final double upperMargin;
    private final double lambda;
    private final boolean easyMargin;

    private MagFaceLoss(Builder b) {
        super(b);
        this.scale = Checks.requirePositive("s", b.scale);
        this.lowerNorm = Checks.requirePositive("l_a", b.lowerNorm);
        this.upperNorm = Checks.requireFinite("u_a", b.upperNorm);
        if (!(upperNorm > lowerNorm)) {
            throw new IllegalArgumentException("u_a must be larger than l_a, got l_a = " + lowerNorm + ", u_a = " + upperNorm);
        }
        this.lowerMargin = b.lowerMargin;
        this.upperMargin = b.upperMargin;
        if (!(lowerMargin >= 0 && lowerMargin < Math.PI && upperMargin >= 0 && upperMargin < Math.PI)) {
            throw new IllegalArgumentException("the margins l_m and u_m must be in [0, pi), got l_m = " + lowerMargin
                    + ", u_m = " + upperMargin);
        }
        this.lambda = Checks.requireNonNegative("lambda_g", b.lambda);
        this.easyMargin = b.easyMargin;
        MarginChecks.requireParametersInRange(this);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override String name() { return NAME; }
    @Override public double scale() { return scale; }
    @Override boolean scalesByFeatureNorm() { return false; }
    @Override boolean scalesByWeightNorm() { return false; }

    public double lowerNorm() { return lowerNorm; }
    public double upperNorm() { return upperNorm; }
    public double lowerMargin() { return lowerMargin; }
    public double upperMargin() { return upperMargin; }

    /** {@code m(a)} for a feature of norm {@code norm}. */
    public double margin(double norm) {
        double a = Math.min(Math.max(norm, lowerNorm), upperNorm);
        return (upperMargin - lowerMargin) / (upperNorm - lowerNorm) * (a - lowerNorm) + lowerMargin;
    }

    private boolean inside(double norm) {
        return norm >= lowerNorm && norm <= upperNorm;
    }

    @Override
    void fixRowTerms(RowTerms terms) {
        for (int r = 0; r < terms.n; r++) {
            terms.param[r] = margin(terms.norms[r]);
        }
        super.fixRowTerms(terms);
    }

    @Override
    double target(double c) {
        return target(c, lowerMargin);
    }

    @Override
    double targetSlope(double c) {
        return targetSlope(c, lowerMargin);
    }

    @Override
    double target(double c, double q) {
        return AngularMargin.target(c, q, easyMargin);
    }

    @Override
    double targetSlope(double c, double q) {
        return AngularMargin.slope(c, q, easyMargin);
    }

    @Override
    double targetParamSlope(double c, double q) {
        return AngularMargin.marginSlope(c, q, easyMargin);
    }

    @Override
    void paramGradient(RowTerms terms, double[] gradParam, double[] gradNorm) {
        double dm = (upperMargin - lowerMargin) / (upperNorm - lowerNorm);
        for (int r = 0; r < terms.n; r++) {
            if (gradParam[r] != 0 && inside(terms.norms[r])) {
                gradNorm[r] += gradParam[r] * dm;
            }
        }
    }

    @Override
    double penalty(double featureNorm) {
        double a = Math.min(Math.max(featureNorm, lowerNorm), upperNorm);
        return lambda * (a / (upperNorm * upperNorm) + 1 / a);
    }

    @Override
    double penaltySlope(double featureNorm) {
        return inside(featureNorm) ? lambda * (1 / (upperNorm * upperNorm) - 1 / (featureNorm * featureNorm)) : 0;
    }

    /** The fallback reaches {@code -1 - m sin(pi - m)}, largest at one end of the margins. */
    @Override
    double targetBound() {
        return 1 + Math.max(AngularMargin.fallbackShift(lowerMargin, easyMargin),
                AngularMargin.fallbackShift(upperMargin, easyMargin));
    }

    @Override
    double targetSlopeBound() {
        return 1 + 1 / MIN_SIN;
    }

    @Override
    void putOwnParameters(Map<String, String> p) {
        p.put("s", Double.toString(scale));
        p.put("l_a", Double.toString(lowerNorm));
        p.put("u_a", Double.toString(upperNorm));
        p.put("l_m", Double.toString(lowerMargin));
        p.put("u_m", Double.toString(upperMargin));
        p.put("lambda_g", Double.toString(lambda));
        p.put("easy_margin", Boolean.toString(easyMargin));
    }

    /** Builds a {@link MagFaceLoss}. */
    public static final class Builder extends MarginLossBuilder<Builder> {
        private double scale = 64;
        private double lowerNorm = 10;
        private double upperNorm = 110;
        private double lowerMargin = 0.45;
        private double upperMargin = 0.8;
        private double lambda = 35;
        private boolean easyMargin;

        private Builder() {}

        /** The scale s (default 64). */
        public Builder scale(double scale) { this.scale = scale; return this; }

        /** The magnitudes l_a and u_a between which the margin grows (defaults 10 and 110). */
        public Builder norms(double lower, double upper) { this.lowerNorm = lower; this.upperNorm = upper; return this; }

        /** The margins l_m and u_m at l_a and u_a, in radians (defaults 0.45 and 0.8). */
        public Builder margins(double lower, double upper) { this.lowerMargin = lower; this.upperMargin = upper; return this; }

        /** The regulariser's weight lambda_g (default 35). */
        public Builder lambda(double lambda) { this.lambda = lambda; return this; }

        /** Use {@code cos(theta + m)} only where {@code cos > 0} (default false). */
        public Builder easyMargin(boolean easyMargin) { this.easyMargin = easyMargin; return this; }

        public MagFaceLoss build() { return new MagFaceLoss(this); }
    }
}
