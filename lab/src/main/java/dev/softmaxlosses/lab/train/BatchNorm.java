package dev.softmaxlosses.lab.train;

import java.util.Arrays;
import java.util.List;

/**
 * Batch normalisation over the batch, per feature (Ioffe and Szegedy 2015): in training
 * {@code y = gamma (x - mean) / sqrt(var + eps) + beta} with the batch's mean and (biased) variance,
 * while running averages (momentum 0.1, unbiased variance, as PyTorch keeps them) are updated for
 * inference, which uses them instead. It lets a small network train at a high learning rate in few
 * epochs, which the three-minute demo needs.
 */
public final class BatchNorm implements Layer {

    static final double EPS = 1e-5;
    static final double MOMENTUM = 0.1;

    private final String name;
    private final int size;
    private final Parameter gamma;
    private final Parameter beta;
    private final double[] runningMean;
    private final double[] runningVar;
    private float[] normalised;
    private double[] inverseStd;
    private int rows;

    public BatchNorm(String name, int size) {
        this.name = name;
        this.size = size;
        float[] g = new float[size];
        Arrays.fill(g, 1f);
        this.gamma = Parameter.of(name + ".gamma", g, false);
        this.beta = Parameter.of(name + ".beta", new float[size], false);
        this.runningMean = new double[size];
        this.runningVar = new double[size];
        Arrays.fill(runningVar, 1.0);
    }

    @Override public int inputSize() { return size; }
    @Override public int outputSize() { return size; }

    @Override
    public float[] forward(float[] x, int n, boolean training) {
        float[] g = gamma.value();
        float[] b = beta.value();
        float[] y = new float[n * size];
        if (!training || n < 2) {
            for (int j = 0; j < size; j++) {
                double inv = 1.0 / Math.sqrt(runningVar[j] + EPS);
                for (int r = 0; r < n; r++) {
                    y[r * size + j] = (float) (g[j] * (x[r * size + j] - runningMean[j]) * inv + b[j]);
                }
            }
            return y;
        }
        rows = n;
        normalised = new float[n * size];
        inverseStd = new double[size];
        for (int j = 0; j < size; j++) {
            double mean = 0;
            for (int r = 0; r < n; r++) {
                mean += x[r * size + j];
            }
            mean /= n;
            double var = 0;
            for (int r = 0; r < n; r++) {
                double d = x[r * size + j] - mean;
                var += d * d;
            }
            var /= n;
            double inv = 1.0 / Math.sqrt(var + EPS);
            inverseStd[j] = inv;
            for (int r = 0; r < n; r++) {
                float xhat = (float) ((x[r * size + j] - mean) * inv);
                normalised[r * size + j] = xhat;
                y[r * size + j] = g[j] * xhat + b[j];
            }
            runningMean[j] = (1 - MOMENTUM) * runningMean[j] + MOMENTUM * mean;
            runningVar[j] = (1 - MOMENTUM) * runningVar[j] + MOMENTUM * var * n / (n - 1);
        }
        return y;
    }

    /**
     * {@code dx = gamma / (N sigma) (N dy - sum(dy) - xhat sum(dy xhat))}: the usual closed form of the
     * backward pass through the batch's mean and variance.
     */
    @Override
    public float[] backward(float[] gradY, boolean needInputGradient) {
        float[] g = gamma.value();
        float[] gg = gamma.grad();
        float[] gb = beta.grad();
        float[] gradX = needInputGradient ? new float[rows * size] : null;
        for (int j = 0; j < size; j++) {
            double sumDy = 0;
            double sumDyXhat = 0;
            for (int r = 0; r < rows; r++) {
                int i = r * size + j;
                sumDy += gradY[i];
                sumDyXhat += (double) gradY[i] * normalised[i];
            }
            gg[j] = (float) sumDyXhat;
            gb[j] = (float) sumDy;
            if (gradX != null) {
                double k = g[j] * inverseStd[j] / rows;
                for (int r = 0; r < rows; r++) {
                    int i = r * size + j;
                    gradX[i] = (float) (k * (rows * (double) gradY[i] - sumDy - normalised[i] * sumDyXhat));
                }
            }
        }
        return gradX;
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(gamma, beta);
    }

    /** The prefix of its parameters' names ({@code hidden1.bn}). */
    String name() {
        return name;
    }

    /** The running mean (live): for tests, and for saving and loading the network. */
    double[] runningMean() {
        return runningMean;
    }

    /** The running (unbiased) variance (live), for saving and loading the network. */
    double[] runningVar() {
        return runningVar;
    }
}
