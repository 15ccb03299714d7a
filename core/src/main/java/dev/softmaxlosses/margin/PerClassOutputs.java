package dev.softmaxlosses.margin;

/**
 * Where a class range writes its {@code N x C} outputs: row {@code r}'s value for the range's class
 * {@code j} goes to index {@code r * stride + column + j} of each array (so a shard writes its columns
 * of a whole batch's arrays with {@code stride = C} and {@code column = lo}).
 *
 * @param logits        final logits {@code f}
 * @param probabilities {@code softmax(f)} over all classes
 * @param gradLogits    {@code dL/df} of the reduced loss
 * @param stride        the values per row of each array
 * @param column        the column of the range's first class
 */
public record PerClassOutputs(float[] logits, float[] probabilities, float[] gradLogits, int stride, int column) {
}
