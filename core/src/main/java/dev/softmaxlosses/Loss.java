package dev.softmaxlosses;

/**
 * A loss to minimise. Implementations are immutable and safe to share between threads.
 *
 * <p>Every loss validates its input before computing anything and throws an
 * {@link IllegalArgumentException} whose message names the array, row, column and value at fault.
 */
public interface Loss {

    /** The loss with its parameters, as a spec string that {@link LossSpec#parse} reads back. */
    LossSpec spec();

    /** Computes the loss and its gradients into new buffers. */
    default LossResult compute(LossInput input) {
        java.util.Objects.requireNonNull(input, "input");
        LossResult result = LossResult.forLogits(input.logits() == null ? 0 : input.logits().rows(),
                input.logits() == null ? 0 : input.logits().cols());
        compute(input, result);
        return result;
    }

    /** Computes the loss and its gradients into caller-owned buffers of the batch's shape. */
    void compute(LossInput input, LossResult out);
}
