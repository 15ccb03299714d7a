package dev.softmaxlosses.margin;

/**
 * AM-Softmax (Wang, Cheng, Liu and Liu 2018, "Additive Margin Softmax for Face Verification"): an additive margin in cosine space on normalised features and class weights.
 *
 * <pre>  f_y = s (cos_y - m),   f_j = s cos_j</pre>
 *
 * Spec {@code am_softmax}: {@code s} (30), {@code m} (0.35), and the common {@code label_smoothing},
 * {@code ignore_index}, {@code reduction}. CosFace ({@link CosFaceLoss}) is the same formula with s = 64; with {@code m = 0} it is NormFace. The lower
 * bound on {@code s} for a target probability is {@link ScaleBounds#cosFaceMinimumScale}.
 */
public final class AmSoftmaxLoss extends AdditiveCosineMarginLoss {

    public static final String NAME = "am_softmax";

    private AmSoftmaxLoss(Builder<AmSoftmaxLoss> b) { super(b); }

    /** s = 30, m = 0.35 unless set. */
    public static Builder<AmSoftmaxLoss> builder() { return new Builder<>(30, AmSoftmaxLoss::new); }
}
