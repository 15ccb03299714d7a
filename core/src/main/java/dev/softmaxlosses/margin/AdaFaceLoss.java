package dev.softmaxlosses.margin;

import dev.softmaxlosses.LossState;
import dev.softmaxlosses.internal.Checks;

import java.util.Map;

/**
 * AdaFace (Kim et al. 2022, "AdaFace: Quality Adaptive Margin for Face Recognition"): a margin that
 * moves between ArcFace's angular and CosFace's additive one with the feature's norm, a proxy of the
 * image's quality, measured against the running statistics of the batches' norms.
 *
 * <pre>
 *   a'_n = clip(||x_n||, 0.001, 100)
 *   batch_mean' = t_alpha mean(a') + (1 - t_alpha) batch_mean        (over the rows that count; before use)
 *   batch_std'  = t_alpha std(a')  + (1 - t_alpha) batch_std         (std unbiased; kept with fewer than 2 rows)
 *   q_n = clip(h (a'_n - batch_mean') / (batch_std' + eps), -1, 1)
 *   cc = clamp(cos, -1 + eps, 1 - eps) for every cosine,   eps = 1e-3
 *   f_y = s (cos(clip(acos(cc_y) - m q_n, eps, pi - eps)) - (m + m q_n)),   f_j = s cc_j
 * </pre>
 *
 * At {@code q = -1} the target is ArcFace's {@code cos(theta + m)}, at {@code q = 0} CosFace's
 * {@code c - m}. The official code detaches the norms and their statistics: under
 * {@code gradient=exact} (the default) {@code q} is a constant and the gradient flows through the
 * cosines only; {@code gradient=full} also differentiates {@code q_n} with respect to every norm
 * (its own, and all through the batch's mean and standard deviation) where no clip is active. The
 * clamps and clips pass no gradient where they cut. The state is {@code batch_mean} and
 * {@code batch_std} (the official buffers start at 20 and 100). Spec {@code adaface}: {@code s} (64),
 * {@code m} (0.4), {@code h} (0.333), {@code t_alpha} (0.01), {@code batch_mean} (20),
 * {@code batch_std} (100), and the common parameters.
 */
public final class AdaFaceLoss extends MarginLoss {

    public static final String NAME = "adaface";

    /** The official code's clamp of the cosines and the angles, and the floor of the deviation. */
    public static final double EPS = 1e-3;

    private static final double MIN_NORM = 0.001;
    private static final double MAX_NORM = 100;

    private final double scale;
    private final double margin;
    private final double h;
    private final double alpha;
    private final double batchMean;
    private final double batchStd;

    private AdaFaceLoss(Builder b) {
        super(b);
        this.scale = Checks.requirePositive("s", b.scale);
        this.margin = Checks.requireNonNegative("m", b.margin);
        this.h = Checks.requireNonNegative("h", b.h);
        if (!(b.alpha >= 0 && b.alpha <= 1)) {
            throw new IllegalArgumentException("t_alpha must be in [0, 1], got " + b.alpha);
        }
        this.alpha = b.alpha;
        this.batchMean = Checks.requireFinite("batch_mean", b.batchMean);
        this.batchStd = Checks.requireNonNegative("batch_std", b.batchStd);
        MarginChecks.requireParametersInRange(this);
    }

    public static Builder builder() {
        return new Builder();
    }

    public double margin() { return margin; }

    @Override String name() { return NAME; }
    @Override Gradient offeredGradient() { return Gradient.FULL; }
    @Override public double scale() { return scale; }
    @Override boolean scalesByFeatureNorm() { return false; }
    @Override boolean scalesByWeightNorm() { return false; }
    @Override boolean transformsOthers() { return true; }

    @Override
    public LossState state() {
        return LossState.of(new String[] {"batch_mean", "batch_std"}, new double[] {batchMean, batchStd});
    }

    @Override
    public AdaFaceLoss withState(LossState state) {
        Builder b = builder().scale(scale).margin(margin).h(h).alpha(alpha).statistics(batchMean, batchStd).commonOf(this);
        for (String name : state.names()) {
            switch (name) {
                case "batch_mean" -> b.batchMean = state.get(name);
                case "batch_std" -> b.batchStd = state.get(name);
                default -> throw new IllegalArgumentException(NAME + " keeps batch_mean and batch_std across steps, got " + name);
            }
        }
        return b.build();
    }

    /** The batch's norm statistics, updated as the official code does before they are used. */
    private record Statistics(double mean, double std, double runningMean, double runningStd) {}

    private Statistics statistics(RowTerms terms) {
        int k = terms.counted;
        double sum = 0;
        for (int r = 0; r < terms.n; r++) {
            sum += terms.counts(r) ? clipNorm(terms.norms[r]) : 0;
        }
        double mean = k == 0 ? 0 : sum / k;
        double squares = 0;
        for (int r = 0; r < terms.n; r++) {
            double e = terms.counts(r) ? clipNorm(terms.norms[r]) - mean : 0;
            squares += e * e;
        }
        double std = k < 2 ? 0 : Math.sqrt(squares / (k - 1));
        double runningMean = k == 0 ? batchMean : alpha * mean + (1 - alpha) * batchMean;
        double runningStd = k < 2 ? batchStd : alpha * std + (1 - alpha) * batchStd;
        return new Statistics(mean, std, runningMean, runningStd);
    }

    private static double clipNorm(double norm) {
        return Math.min(Math.max(norm, MIN_NORM), MAX_NORM);
    }

    /** {@code h (a' - batch_mean') / (batch_std' + eps)}, before its clip to [-1, 1]. */
    private double unclipped(double norm, Statistics st) {
        return h * (clipNorm(norm) - st.runningMean) / (st.runningStd + EPS);
    }

    /** Row parameter: {@code q_n}. */
    @Override
    void fixRowTerms(RowTerms terms) {
        Statistics st = statistics(terms);
        for (int r = 0; r < terms.n; r++) {
            terms.param[r] = Math.min(Math.max(unclipped(terms.norms[r], st), -1), 1);
        }
        terms.after = LossState.of(new String[] {"batch_mean", "batch_std"}, new double[] {st.runningMean, st.runningStd});
    }

    private static double clampCosine(double c) {
        return Math.min(Math.max(c, -1 + EPS), 1 - EPS);
    }

    private static boolean insideClamp(double c) {
        return c >= -1 + EPS && c <= 1 - EPS;
    }

    /** {@code acos(cc) - m q} before its clip to {@code [eps, pi - eps]}. */
    private double angle(double c, double q) {
        return Math.acos(clampCosine(c)) - margin * q;
    }

    private static boolean insideClip(double angle) {
        return angle >= EPS && angle <= Math.PI - EPS;
    }

    @Override
    double target(double c) {
        return target(c, 0);
    }

    @Override
    double targetSlope(double c) {
        return targetSlope(c, 0);
    }

    @Override
    double target(double c, double q) {
        double angle = Math.min(Math.max(angle(c, q), EPS), Math.PI - EPS);
        return Math.cos(angle) - (margin + margin * q);
    }

    /** {@code sin(theta_m) / sin(theta)} inside the clamp and the clip; 0 where either cuts. */
    @Override
    double targetSlope(double c, double q) {
        double angle = angle(c, q);
        if (!insideClamp(c) || !insideClip(angle)) {
            return 0;
        }
        double cc = clampCosine(c);
        return Math.sin(angle) / Math.sqrt(1 - cc * cc);
    }

    @Override
    double targetParamSlope(double c, double q) {
        double angle = angle(c, q);
        return (insideClip(angle) ? margin * Math.sin(angle) : 0) - margin;
    }

    @Override
    double other(double k, double q, double batch) {
        return clampCosine(k);
    }

    @Override
    double otherSlope(double k, double q, double batch) {
        return insideClamp(k) ? 1 : 0;
    }

    /**
     * Under {@code gradient=full}: {@code dL/da'_k = sum_n G_n du_n/da'_k} with {@code G_n = dL/dq_n} where
     * {@code q_n}'s clip is not active and {@code u_n = h (a'_n - mu') / (sigma' + eps)}:
     * {@code du_n/da'_k = h/(sigma' + eps) (delta_nk - t_alpha / K) - h (a'_n - mu') / (sigma' + eps)^2 t_alpha dstd/da'_k},
     * {@code dstd/da'_k = (a'_k - mean) / ((K - 1) std)} (0 for a zero deviation or fewer than two rows).
     */
    @Override
    void paramGradient(RowTerms terms, double[] gradParam, double[] gradNorm) {
        if (gradient() != Gradient.FULL) {
            return;
        }
        Statistics st = statistics(terms);
        double inv = 1 / (st.runningStd + EPS);
        double sumG = 0;
        double sumGu = 0;
        for (int r = 0; r < terms.n; r++) {
            double u = unclipped(terms.norms[r], st);
            if (gradParam[r] != 0 && Math.abs(u) <= 1) {
                sumG += gradParam[r];
                sumGu += gradParam[r] * (clipNorm(terms.norms[r]) - st.runningMean);
            }
        }
        int k = terms.counted;
        boolean stdMoves = k >= 2 && st.std > 0;
        for (int r = 0; r < terms.n; r++) {
            double a = terms.norms[r];
            if (!terms.counts(r) || a < MIN_NORM || a > MAX_NORM) {
                continue;
            }
            double own = gradParam[r] != 0 && Math.abs(unclipped(a, st)) <= 1 ? gradParam[r] : 0;
            double g = h * inv * (own - alpha / k * sumG);
            if (stdMoves) {
                g -= h * inv * inv * alpha * (clipNorm(a) - st.mean) / ((k - 1) * st.std) * sumGu;
            }
            gradNorm[r] += g;
        }
    }

    /** The target lies in {@code [cos(pi - eps) - 2m, 1]}. */
    @Override
    double targetBound() {
        return 1 + 2 * margin;
    }

    /** {@code sin(theta_m) / sin(theta)} with {@code sin(theta) >= sin(acos(1 - eps))}. */
    @Override
    double targetSlopeBound() {
        return 1 / Math.sqrt(1 - (1 - EPS) * (1 - EPS));
    }

    @Override
    void putOwnParameters(Map<String, String> p) {
        p.put("s", Double.toString(scale));
        p.put("m", Double.toString(margin));
        p.put("h", Double.toString(h));
        p.put("t_alpha", Double.toString(alpha));
        p.put("batch_mean", Double.toString(batchMean));
        p.put("batch_std", Double.toString(batchStd));
    }

    /** Builds an {@link AdaFaceLoss}. */
    public static final class Builder extends MarginLossBuilder<Builder> {
        private double scale = 64;
        private double margin = 0.4;
        private double h = 0.333;
        private double alpha = 0.01;
        private double batchMean = 20;
        private double batchStd = 100;

        private Builder() {}

        /** The scale s (default 64). */
        public Builder scale(double scale) { this.scale = scale; return this; }

        /** The margin m (default 0.4). */
        public Builder margin(double margin) { this.margin = margin; return this; }

        /** The concentration h of the norm's scaler (default 0.333). */
        public Builder h(double h) { this.h = h; return this; }

        /** The weight t_alpha of a batch's statistics in the running ones, in [0, 1] (default 0.01). */
        public Builder alpha(double alpha) { this.alpha = alpha; return this; }

        /** The running norm statistics the step starts from (defaults 20 and 100, the official start). */
        public Builder statistics(double batchMean, double batchStd) {
            this.batchMean = batchMean;
            this.batchStd = batchStd;
            return this;
        }

        public AdaFaceLoss build() { return new AdaFaceLoss(this); }
    }
}
