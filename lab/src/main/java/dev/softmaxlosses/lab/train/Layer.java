package dev.softmaxlosses.lab.train;

import java.util.List;

/**
 * One step of the network on a batch of {@code n} rows, row-major. {@link #forward} keeps what
 * {@link #backward} needs; {@code backward} must follow the {@code forward} of the same batch.
 */
public interface Layer {

    /** Values per input row. */
    int inputSize();

    /** Values per output row. */
    int outputSize();

    /**
     * The output of {@code n} rows of {@code input}.
     *
     * @param training whether this is a training step (batch norm uses the batch's statistics and
     *                 updates its running ones) or inference
     */
    float[] forward(float[] input, int n, boolean training);

    /**
     * From {@code d loss / d output} of the last forward batch: writes the parameters' gradients and
     * returns {@code d loss / d input}, or null when {@code needInputGradient} is false (the first
     * layer: nothing needs the gradient of the pixels).
     */
    float[] backward(float[] gradOutput, boolean needInputGradient);

    /** The learned arrays, in a fixed order. */
    List<Parameter> parameters();
}
