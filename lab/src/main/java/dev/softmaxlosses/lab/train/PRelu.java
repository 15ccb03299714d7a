package dev.softmaxlosses.lab.train;

import java.util.Arrays;
import java.util.List;

/**
 * Parametric ReLU (He et al. 2015): {@code x} for {@code x > 0}, {@code a_j x} otherwise, with one
 * learned slope per channel starting at 0.25. The 2-D feature plots of the center-loss and SphereFace
 * papers come from networks with PReLU: negative inputs still carry a signal, which helps a network
 * whose last layer is only two wide.
 */
public final class PRelu implements Layer {

    private final int size;
    private final Parameter slope;
    private float[] input;
    private int rows;

    public PRelu(String name, int size) {
        this.size = size;
        float[] a = new float[size];
        Arrays.fill(a, 0.25f);
        this.slope = Parameter.of(name + ".slope", a, false);
    }

    @Override public int inputSize() { return size; }
    @Override public int outputSize() { return size; }

    @Override
    public float[] forward(float[] x, int n, boolean training) {
        input = x;
        rows = n;
        float[] a = slope.value();
        float[] y = new float[n * size];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < size; j++) {
                float v = x[r * size + j];
                y[r * size + j] = v > 0 ? v : a[j] * v;
            }
        }
        return y;
    }

    @Override
    public float[] backward(float[] gradY, boolean needInputGradient) {
        float[] a = slope.value();
        float[] ga = slope.grad();
        double[] sums = new double[size];
        float[] gradX = needInputGradient ? new float[rows * size] : null;
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < size; j++) {
                int i = r * size + j;
                float v = input[i];
                if (v > 0) {
                    if (gradX != null) {
                        gradX[i] = gradY[i];
                    }
                } else {
                    sums[j] += (double) gradY[i] * v;
                    if (gradX != null) {
                        gradX[i] = a[j] * gradY[i];
                    }
                }
            }
        }
        for (int j = 0; j < size; j++) {
            ga[j] = (float) sums[j];
        }
        return gradX;
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(slope);
    }
}
