package dev.softmaxlosses.lab.train;

import java.util.List;
import java.util.Random;

/**
 * A fully connected layer {@code y = x W^T + b}, with {@code W} of shape {@code out x in} (one row per
 * output, as the class weights of the margin losses are laid out). Weights start from He's normal
 * initialisation ({@code N(0, 2 / in)}, right before a ReLU) and biases at zero.
 */
public final class Dense implements Layer {

    private final int in;
    private final int out;
    private final Parameter weight;
    private final Parameter bias;
    private float[] input;
    private int rows;

    /**
     * @param name   prefix of the parameters' names
     * @param in     inputs per row
     * @param out    outputs per row
     * @param bias   whether the layer adds a bias (not before batch norm, which removes it anyway)
     * @param random source of the initial weights
     */
    public Dense(String name, int in, int out, boolean bias, Random random) {
        this.in = in;
        this.out = out;
        float[] w = new float[Math.multiplyExact(in, out)];
        double std = Math.sqrt(2.0 / in);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * std);
        }
        this.weight = Parameter.of(name + ".weight", w, true);
        this.bias = bias ? Parameter.of(name + ".bias", new float[out], false) : null;
    }

    @Override public int inputSize() { return in; }
    @Override public int outputSize() { return out; }

    /** The weights, {@code out x in} row-major (live, not a copy). */
    public float[] weights() { return weight.value(); }

    /** The biases (live), or null. */
    public float[] biases() { return bias == null ? null : bias.value(); }

    @Override
    public float[] forward(float[] x, int n, boolean training) {
        this.input = x;
        this.rows = n;
        float[] y = new float[n * out];
        RowMajor.timesTransposed(x, n, in, weight.value(), out, y);
        if (bias != null) {
            float[] b = bias.value();
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < out; j++) {
                    y[r * out + j] += b[j];
                }
            }
        }
        return y;
    }

    @Override
    public float[] backward(float[] gradY, boolean needInputGradient) {
        RowMajor.transposedTimes(gradY, rows, out, input, in, weight.grad());
        if (bias != null) {
            float[] gb = bias.grad();
            java.util.Arrays.fill(gb, 0f);
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < out; j++) {
                    gb[j] += gradY[r * out + j];
                }
            }
        }
        if (!needInputGradient) {
            return null;
        }
        float[] gradX = new float[rows * in];
        RowMajor.times(gradY, rows, out, weight.value(), in, gradX);
        return gradX;
    }

    @Override
    public List<Parameter> parameters() {
        return bias == null ? List.of(weight) : List.of(weight, bias);
    }
}
