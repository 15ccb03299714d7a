package dev.softmaxlosses.margin;

import dev.softmaxlosses.LossState;
import dev.softmaxlosses.internal.Checks;

import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * ElasticFace (Boutros et al. 2022, "ElasticFace: Elastic Margin Loss for Deep Face Recognition"):
 * ArcFace's or CosFace's margin drawn afresh for every sample of every step from a normal
 * distribution, so that the decision boundary is not one fixed line.
 *
 * <pre>
 *   m_n = m + std z_n,   z_n the successive nextGaussian() of new java.util.Random(seed + step), one per row that counts, in row order
 *   variant=arc:  f_y = s cos(theta + m_n)        (no fallback, as the official code)
 *   variant=cos:  f_y = s (c - m_n)
 *   f_j = s cos_j
 * </pre>
 *
 * The margins are constants of the step and the gradient is exact. The state is {@code step}, which
 * each call advances by one, so that successive steps draw new margins; {@link #withMargins} gives the
 * margins of one batch instead. Spec {@code elasticface}: {@code variant} ({@code arc}),
 * {@code s} (64), {@code m} (0.5 for arc, 0.35 for cos), {@code std} (0.05), {@code seed} (0),
 * {@code step} (0), and the common parameters.
 */
public final class ElasticFaceLoss extends MarginLoss {

    public static final String NAME = "elasticface";

    /** Which margin is drawn. */
    public enum Variant {
        /** An additive angular margin (ElasticFace-Arc). */
        ARC,
        /** An additive cosine margin (ElasticFace-Cos). */
        COS
    }

    /** The most standard deviations a drawn margin lies from its mean (nextGaussian's reach from 53-bit uniforms). */
    private static final double MAX_DEVIATIONS = 9;

    private final Variant variant;
    private final double scale;
    private final double margin;
    private final double std;
    private final int seed;
    private final long step;
    private final float[] margins;

    private ElasticFaceLoss(Builder b) {
        super(b);
        if (b.variant == null) {
            throw new IllegalArgumentException("variant must not be null");
        }
        this.variant = b.variant;
        this.scale = Checks.requirePositive("s", b.scale);
        this.margin = Checks.requireFinite("m", Double.isNaN(b.margin) ? (variant == Variant.ARC ? 0.5 : 0.35) : b.margin);
        this.std = Checks.requireNonNegative("std", b.std);
        this.seed = b.seed;
        if (b.step < 0 || b.step >= 1L << 53) {
            throw new IllegalArgumentException("step must be a whole number from 0 to 2^53 - 1, got " + b.step);
        }
        this.step = b.step;
        this.margins = b.margins;
        for (int r = 0; margins != null && r < margins.length; r++) {
            if (!Float.isFinite(margins[r])) {
                throw new IllegalArgumentException("margins[" + r + "] must be a finite number, got " + margins[r]);
            }
        }
        MarginChecks.requireParametersInRange(this);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Variant variant() { return variant; }
    public double margin() { return margin; }

    @Override String name() { return NAME; }
    @Override public double scale() { return scale; }
    @Override boolean scalesByFeatureNorm() { return false; }
    @Override boolean scalesByWeightNorm() { return false; }

    @Override
    public LossState state() {
        return LossState.of(new String[] {"step"}, new double[] {step});
    }

    @Override
    public ElasticFaceLoss withState(LossState state) {
        Builder b = toBuilder();
        for (String name : state.names()) {
            if (!name.equals("step")) {
                throw new IllegalArgumentException(NAME + " keeps only step across steps, got " + name);
            }
            double value = state.get(name);
            if (!(value >= 0 && value < 1L << 53 && value == Math.rint(value))) {
                throw new IllegalArgumentException("step must be a whole number from 0 to 2^53 - 1, got " + value);
            }
            b.step((long) value);
        }
        return b.build();
    }

    /**
     * This loss with the margins of one batch given ({@code N} values, one per row; those of ignored
     * rows unused) instead of drawn; null draws them again.
     */
    public ElasticFaceLoss withMargins(float[] margins) {
        Builder b = toBuilder();
        b.margins = margins == null ? null : margins.clone();
        return b.build();
    }

    /** Row parameter: the row's margin {@code m_n}. */
    @Override
    void fixRowTerms(RowTerms terms) {
        if (margins != null && margins.length != terms.n) {
            throw new IllegalArgumentException("margins has " + margins.length + " values, expected " + terms.n
                    + " (one per row of features)");
        }
        Random random = margins == null ? new Random(seed + step) : null;
        for (int r = 0; r < terms.n; r++) {
            if (!terms.counts(r)) {
                terms.param[r] = margin;
                continue;
            }
            double m = margins != null ? margins[r] : margin + std * random.nextGaussian();
            if (scale * (1 + Math.abs(m)) > LOGIT_LIMIT) {
                throw new IllegalArgumentException("margins[" + r + "] = " + m + " with s = " + scale
                        + " makes a final logit pass half the float32 range");
            }
            terms.param[r] = m;
        }
        terms.after = LossState.of(new String[] {"step"}, new double[] {step + 1});
    }

    @Override
    double target(double c) {
        return target(c, margin);
    }

    @Override
    double targetSlope(double c) {
        return targetSlope(c, margin);
    }

    @Override
    double target(double c, double q) {
        return variant == Variant.ARC ? Math.cos(Math.acos(c) + q) : c - q;
    }

    @Override
    double targetSlope(double c, double q) {
        return variant == Variant.ARC ? Math.sin(Math.acos(c) + q) / Normalisation.boundedSin(c) : 1;
    }

    @Override
    double targetBound() {
        return variant == Variant.ARC ? 1 : 1 + Math.abs(margin) + MAX_DEVIATIONS * std;
    }

    @Override
    double targetSlopeBound() {
        return variant == Variant.ARC ? 1 / MIN_SIN : 1;
    }

    @Override
    void putOwnParameters(Map<String, String> p) {
        p.put("variant", variant.name().toLowerCase(Locale.ROOT));
        p.put("s", Double.toString(scale));
        p.put("m", Double.toString(margin));
        p.put("std", Double.toString(std));
        p.put("seed", Integer.toString(seed));
        p.put("step", Long.toString(step));
    }

    private Builder toBuilder() {
        return builder().variant(variant).scale(scale).margin(margin).std(std).seed(seed).step(step).commonOf(this);
    }

    /** Builds an {@link ElasticFaceLoss}. */
    public static final class Builder extends MarginLossBuilder<Builder> {
        private Variant variant = Variant.ARC;
        private double scale = 64;
        private double margin = Double.NaN;
        private double std = 0.05;
        private int seed;
        private long step;
        private float[] margins;

        private Builder() {}

        /** Which margin is drawn (default arc). */
        public Builder variant(Variant variant) { this.variant = variant; return this; }

        /** The scale s (default 64). */
        public Builder scale(double scale) { this.scale = scale; return this; }

        /** The margins' mean m (default 0.5 for arc, in radians, and 0.35 for cos). */
        public Builder margin(double margin) { this.margin = margin; return this; }

        /** The margins' standard deviation (default 0.05). */
        public Builder std(double std) { this.std = std; return this; }

        /** The seed of the draws (default 0). */
        public Builder seed(int seed) { this.seed = seed; return this; }

        /** The step the draws start from (default 0); each call advances it. */
        public Builder step(long step) { this.step = step; return this; }

        public ElasticFaceLoss build() { return new ElasticFaceLoss(this); }
    }
}
