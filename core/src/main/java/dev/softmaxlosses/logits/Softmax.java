package dev.softmaxlosses.logits;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.kernel.KernelProvider;
import dev.softmaxlosses.kernel.KernelSupport;

/**
 * Softmax, log-softmax and log-sum-exp of each row of a logit matrix, with a temperature: the
 * "soft softmax" {@code softmax(z / T)} of Hinton et al. (2015), whose {@code T > 1} softens the
 * distribution and {@code T < 1} sharpens it. Computed from each row's maximum, so logits of any
 * magnitude give finite results; {@code -Infinity} masks a class. The temperature must lie in
 * {@code [2^-126, Float.MAX_VALUE]} (so that {@code 1 / T} is a float32 number), and no logit divided
 * by it may overflow float32: both are errors naming the value.
 *
 * <p>{@code softmax([1, 2, 3, 4]) = [0.0321, 0.0871, 0.2369, 0.6439]}, with log-sum-exp 4.4402.
 */
public final class Softmax {

    private Softmax() {}

    /** {@code softmax(z / temperature)} of each row, into a new matrix. */
    public static FloatMatrix softmax(FloatMatrix logits, double temperature) {
        KernelSupport k = kernels(logits, temperature);
        FloatMatrix out = FloatMatrix.zeros(logits.rows(), logits.cols());
        float invT = (float) (1.0 / temperature);
        for (int n = 0; n < logits.rows(); n++) {
            k.softmax(logits.data(), n * logits.cols(), out.data(), n * logits.cols(), logits.cols(), invT);
        }
        return out;
    }

    /** {@code softmax(z)} of each row. */
    public static FloatMatrix softmax(FloatMatrix logits) {
        return softmax(logits, 1.0);
    }

    /** {@code log_softmax(z / temperature)} of each row, into a new matrix. */
    public static FloatMatrix logSoftmax(FloatMatrix logits, double temperature) {
        KernelSupport k = kernels(logits, temperature);
        FloatMatrix out = FloatMatrix.zeros(logits.rows(), logits.cols());
        float invT = (float) (1.0 / temperature);
        for (int n = 0; n < logits.rows(); n++) {
            k.logSoftmax(logits.data(), n * logits.cols(), out.data(), n * logits.cols(), logits.cols(), invT);
        }
        return out;
    }

    /** {@code log(sum_c exp(z_c / temperature))} of each row. */
    public static double[] logSumExp(FloatMatrix logits, double temperature) {
        KernelSupport k = kernels(logits, temperature);
        double[] out = new double[logits.rows()];
        float[] probabilities = new float[logits.cols()];
        float invT = (float) (1.0 / temperature);
        for (int n = 0; n < logits.rows(); n++) {
            // Through softmax, which has a row for the final logits of rows that need them.
            out[n] = k.softmax(logits.data(), n * logits.cols(), probabilities, 0, logits.cols(), invT);
        }
        return out;
    }

    private static KernelSupport kernels(FloatMatrix logits, double temperature) {
        java.util.Objects.requireNonNull(logits, "logits");
        Checks.requireTemperature("temperature", temperature);
        Checks.requireClasses("logits", logits);
        Checks.requireNoNaNOrPositiveInfinity("logits", logits);
        for (int n = 0; n < logits.rows(); n++) {
            Checks.requireUnmaskedClass("logits", logits, n);
        }
        Checks.requireNoOverflow("logits", logits, temperature);
        return KernelProvider.get();
    }
}
