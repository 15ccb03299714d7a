package dev.softmaxlosses.margin;

/**
 * CosFace (Wang et al. 2018, "CosFace: Large Margin Cosine Loss for Deep Face Recognition"): an additive margin in cosine space on normalised features and class weights.
 *
 * <pre>  f_y = s (cos_y - m),   f_j = s cos_j</pre>
 *
 * Spec {@code cosface}: {@code s} (64), {@code m} (0.35), and the common {@code label_smoothing},
 * {@code ignore_index}, {@code reduction}. AM-Softmax ({@link AmSoftmaxLoss}) is the same formula with s = 30; with {@code m = 0} it is NormFace. The lower
 * bound on {@code s} for a target probability is {@link ScaleBounds#cosFaceMinimumScale}.
 */
public final class CosFaceLoss extends AdditiveCosineMarginLoss {

    public static final String NAME = "cosface";

    private CosFaceLoss(Builder<CosFaceLoss> b) { super(b); }

    /** s = 64, m = 0.35 unless set. */
    public static Builder<CosFaceLoss> builder() { return new Builder<>(64, CosFaceLoss::new); }
}
