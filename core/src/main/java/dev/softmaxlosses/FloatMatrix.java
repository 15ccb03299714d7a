package dev.softmaxlosses;

import java.util.Arrays;
import java.util.Objects;

/**
 * A row-major {@code rows x cols} view of a {@code float[]}. The array is shared, not copied: the
 * view is how the library passes shapes along with flat data.
 *
 * @param data the values, row after row; its length is exactly {@code rows * cols}
 * @param rows the number of rows (samples)
 * @param cols the number of columns (classes or feature dimensions)
 */
public record FloatMatrix(float[] data, int rows, int cols) {

    /**
     * The most values one matrix (one Java array) holds, {@code Integer.MAX_VALUE - 8}: a few header
     * words below {@code Integer.MAX_VALUE}, which the JVM refuses even with memory to spare (as
     * {@code ArrayList} knows). The library allocates no longer array.
     */
    public static final int MAX_VALUES = Integer.MAX_VALUE - 8;

    public FloatMatrix {
        checkShape(data, rows, cols);
    }

    /** Checks that {@code data} holds exactly a {@code rows x cols} matrix. */
    public static void checkShape(float[] data, int rows, int cols) {
        Objects.requireNonNull(data, "data");
        requireNonNegative(rows, cols);
        if ((long) rows * cols != data.length) {
            throw new IllegalArgumentException(
                    "a " + rows + "x" + cols + " matrix needs " + (long) rows * cols + " values, got " + data.length);
        }
    }

    /**
     * A count of values that one array must hold: above {@link #MAX_VALUES} it is an error saying what
     * needed them (with its shape) and how many, before anything is allocated.
     *
     * @param what   what needs the values, with its shape: {@code "a 70000x70000 result"}
     * @param values the count, as a {@code long} product of the shape
     * @param advice what to do instead, or an empty string
     * @return the count as an {@code int}
     * @throws IllegalArgumentException {@code what needs N values, more than a Java array holds (2147483639)},
     *                                  followed by the advice
     */
    public static int requireLength(String what, long values, String advice) {
        if (values > MAX_VALUES) {
            throw new IllegalArgumentException(what + " needs " + values + " values, more than a Java array holds ("
                    + MAX_VALUES + ")" + advice);
        }
        return (int) values;
    }

    /**
     * Copies rows of equal length into a new matrix; a ragged row is an error naming it, as is a
     * matrix of more values than a Java array holds, and a null row a NullPointerException naming it.
     */
    public static FloatMatrix of(String name, float[][] rows) {
        Objects.requireNonNull(rows, name);
        int cols = rows.length == 0 || rows[0] == null ? 0 : rows[0].length;
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] == null) {
                throw new NullPointerException(name + "[" + r + "]");
            }
            if (rows[r].length != cols) {
                throw new IllegalArgumentException(
                        name + "[" + r + "] has " + rows[r].length + " values, expected " + cols + " (the length of " + name + "[0])");
            }
        }
        float[] data = new float[requireLength("a " + rows.length + "x" + cols + " " + name,
                (long) rows.length * cols, "")];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, data, r * cols, cols);
        }
        return new FloatMatrix(data, rows.length, cols);
    }

    /** Copies rows of equal length into a new matrix. */
    public static FloatMatrix of(float[][] rows) {
        return of("matrix", rows);
    }

    /** A new zero matrix; a negative shape, or more values than a Java array holds, is an error. */
    public static FloatMatrix zeros(int rows, int cols) {
        requireNonNegative(rows, cols);
        return new FloatMatrix(new float[requireLength("a " + rows + "x" + cols + " matrix",
                (long) rows * cols, "")], rows, cols);
    }

    private static void requireNonNegative(int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("a matrix cannot have a negative shape: " + rows + "x" + cols);
        }
    }

    /** The value at ({@code row}, {@code col}). */
    public float get(int row, int col) {
        return data[row * cols + col];
    }

    /** A copy of one row. */
    public float[] row(int row) {
        return Arrays.copyOfRange(data, row * cols, (row + 1) * cols);
    }

    /** The shape as {@code rowsxcols}, as error messages write it. */
    public String shape() {
        return rows + "x" + cols;
    }
}
