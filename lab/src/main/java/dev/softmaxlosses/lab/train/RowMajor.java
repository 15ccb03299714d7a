package dev.softmaxlosses.lab.train;

import dev.ludovic.netlib.blas.BLAS;

import java.util.Arrays;

/**
 * The trainer's three row-major matrix products, through the same dev.ludovic.netlib BLAS as the margin
 * losses' products (see {@code MatrixProducts} in core for the column-major turn-around used here: a
 * row-major {@code R x K} array is the column-major {@code K x R} matrix, its transpose).
 *
 * <p><b>Which implementation, and why.</b> netlib's scalar Java kernels ({@code Java11BLAS}: fused
 * multiply-adds in a fixed order), not its Vector API kernels, although those are about twice as fast
 * on a large product: the Vector API sums a vector's lanes in one order while its kernel is
 * interpreted and in another once C2 has compiled it, so the first products of a run differ in the
 * last bits from later ones and, since the switch comes with the JIT's timing, two runs with the same
 * seed would not give the same numbers. A native BLAS would bring its own threads and its own
 * blocking. The scalar kernels give the same bits every time, which is what {@code --seed} promises;
 * the lab gets its speed from training several losses at once instead.
 */
public final class RowMajor {

    private static final BLAS BLAS_INSTANCE = load();

    private RowMajor() {}

    /** {@code out (n x m) = a (n x k) . b (m x k)^T}. */
    public static void timesTransposed(float[] a, int n, int k, float[] b, int m, float[] out) {
        if (n == 0 || m == 0 || k == 0) {
            Arrays.fill(out, 0, n * m, 0f);
            return;
        }
        BLAS_INSTANCE.sgemm("T", "N", m, n, k, 1f, b, k, a, k, 0f, out, m);
    }

    /** {@code out (n x m) = a (n x k) . b (k x m)}. */
    public static void times(float[] a, int n, int k, float[] b, int m, float[] out) {
        if (n == 0 || m == 0 || k == 0) {
            Arrays.fill(out, 0, n * m, 0f);
            return;
        }
        BLAS_INSTANCE.sgemm("N", "N", m, n, k, 1f, b, m, a, k, 0f, out, m);
    }

    /** {@code out (k x m) = a (n x k)^T . b (n x m)}. */
    public static void transposedTimes(float[] a, int n, int k, float[] b, int m, float[] out) {
        if (n == 0 || m == 0 || k == 0) {
            Arrays.fill(out, 0, k * m, 0f);
            return;
        }
        BLAS_INSTANCE.sgemm("N", "T", m, k, n, 1f, b, m, a, k, 0f, out, m);
    }

    /** Which netlib implementation does the products, for the report. */
    public static String implementation() {
        return BLAS_INSTANCE.getClass().getSimpleName();
    }

    private static BLAS load() {
        java.util.logging.Logger probe = java.util.logging.Logger.getLogger("dev.ludovic.netlib.blas.InstanceBuilder");
        java.util.logging.Level level = probe.getLevel();
        probe.setLevel(java.util.logging.Level.SEVERE);
        try {
            return scalarJava();
        } finally {
            probe.setLevel(level);
        }
    }

    /**
     * netlib's {@code Java11BLAS}: its class is package-private, hence the reflection. Should a later
     * netlib rename it, the default instance is used (fast, but then runs may differ in the last bits).
     */
    private static BLAS scalarJava() {
        try {
            Class<?> type = Class.forName("dev.ludovic.netlib.blas.Java11BLAS");
            java.lang.reflect.Method getInstance = type.getMethod("getInstance");
            getInstance.setAccessible(true);
            return (BLAS) getInstance.invoke(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return BLAS.getInstance();
        }
    }
}
