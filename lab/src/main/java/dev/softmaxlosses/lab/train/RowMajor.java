package dev.softmaxlosses.lab.train;

import dev.ludovic.netlib.blas.BLAS;
import dev.softmaxlosses.linalg.MatrixProducts;


/**
 * The trainer's three row-major matrix products, through the same dev.ludovic.netlib BLAS as the margin
 * losses' products (core's {@code MatrixProducts}, on an instance of this class's choosing).
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

    private static final MatrixProducts PRODUCTS = MatrixProducts.of(load());

    private RowMajor() {}

    /** {@code out (n x m) = a (n x k) . b (m x k)^T}. */
    public static void timesTransposed(float[] a, int n, int k, float[] b, int m, float[] out) {
        PRODUCTS.timesTransposed(a, n, k, b, m, out);
    }

    /** {@code out (n x m) = a (n x k) . b (k x m)}. */
    public static void times(float[] a, int n, int k, float[] b, int m, float[] out) {
        PRODUCTS.times(a, n, k, b, m, out);
    }

    /** {@code out (k x m) = a (n x k)^T . b (n x m)}. */
    public static void transposedTimes(float[] a, int n, int k, float[] b, int m, float[] out) {
        PRODUCTS.transposedTimes(a, n, k, b, m, out);
    }

    /** Which netlib implementation does the products, for the report. */
    public static String implementation() {
        return PRODUCTS.implementation();
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
