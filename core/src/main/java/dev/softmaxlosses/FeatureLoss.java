package dev.softmaxlosses;

/**
 * A loss on features ({@code N x D}) and class weights ({@code C x D}): the margin family, whose
 * logits are made from the two inside the loss.
 *
 * <p>Every input is checked before anything is computed; an error is an
 * {@link IllegalArgumentException} naming the array, row, column and value at fault. A gradient that
 * overflows float32 is reported after the buffers have been written, and then what they hold is
 * unspecified.
 */
public interface FeatureLoss extends Loss {

    /**
     * Computes the loss and its gradients into caller-owned buffers of the batch's shape
     * ({@link LossResult#forFeatures}), the {@code N x C} outputs included.
     */
    void compute(FeatureBatch batch, LossResult out);

    /** Computes the loss and its gradients into new buffers. */
    LossResult compute(FeatureBatch batch);
}
