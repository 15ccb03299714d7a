package dev.softmaxlosses.internal;

import dev.ludovic.netlib.blas.BLAS;

import java.util.Arrays;

/**
 * The row-major matrix products of a linear layer or a margin head, through a netlib BLAS.
 * <b>Internal.</b> BLAS is column-major: a row-major {@code R x K} array is the column-major
 * {@code K x R} matrix, its transpose, which is how each product below is turned around. An operand
 * may start at an offset, so that a block of rows is used in place.
 *
 * <p>{@link #standard()} is netlib's own choice: a native BLAS when the machine has one, its Vector API
 * kernels when {@code jdk.incubator.vector} is enabled, Java otherwise. A caller that needs other
 * properties (the lab's trainer wants the same bits on every run) wraps its own instance.
 */
public final class RowMajorProducts {

    private final BLAS blas;

    public RowMajorProducts(BLAS blas) {
        this.blas = blas;
    }

    private static final class Standard {
        static final RowMajorProducts INSTANCE = new RowMajorProducts(load());
    }

    /** netlib's own choice of implementation, loaded once. */
    public static RowMajorProducts standard() {
        return Standard.INSTANCE;
    }

    /**
     * netlib tries a native BLAS first and logs a warning with each failure; on a machine without one
     * that is noise on every start, so its probe runs quietly and one line says what was chosen.
     */
    private static BLAS load() {
        java.util.logging.Logger probe = java.util.logging.Logger.getLogger("dev.ludovic.netlib.blas.InstanceBuilder");
        java.util.logging.Level level = probe.getLevel();
        probe.setLevel(java.util.logging.Level.SEVERE);
        try {
            BLAS blas = BLAS.getInstance();
            String name = blas.getClass().getSimpleName();
            System.getLogger("dev.softmaxlosses").log(System.Logger.Level.INFO, "softmax-losses: matrix products by netlib "
                    + name + (name.startsWith("JNI") ? ""
                    : " (no native BLAS found; a system libblas or OpenBLAS makes the margin family faster)"));
            return blas;
        } finally {
            probe.setLevel(level);
        }
    }

    /** Which netlib implementation does the products, for logs and reports. */
    public String implementation() {
        return blas.getClass().getSimpleName();
    }

    /** {@code out (n x m) = a (n x k) . b (m x k)^T}. */
    public void timesTransposed(float[] a, int n, int k, float[] b, int m, float[] out) {
        timesTransposed(a, n, k, b, 0, m, out);
    }

    /** {@code out (n x m) = a (n x k) . b (m x k)^T}, {@code b}'s rows starting at {@code bOff}. */
    public void timesTransposed(float[] a, int n, int k, float[] b, int bOff, int m, float[] out) {
        if (n == 0 || m == 0 || k == 0) {
            Arrays.fill(out, 0, n * m, 0f);
            return;
        }
        blas.sgemm("T", "N", m, n, k, 1f, b, bOff, k, a, 0, k, 0f, out, 0, m);
    }

    /** {@code out (n x m) = a (n x k) . b (k x m)}. */
    public void times(float[] a, int n, int k, float[] b, int m, float[] out) {
        product(a, n, k, b, 0, m, 0f, out);
    }

    /** {@code out (n x m) += a (n x k) . b (k x m)}, {@code b}'s rows starting at {@code bOff}. */
    public void timesAccumulate(float[] a, int n, int k, float[] b, int bOff, int m, float[] out) {
        product(a, n, k, b, bOff, m, 1f, out);
    }

    private void product(float[] a, int n, int k, float[] b, int bOff, int m, float beta, float[] out) {
        if (n == 0 || m == 0 || k == 0) {
            if (beta == 0f) {
                Arrays.fill(out, 0, n * m, 0f);
            }
            return;
        }
        blas.sgemm("N", "N", m, n, k, 1f, b, bOff, m, a, 0, k, beta, out, 0, m);
    }

    /** {@code out (k x m) = a (n x k)^T . b (n x m)}. */
    public void transposedTimes(float[] a, int n, int k, float[] b, int m, float[] out) {
        if (n == 0 || m == 0 || k == 0) {
            Arrays.fill(out, 0, k * m, 0f);
            return;
        }
        blas.sgemm("N", "T", m, k, n, 1f, b, 0, m, a, 0, k, 0f, out, 0, m);
    }
}
