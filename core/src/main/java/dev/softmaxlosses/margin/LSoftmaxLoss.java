package dev.softmaxlosses.margin;

import dev.softmaxlosses.LossRegistry.LossDefinition;
import dev.softmaxlosses.LossSpec;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * L-Softmax (Liu et al. 2016, "Large-Margin Softmax Loss for Convolutional Neural Networks"): the
 * multiplicative angular margin on the plain inner products, nothing normalised.
 *
 * <pre>
 *   f_y = ||W_y|| ||x|| (lambda c + psi(theta)) / (1 + lambda),   f_j = W_j . x
 * </pre>
 *
 * {@code psi} as in {@link SphereFaceLoss}; with {@code m = 1} it is the plain softmax on {@code W x}.
 * Spec {@code lsoftmax}: {@code m} (2), {@code lambda} (0), and the common parameters.
 */
public final class LSoftmaxLoss extends MarginLoss {

    public static final String NAME = "lsoftmax";

    public static final LossDefinition DEFINITION = new LossDefinition(NAME,
            "L-Softmax: ||W_y|| ||x|| (lambda c + psi(theta)) / (1 + lambda)", NormFaceLoss.parameters("m", "lambda"),
            p -> builder().margin(p.getInt("m", 2)).lambda(p.getDouble("lambda", 0))
                    .options(Options.read(p).allow(NAME)).build());

    private final MultiplicativeAngle angle;
    private final double lambda;

    private LSoftmaxLoss(Builder b) {
        super(b.options);
        this.angle = new MultiplicativeAngle(b.margin);
        this.lambda = SphereFaceLoss.requireLambda(b.lambda);
    }

    public static Builder builder() {
        return new Builder();
    }

    public int margin() { return angle.m(); }
    public double lambda() { return lambda; }

    @Override String name() { return NAME; }
    @Override public double scale() { return 1; }
    @Override boolean hasScale() { return false; }
    @Override boolean scalesByFeatureNorm() { return true; }
    @Override boolean scalesByWeightNorm() { return true; }
    @Override double target(double c) { return (lambda * c + angle.psi(c)) / (1 + lambda); }
    @Override double targetSlope(double c) { return (lambda + angle.psiSlope(c)) / (1 + lambda); }

    @Override
    public LossSpec spec() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("m", Integer.toString(angle.m()));
        p.put("lambda", Double.toString(lambda));
        putCommon(p);
        return new LossSpec(NAME, p);
    }

    /** Builds an {@link LSoftmaxLoss}. */
    public static final class Builder extends MarginLoss.Builder<Builder> {
        private int margin = 2;
        private double lambda = 0;

        private Builder() {}

        /** The integer angular margin m &gt;= 1 (default 2). */
        public Builder margin(int margin) { this.margin = margin; return this; }

        /** The annealing weight lambda &gt;= 0 of the plain inner product (default 0). */
        public Builder lambda(double lambda) { this.lambda = lambda; return this; }

        Builder options(Options o) { NormFaceLoss.copy(o, options); return this; }

        public LSoftmaxLoss build() { return new LSoftmaxLoss(this); }
    }
}
