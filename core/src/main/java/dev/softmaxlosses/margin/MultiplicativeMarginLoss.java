package dev.softmaxlosses.margin;

import dev.softmaxlosses.internal.Checks;

import java.util.Map;

/**
 * The multiplicative angular margin of L-Softmax and A-Softmax (SphereFace): the target logit is
 * {@code A B (lambda c + psi(theta)) / (1 + lambda)} with {@code psi} from {@link MultiplicativeAngle}
 * and {@code lambda} the papers' annealing weight; the two differ in whether the class weights are
 * normalised.
 */
abstract sealed class MultiplicativeMarginLoss extends MarginLoss permits SphereFaceLoss, LSoftmaxLoss {

    final MultiplicativeAngle angle;
    final double lambda;

    MultiplicativeMarginLoss(MarginLossBuilder<?> options, int margin, double lambda) {
        super(options);
        this.angle = new MultiplicativeAngle(margin);
        this.lambda = Checks.requireNonNegative("lambda", lambda);
        MarginChecks.requireParametersInRange(this);
    }

    public int margin() { return angle.m(); }
    public double lambda() { return lambda; }

    @Override public double scale() { return 1; }
    @Override public boolean hasScale() { return false; }
    @Override boolean scalesByFeatureNorm() { return true; }
    @Override double target(double c) { return (lambda * c + angle.psi(c)) / (1 + lambda); }
    @Override double targetSlope(double c) { return (lambda + angle.psiSlope(c)) / (1 + lambda); }
    /** {@code psi} runs from 1 down to {@code 1 - 2m}; its slope reaches {@code m^2} at {@code c = +-1}. */
    @Override double targetBound() { return 2.0 * margin() - 1; }
    @Override double targetSlopeBound() { return (double) margin() * margin(); }

    @Override
    void putOwnParameters(Map<String, String> p) {
        p.put("m", Integer.toString(angle.m()));
        p.put("lambda", Double.toString(lambda));
    }

    /** The builder of both: the integer margin m and lambda, with each loss's default m. */
    abstract static class Builder<B extends Builder<B>> extends MarginLossBuilder<B> {
        int margin;
        double lambda = 0;

        Builder(int defaultMargin) {
            this.margin = defaultMargin;
        }

        /** The integer angular margin m in [1, 4096] (the papers use 1 to 4; see LOSSES.md for the bound). */
        @SuppressWarnings("unchecked")
        public B margin(int margin) { this.margin = margin; return (B) this; }

        /** The annealing weight lambda &gt;= 0 of the plain cosine (default 0); see {@link LambdaSchedule}. */
        @SuppressWarnings("unchecked")
        public B lambda(double lambda) { this.lambda = lambda; return (B) this; }
    }
}
