package dev.softmaxlosses.margin;

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
public final class LSoftmaxLoss extends MultiplicativeMarginLoss {

    public static final String NAME = "lsoftmax";

    private LSoftmaxLoss(Builder b) {
        super(b, b.margin, b.lambda);
    }

    /** m = 2, lambda = 0 unless set. */
    public static Builder builder() {
        return new Builder();
    }

    @Override String name() { return NAME; }
    @Override boolean scalesByWeightNorm() { return true; }

    /** Builds an {@link LSoftmaxLoss}. */
    public static final class Builder extends MultiplicativeMarginLoss.Builder<Builder> {
        private Builder() {
            super(2);
        }

        public LSoftmaxLoss build() { return new LSoftmaxLoss(this); }
    }
}
