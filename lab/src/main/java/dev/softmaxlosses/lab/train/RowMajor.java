package dev.softmaxlosses.lab.train;

import dev.softmaxlosses.linalg.MatrixProducts;

/**
 * The trainer's three row-major matrix products: core's {@link MatrixProducts#fixedOrder()}.
 *
 * <p><b>Which implementation, and why.</b> Products whose sums run in one fixed order (fused
 * multiply-adds, the order of netlib's scalar Java kernels), not netlib's Vector API kernels, although
 * those are about twice as fast on a large product: the Vector API sums a vector's lanes in one order
 * while its kernel is interpreted and in another once C2 has compiled it, so the first products of a
 * run differ in the last bits from later ones and, since the switch comes with the JIT's timing, two
 * runs with the same seed would not give the same numbers. A native BLAS would bring its own threads
 * and its own blocking. The fixed order gives the same bits every time, which is what {@code --seed}
 * promises; the lab gets its speed from training several losses at once instead.
 */
public final class RowMajor {

    private static final MatrixProducts PRODUCTS = MatrixProducts.fixedOrder();

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

    /** Which implementation does the products, for the report. */
    public static String implementation() {
        return PRODUCTS.implementation();
    }
}
