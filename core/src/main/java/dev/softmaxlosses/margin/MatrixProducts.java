package dev.softmaxlosses.margin;

import dev.ludovic.netlib.blas.BLAS;

import java.util.Arrays;

/**
 * The three row-major matrix products of a margin head, through netlib's BLAS (a native library when
 * the machine has one, its Vector API kernels when {@code jdk.incubator.vector} is enabled, Java
 * otherwise). BLAS is column-major: a row-major {@code R x K} array is the column-major {@code K x R}
 * matrix, its transpose, which is how each product below is turned around.
 */
final class MatrixProducts {

    private static final BLAS BLAS_INSTANCE = load();

    private MatrixProducts() {}

    /** {@code out (n x c) = a (n x d) . b (c x d)^T}: the cosines from normalised features and weights. */
    static void timesTransposed(float[] a, int n, int d, float[] b, int c, float[] out) {
        if (n == 0 || c == 0 || d == 0) {
            Arrays.fill(out, 0, n * c, 0f);
            return;
        }
        BLAS_INSTANCE.sgemm("T", "N", c, n, d, 1f, b, d, a, d, 0f, out, c);
    }

    /** {@code out (n x d) = a (n x c) . b (c x d)}: the gradient flowing to the features. */
    static void times(float[] a, int n, int c, float[] b, int d, float[] out) {
        if (n == 0 || c == 0 || d == 0) {
            Arrays.fill(out, 0, n * d, 0f);
            return;
        }
        BLAS_INSTANCE.sgemm("N", "N", d, n, c, 1f, b, d, a, c, 0f, out, d);
    }

    /** {@code out (n x d) += a (n x c) . b (c x d)}: the streaming head's feature gradient, block by block. */
    static void timesAccumulate(float[] a, int n, int c, float[] b, int d, float[] out) {
        if (n == 0 || c == 0 || d == 0) {
            return;
        }
        BLAS_INSTANCE.sgemm("N", "N", d, n, c, 1f, b, d, a, c, 1f, out, d);
    }

    /** {@code out (c x d) = a (n x c)^T . b (n x d)}: the gradient flowing to the class weights. */
    static void transposedTimes(float[] a, int n, int c, float[] b, int d, float[] out) {
        if (n == 0 || c == 0 || d == 0) {
            Arrays.fill(out, 0, c * d, 0f);
            return;
        }
        BLAS_INSTANCE.sgemm("N", "T", d, c, n, 1f, b, d, a, c, 0f, out, d);
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
            System.getLogger("dev.softmaxlosses").log(System.Logger.Level.INFO, "softmax-losses: matrix products by netlib "
                    + blas.getClass().getSimpleName() + (blas.getClass().getSimpleName().startsWith("JNI") ? ""
                    : " (no native BLAS found; a system libblas or OpenBLAS makes the margin family faster)"));
            return blas;
        } finally {
            probe.setLevel(level);
        }
    }

    /** Which implementation netlib chose, for logs and reports. */
    static String implementation() {
        return BLAS_INSTANCE.getClass().getSimpleName();
    }
}
