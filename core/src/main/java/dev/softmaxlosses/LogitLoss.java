package dev.softmaxlosses;

/**
 * A loss on logits ({@code N x C}) with hard labels, soft targets or a teacher's logits, as each loss
 * needs ({@link #takes}).
 *
 * <p><b>Validation.</b> Shapes, parameters and labels are checked before anything is computed. The
 * values of the logits (NaN, {@code +Infinity}, masked classes) are checked row by row inside the
 * fused pass, for speed: on such an error the {@link IllegalArgumentException} names the first bad
 * row (array, row, column and value), and what the output buffers hold is unspecified. Every other
 * error names the array, row, column and value at fault too.
 */
public interface LogitLoss extends Loss {

    /**
     * The hot path: hard labels, the gradient into a caller-owned buffer, nothing allocated below the
     * parallel threshold.
     *
     * @param logits  {@code rows x cols} row-major logits
     * @param labels  {@code rows} labels
     * @param gradOut receives the gradient of the returned value, {@code rows x cols}
     * @return the reduced loss (for {@link Reduction#NONE}, the sum of the per-sample losses)
     */
    double forwardBackward(float[] logits, int[] labels, int rows, int cols, float[] gradOut);

    /**
     * Computes the loss, its gradient, the per-sample losses and the log-sum-exps into caller-owned
     * buffers of the batch's shape, and the final logits and probabilities when {@code out} holds them
     * ({@link LossResult#withDiagnostics}).
     *
     * @throws IllegalArgumentException for a batch this loss does not take ({@link #takes}), a bad input
     *                                  or buffers of another shape
     */
    void compute(LogitBatch batch, LossResult out);

    /** Computes into new buffers, without the {@code N x C} diagnostics ({@link LossResult#forLogits}). */
    default LossResult compute(LogitBatch batch) {
        java.util.Objects.requireNonNull(batch, "batch");
        LossResult result = LossResult.forLogits(batch.rows(), batch.cols());
        compute(batch, result);
        return result;
    }

    /** Whether this loss takes a target of this kind ({@link LogitBatch.Labels}, ...). */
    boolean takes(Class<? extends LogitBatch.Target> kind);

    /** Whether a batch may carry class weights. */
    boolean takesClassWeights();

    /** The fewest classes the loss is defined for (1, or 2 for the hinge family). */
    default int minClasses() {
        return 1;
    }
}
