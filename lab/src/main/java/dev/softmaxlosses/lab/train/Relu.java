package dev.softmaxlosses.lab.train;

import java.util.List;

/** {@code max(0, x)}, element-wise. At 0 the gradient is taken as 0 (the usual choice). */
public final class Relu implements Layer {

    private final int size;
    private float[] output;

    public Relu(int size) {
        this.size = size;
    }

    @Override public int inputSize() { return size; }
    @Override public int outputSize() { return size; }

    @Override
    public float[] forward(float[] x, int n, boolean training) {
        float[] y = new float[n * size];
        for (int i = 0; i < y.length; i++) {
            y[i] = Math.max(0f, x[i]);
        }
        output = y;
        return y;
    }

    @Override
    public float[] backward(float[] gradY, boolean needInputGradient) {
        if (!needInputGradient) {
            return null;
        }
        float[] gradX = new float[gradY.length];
        for (int i = 0; i < gradX.length; i++) {
            gradX[i] = output[i] > 0 ? gradY[i] : 0f;
        }
        return gradX;
    }

    @Override
    public List<Parameter> parameters() {
        return List.of();
    }
}
