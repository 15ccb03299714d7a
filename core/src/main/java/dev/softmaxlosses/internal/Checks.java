package dev.softmaxlosses.internal;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.kernel.KernelProvider;

/**
 * Validation at the entry of every loss. <b>Internal.</b> Each check throws an
 * {@link IllegalArgumentException} whose message names the array, the row, the column and the value,
 * before any kernel runs.
 */
public final class Checks {

    /** The longest array this library allocates: {@link FloatMatrix#MAX_VALUES}. */
    public static final int MAX_ARRAY_LENGTH = FloatMatrix.MAX_VALUES;

    private Checks() {}

    /** {@link FloatMatrix#requireLength}: the one rule for the length of an array, with its message. */
    public static int requireArrayLength(String what, long values, String advice) {
        return FloatMatrix.requireLength(what, values, advice);
    }

    /**
     * Result buffers that fit a batch of logits and hold the per-class outputs (not those of a
     * streaming margin head).
     */
    public static void requireLogitBuffers(LossResult out, FloatMatrix z) {
        if (!out.fits(z.rows(), z.cols())) {
            throw new IllegalArgumentException("the result buffers are " + out.rows() + "x" + out.cols()
                    + ", expected " + z.shape() + " (the shape of logits)");
        }
        if (!out.hasLogitGradient()) {
            throw new IllegalArgumentException("the result buffers hold no logits (they are a streaming head's): "
                    + "allocate them with LossResult.forLogits(" + z.rows() + ", " + z.cols() + ")");
        }
    }

    /** Writes a float as the JSON reader accepts it back: {@code NaN}, {@code Infinity}, {@code -Infinity}. */
    public static String show(float v) {
        if (Float.isNaN(v)) {
            return "NaN";
        }
        if (Float.isInfinite(v)) {
            return v > 0 ? "Infinity" : "-Infinity";
        }
        return Float.toString(v);
    }

    /**
     * A double for a message, to float precision: as {@link #show(float)} within the float32 range,
     * to 8 digits beyond it ({@code 6.0E38} rather than {@code 6.0000000109955115E38}).
     */
    public static String show(double v) {
        return isFloat32(v) || Double.isInfinite(v) ? show((float) v)
                : Double.toString(Double.parseDouble(String.format(java.util.Locale.ROOT, "%.7e", v)));
    }

    /** A matrix of an expected shape. */
    public static void requireShape(String name, FloatMatrix m, int rows, int cols, String because) {
        if (m.rows() != rows || m.cols() != cols) {
            throw new IllegalArgumentException(name + " has shape " + m.shape() + ", expected " + rows + "x" + cols
                    + " (" + because + ")");
        }
    }

    /** At least one column (class) unless the batch is empty. */
    public static void requireClasses(String name, FloatMatrix m) {
        requireClasses(name, m.rows(), m.cols());
    }

    /** At least one column (class) unless the batch is empty. */
    public static void requireClasses(String name, int rows, int cols) {
        if (cols == 0 && rows > 0) {
            throw new IllegalArgumentException(name + " has rows of 0 values; there must be at least one class");
        }
    }

    /** No NaN and no {@code +Infinity}; {@code -Infinity} (a masked class) is allowed. */
    public static void requireNoNaNOrPositiveInfinity(String name, FloatMatrix m) {
        requireNoNaNOrPositiveInfinity(name, m.data(), m.rows(), m.cols());
    }

    /** No NaN and no {@code +Infinity} in a row-major {@code rows x cols} array. */
    public static void requireNoNaNOrPositiveInfinity(String name, float[] data, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int c = KernelProvider.get().indexOfNaNOrPositiveInfinity(data, r * cols, cols);
            if (c >= 0) {
                throw new IllegalArgumentException(name + "[" + r + "][" + c + "] is " + show(data[r * cols + c])
                        + "; inputs must be finite numbers (-Infinity is allowed only to mask a class)");
            }
        }
    }

    /** Every value finite. */
    public static void requireFinite(String name, FloatMatrix m) {
        float[] data = m.data();
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                throw new IllegalArgumentException(name + "[" + i / m.cols() + "][" + i % m.cols() + "] is "
                        + show(data[i]) + "; " + name + " must be finite numbers");
            }
        }
    }

    /** The first {@code rows x cols} values finite (a buffer may be longer than the matrix it holds). */
    public static void requireFinite(String name, float[] data, int rows, int cols) {
        long count = (long) rows * cols;
        for (int i = 0; i < count; i++) {
            if (!Float.isFinite(data[i])) {
                throw new IllegalArgumentException(name + "[" + i / cols + "][" + i % cols + "] is "
                        + show(data[i]) + "; " + name + " must be finite numbers");
            }
        }
    }

    /** Every value finite and {@code >= 0}. */
    public static void requireNonNegative(String name, FloatMatrix m) {
        requireFinite(name, m);
        float[] data = m.data();
        for (int i = 0; i < data.length; i++) {
            if (data[i] < 0) {
                throw new IllegalArgumentException(name + "[" + i / m.cols() + "][" + i % m.cols() + "] = "
                        + show(data[i]) + " is negative; " + name + " must be >= 0");
            }
        }
    }

    /** Class weights: one per class, finite and {@code >= 0}. */
    public static void requireClassWeights(float[] weights, int classes) {
        if (weights.length != classes) {
            throw new IllegalArgumentException("class_weights has " + weights.length + " entries, expected "
                    + classes + " (one per class)");
        }
        requireWeights("class_weights", weights);
    }

    /** Weights that are finite and {@code >= 0}, whatever their count. */
    public static void requireWeights(String name, float[] weights) {
        for (int c = 0; c < weights.length; c++) {
            float w = weights[c];
            if (!(w >= 0) || w == Float.POSITIVE_INFINITY) {
                throw new IllegalArgumentException(name + "[" + c + "] = " + show(w)
                        + "; class weights must be finite and >= 0");
            }
        }
    }

    /** One label per row, each in {@code [0, classes)} or equal to the ignore index. */
    public static void requireLabels(int[] labels, int rows, int classes, int ignoreIndex, String rowsOf) {
        if (labels.length != rows) {
            throw new IllegalArgumentException("labels has " + labels.length + " entries, expected " + rows
                    + " (one per row of " + rowsOf + ")");
        }
        for (int n = 0; n < rows; n++) {
            int y = labels[n];
            if (y != ignoreIndex && (y < 0 || y >= classes)) {
                throw new IllegalArgumentException("labels[" + n + "] = " + y + " is out of range: expected a class in [0, "
                        + classes + ") or ignore_index = " + ignoreIndex);
            }
        }
    }

    /** A row whose every class is masked has no probabilities: an error even for an ignored sample. */
    public static void requireUnmaskedClass(String name, FloatMatrix m, int row) {
        requireUnmaskedClass(name, m.data(), m.cols(), row);
    }

    /** As {@link #requireUnmaskedClass(String, FloatMatrix, int)} on a row-major array of {@code cols} columns. */
    public static void requireUnmaskedClass(String name, float[] data, int cols, int row) {
        if (cols > 0 && KernelProvider.get().max(data, row * cols, cols) == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException(name + "[" + row + "] has every class masked (-Infinity)");
        }
    }

    /**
     * The check of one row that the row's maximum makes almost free, for losses that validate each
     * row as they reach it: a NaN anywhere makes the maximum NaN, a {@code +Infinity} makes it
     * infinite, and a maximum of {@code -Infinity} means every class is masked.
     */
    public static void requireValidRow(String name, float[] data, int cols, int row, float max) {
        if (max > Float.NEGATIVE_INFINITY && max < Float.POSITIVE_INFINITY) {
            return;
        }
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException(name + "[" + row + "] has every class masked (-Infinity)");
        }
        int c = KernelProvider.get().indexOfNaNOrPositiveInfinity(data, row * cols, cols);
        throw new IllegalArgumentException(name + "[" + row + "][" + c + "] is " + show(data[row * cols + c])
                + "; inputs must be finite numbers (-Infinity is allowed only to mask a class)");
    }

    /** The first masked ({@code -Infinity}) column of a row, or -1. */
    public static int firstMasked(float[] data, int cols, int row) {
        for (int c = 0; c < cols; c++) {
            if (data[row * cols + c] == Float.NEGATIVE_INFINITY) {
                return c;
            }
        }
        return -1;
    }

    /** The error for a masked class that a target gives weight to. */
    public static IllegalArgumentException maskedTarget(String name, int row, int col, String why) {
        return new IllegalArgumentException(name + "[" + row + "][" + col + "] is -Infinity (masked), but " + why);
    }

    /** Dividing by a temperature below 1 must not push a logit past the float range. */
    public static void requireNoOverflow(String name, FloatMatrix m, double temperature) {
        requireNoOverflow(name, m.data(), m.cols(), temperature);
    }

    /** As {@link #requireNoOverflow(String, FloatMatrix, double)} on a row-major array of {@code cols} columns. */
    public static void requireNoOverflow(String name, float[] data, int cols, double temperature) {
        if (temperature >= 1) {
            return;
        }
        float invT = (float) (1.0 / temperature);
        for (int i = 0; i < data.length; i++) {
            if (Float.isFinite(data[i]) && Float.isInfinite(data[i] * invT)) {
                throw new IllegalArgumentException(name + "[" + i / cols + "][" + i % cols + "] = "
                        + show(data[i]) + " divided by temperature " + (float) temperature + " overflows float32");
            }
        }
    }

    /**
     * Gradient entries up to this are safe from overflow in the kernels' float arithmetic (a
     * coefficient rounded to float, times a value at most 1, plus another term): a row driver scans
     * each gradient row only when the parameters' bound on its entries exceeds it.
     */
    public static final double SAFE_GRADIENT = Float.MAX_VALUE / 2;

    /** Whether a per-sample loss is a float32 number: finite and at most {@code Float.MAX_VALUE} in size. */
    public static boolean isFloat32(double loss) {
        return Math.abs(loss) <= Float.MAX_VALUE;
    }

    /**
     * The per-sample overflow rule: a loss that is not a float32 number is an error naming the sample,
     * the value and {@code cause}, what to lower.
     */
    public static IllegalArgumentException lossOverflow(int sample, double loss, String cause) {
        return new IllegalArgumentException("the loss of sample " + sample + " is " + show(loss)
                + ", beyond the float32 range (" + Float.MAX_VALUE + "): " + cause);
    }

    /** The first entry of {@code grad[off, off + len)} that is not a finite float, relative to off, or -1. */
    public static int indexOfNonFinite(float[] grad, int off, int len) {
        for (int i = 0; i < len; i++) {
            if (!Float.isFinite(grad[off + i])) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The error for a gradient row with an entry that overflowed: names the sample, the entry and
     * {@code cause}, the parameters that allow it.
     */
    public static IllegalArgumentException gradientOverflow(int sample, int col, float value, String cause) {
        return new IllegalArgumentException("the gradient of sample " + sample + " is not a float32 number ("
                + show(value) + " for class " + col + "): " + cause);
    }

    /** {@code max - min} of the finite values of a row ({@code -Infinity} masks are left out), in double. */
    public static double spread(float[] data, int cols, int row) {
        float[] extremes = extremes(data, cols, row);
        return extremes[1] >= extremes[0] ? (double) extremes[1] - extremes[0] : 0;
    }

    /** A row's spread for a message: {@code the spread of logits[1] (6.0E38, from -3.0E38 to 3.0E38)}. */
    public static String spreadOf(String name, float[] data, int cols, int row) {
        float[] extremes = extremes(data, cols, row);
        return "the spread of " + name + "[" + row + "] (" + show(spread(data, cols, row)) + ", from " + show(extremes[0])
                + " to " + show(extremes[1]) + ")";
    }

    /** The least and the largest finite value of a row. */
    private static float[] extremes(float[] data, int cols, int row) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int c = row * cols; c < (row + 1) * cols; c++) {
            if (Float.isFinite(data[c])) {
                min = Math.min(min, data[c]);
                max = Math.max(max, data[c]);
            }
        }
        return new float[] {min, max};
    }

    /** The largest of some weights (1 when there are none). */
    public static double maxWeight(float[] weights) {
        double max = weights == null ? 1 : 0;
        for (int c = 0; weights != null && c < weights.length; c++) {
            max = Math.max(max, weights[c]);
        }
        return max;
    }

    /** A parameter that must be {@code > 0}, finite and within the float32 range. */
    public static double requirePositive(String parameter, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(parameter + " must be a finite number > 0, got " + value);
        }
        return requireFloatRange(parameter, value);
    }

    /** A parameter that must be {@code >= 0}, finite and within the float32 range. */
    public static double requireNonNegative(String parameter, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(parameter + " must be a finite number >= 0, got " + value);
        }
        return requireFloatRange(parameter, value);
    }

    /** A parameter that must be finite and within the float32 range. */
    public static double requireFinite(String parameter, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(parameter + " must be a finite number, got " + value);
        }
        return requireFloatRange(parameter, value);
    }

    /**
     * A temperature T: a finite number in {@code [2^-126, Float.MAX_VALUE]}, the float32 range
     * where {@code 1 / T} is a float32 number too (the kernels multiply the logits by it).
     */
    public static double requireTemperature(String parameter, double value) {
        requirePositive(parameter, value);
        if (value < Float.MIN_NORMAL) {
            throw new IllegalArgumentException(parameter + " = " + value + " is below 2^-126 (" + Float.MIN_NORMAL + ")"
                    + ": the logits are multiplied by 1 / " + parameter + ", which must be a float32 number");
        }
        return value;
    }

    /** Every kernel computes in float32: a parameter beyond its range has no float32 value. */
    private static double requireFloatRange(String parameter, double value) {
        if (Math.abs(value) > Float.MAX_VALUE) {
            throw new IllegalArgumentException(parameter + " = " + value + " is outside the float32 range [-"
                    + Float.MAX_VALUE + ", " + Float.MAX_VALUE + "] that the kernels compute in");
        }
        return value;
    }

    /** A parameter in {@code [low, high)}. */
    public static double requireInRange(String parameter, double value, double low, double high) {
        if (!(value >= low && value < high)) {
            throw new IllegalArgumentException(parameter + " must be in [" + low + ", " + high + "), got " + value);
        }
        return value;
    }
}
