package dev.softmaxlosses;

/**
 * A loss on logits ({@code N x C}) with hard labels, soft targets or a teacher's logits, as each loss needs.
 *
 * <p>Every loss validates its input and throws an {@link IllegalArgumentException} whose message names
 * the array, row, column and value at fault.
 */
public interface LogitLoss extends Loss {

    /**
     * The hot path: hard labels, the gradient into a caller-owned buffer, nothing allocated below the
     * parallel threshold.
     *
     * @return the reduced loss (for {@link Reduction#NONE}, the sum of the per-sample losses)
     */
    double forwardBackward(float[] logits, int[] labels, int rows, int cols, float[] gradOut);

    /** Computes the loss and its gradients into caller-owned buffers of the batch's shape. */
    void compute(LossInput input, LossResult out);

    /** Computes the loss and its gradients into new buffers. */
    default LossResult compute(LossInput input) {
        java.util.Objects.requireNonNull(input, "input");
        LossResult result = LossResult.forLogits(input.logits() == null ? 0 : input.logits().rows(),
                input.logits() == null ? 0 : input.logits().cols());
        compute(input, result);
        return result;
    }
}
