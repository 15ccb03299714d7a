package dev.softmaxlosses;

/**
 * A loss on features ({@code N x D}) and class weights ({@code C x D}): the margin family, whose
 * logits are made from the two inside the loss.
 */
public interface FeatureLoss extends Loss {

    /** Computes the loss and its gradients into caller-owned buffers of the batch's shape. */
    void compute(LossInput input, LossResult out);

    /** Computes the loss and its gradients into new buffers. */
    LossResult compute(LossInput input);
}
