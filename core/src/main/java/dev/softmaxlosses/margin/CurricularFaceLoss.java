package dev.softmaxlosses.margin;

import dev.softmaxlosses.LossState;
import dev.softmaxlosses.internal.Checks;

import java.util.Map;

/**
 * CurricularFace (Huang et al. 2020, "CurricularFace: Adaptive Curriculum Learning Loss for Deep Face
 * Recognition"): ArcFace whose hard negatives weigh more as training goes on, through a running
 * {@code t}, the moving average of the target cosines.
 *
 * <pre>
 *   t' = 0.01 mean_n(c_n) + 0.99 t            (over the rows that count; before use, as the official code)
 *   f_y = s T(c)                                (ArcFace's transform with margin m, its fallback included)
 *   f_j = s cos_j (t' + cos_j)   where cos_j &gt; cos(theta_y + m)   (a hard negative)
 *   f_j = s cos_j                 elsewhere
 * </pre>
 *
 * {@code cos(theta_y + m) = c cos m - sin(theta) sin m} without the fallback. Under
 * {@code gradient=exact} (the default) the gradient treats {@code t'} as a constant (the official code
 * updates it without gradient); {@code gradient=full} also differentiates it, so every row's target
 * cosine gets {@code (0.01 / K) sum (dL/df_ij) s cos_ij} over the hard negatives of every row. The
 * choice of hard negatives is not differentiated; a hard negative's logit has slope
 * {@code s (t' + 2 cos_j)}. With
 * {@code t = 0} and no hard negative it is ArcFace. Every class range needs every row's
 * {@code cos(theta_y + m)}: a sharded head exchanges the target cosines first
 * ({@link #needsTargetCosines()}). The state is {@code t}. Spec {@code curricularface}:
 * {@code s} (64), {@code m} (0.5, in [0, pi)), {@code t} (0), and the common parameters.
 */
public final class CurricularFaceLoss extends ArcMarginLoss {

    public static final String NAME = "curricularface";

    /** The weight of the batch's mean target cosine in the update of {@code t}. */
    public static final double MOMENTUM = 0.01;

    private final double scale;
    private final double margin;
    private final double t;
    private final AngularMargin arc;

    private CurricularFaceLoss(Builder b) {
        super(b);
        this.scale = Checks.requirePositive("s", b.scale);
        this.arc = new AngularMargin(b.margin, false);
        this.margin = b.margin;
        this.t = Checks.requireFinite("t", b.t);
        MarginChecks.requireParametersInRange(this);
    }

    public static Builder builder() {
        return new Builder();
    }

    public double margin() { return margin; }

    @Override String name() { return NAME; }
    @Override AngularMargin arc() { return arc; }
    @Override public double scale() { return scale; }
    @Override boolean scalesByFeatureNorm() { return false; }
    @Override boolean scalesByWeightNorm() { return false; }
    @Override boolean needsTargetCosines() { return true; }
    @Override boolean transformsOthers() { return true; }

    @Override
    public LossState state() {
        return LossState.of(new String[] {"t"}, new double[] {t});
    }

    @Override
    public CurricularFaceLoss withState(LossState state) {
        Builder b = toBuilder();
        for (String name : state.names()) {
            if (!name.equals("t")) {
                throw new IllegalArgumentException(NAME + " keeps only t across steps, got " + name);
            }
        }
        return b.t(state.get("t")).build();
    }

    /** Row parameter: {@code cos(theta_y + m)}, the bar of a hard negative; batch parameter: {@code t'}. */
    @Override
    void fixRowTerms(RowTerms terms) {
        double sum = 0;
        for (int r = 0; r < terms.n; r++) {
            if (terms.counts(r)) {
                double c = terms.targetCos[r];
                sum += c;
                terms.param[r] = arc.onArc(c);
            } else {
                terms.param[r] = Double.NaN;
            }
        }
        int k = terms.counted;
        terms.batchParam = k == 0 ? t : MOMENTUM * (sum / k) + (1 - MOMENTUM) * t;
        terms.after = LossState.of(new String[] {"t"}, new double[] {terms.batchParam});
    }

    @Override Gradient offeredGradient() { return Gradient.FULL; }

    @Override
    boolean differentiatesBatchParam() {
        return gradient() == Gradient.FULL;
    }

    @Override
    double otherBatchSlope(double k, double q, double batch) {
        return k > q ? k : 0;
    }

    /** {@code dt'/dc_r = 0.01 / K} for each of the K rows that count. */
    @Override
    double batchSlope(RowTerms terms, int r) {
        return terms.counts(r) ? MOMENTUM / terms.counted : 0;
    }

    @Override
    double other(double k, double q, double batch) {
        return k > q ? k * (batch + k) : k;
    }

    @Override
    double otherSlope(double k, double q, double batch) {
        return k > q ? batch + 2 * k : 1;
    }

    /**
     * The target as ArcFace's; a hard negative's {@code |c (t' + c)|} is at most {@code |t'| + 1}, and
     * {@code t'} (a mean of cosines moving from {@code t}) at most {@code max(|t|, 1)}.
     */
    @Override
    double targetBound() {
        return Math.max(super.targetBound(), Math.max(Math.abs(t), 1) + 1);
    }

    @Override
    double targetSlopeBound() {
        return Math.max(super.targetSlopeBound(), Math.max(Math.abs(t), 1) + 2);
    }

    @Override
    void putOwnParameters(Map<String, String> p) {
        p.put("s", Double.toString(scale));
        p.put("m", Double.toString(margin));
        p.put("t", Double.toString(t));
    }

    private Builder toBuilder() {
        return builder().scale(scale).margin(margin).t(t).commonOf(this);
    }

    /** Builds a {@link CurricularFaceLoss}. */
    public static final class Builder extends MarginLossBuilder<Builder> {
        private double scale = 64;
        private double margin = 0.5;
        private double t;

        private Builder() {}

        /** The scale s (default 64). */
        public Builder scale(double scale) { this.scale = scale; return this; }

        /** The additive angular margin m in radians, in [0, pi) (default 0.5). */
        public Builder margin(double marginRadians) { this.margin = marginRadians; return this; }

        /** The running t the step starts from (default 0, the paper's start). */
        public Builder t(double t) { this.t = t; return this; }

        public CurricularFaceLoss build() { return new CurricularFaceLoss(this); }
    }
}
