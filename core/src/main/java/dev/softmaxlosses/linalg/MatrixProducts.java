package dev.softmaxlosses.linalg;

/**
 * The row-major single-precision matrix products of a linear layer or a margin head: the one place
 * where a margin loss spends most of its time, chosen by the caller. An operand may start at an
 * offset ({@code bOff}), so that a block of class rows is used in place.
 *
 * <p>Implementations: {@link #standard()} (the default of the margin family: the best available),
 * {@link #netlib()} (netlib's own choice: a native BLAS when the machine has one, its Vector API
 * kernels when {@code jdk.incubator.vector} is enabled, Java otherwise), {@link #of} (a netlib BLAS of
 * the caller's choosing) and {@link #fixedOrder()} (plain Java whose bits do not change from run to
 * run). Implementations are stateless and safe to share between threads; they check nothing (the
 * losses validate their inputs first).
 */
public interface MatrixProducts {

    /** What does the products, for logs and reports. */
    String implementation();

    /** {@code out (n x m) = a (n x k) . b (m x k)^T}, {@code b}'s rows starting at {@code bOff}. */
    void timesTransposed(float[] a, int n, int k, float[] b, int bOff, int m, float[] out);

    /**
     * {@code out (n x m) = a (n x k) . b (k x m)}, or {@code +=} when {@code accumulate}, {@code b}'s
     * rows starting at {@code bOff}.
     */
    void times(float[] a, int n, int k, float[] b, int bOff, int m, float[] out, boolean accumulate);

    /** {@code out (k x m) = a (n x k)^T . b (n x m)}. */
    void transposedTimes(float[] a, int n, int k, float[] b, int m, float[] out);

    /** {@code out (n x m) = a (n x k) . b (m x k)^T}. */
    default void timesTransposed(float[] a, int n, int k, float[] b, int m, float[] out) {
        timesTransposed(a, n, k, b, 0, m, out);
    }

    /** {@code out (n x m) = a (n x k) . b (k x m)}. */
    default void times(float[] a, int n, int k, float[] b, int m, float[] out) {
        times(a, n, k, b, 0, m, out, false);
    }

    /**
     * The best products available, chosen once at first use and logged in one line (logger
     * {@code dev.softmaxlosses}): a native BLAS if netlib finds one; else, when the Vector API kernels
     * are in use ({@code dev.softmaxlosses.Vectorization}), {@code softmax-losses-simd}'s cache-blocked
     * SGEMM, several times as fast as netlib's Java kernels on a margin head's products; else netlib's
     * Java kernels ({@link #netlib()}). The default of the margin family's heads.
     *
     * <p>The SIMD products sum every output entry as one chain of fused multiply-adds in the order of
     * the summed index, so they give the same bits on every run, thread and machine (not the bits of
     * {@link #fixedOrder()}, whose order is netlib's); a native BLAS brings its own order and threads.
     */
    static MatrixProducts standard() {
        return StandardProducts.INSTANCE;
    }

    /** netlib's own choice of BLAS, loaded once (the margin family's default before {@link #standard()}). */
    static MatrixProducts netlib() {
        return NetlibProducts.standard();
    }

    /**
     * Products whose every sum is taken in one fixed order with {@link Math#fma(float, float, float)},
     * in plain Java: the same inputs give the same bits on every run and every machine, whatever the
     * JIT has compiled so far (netlib's Vector API kernels sum a vector's lanes in one order while
     * interpreted and in another once compiled; a native BLAS brings its own threads and blocking).
     * The order is that of netlib's scalar Java kernels ({@code Java11BLAS}) under {@link #of}, so
     * the two give equal bits; about half as fast as netlib's Vector API kernels on a large product.
     * For training runs that a seed must repeat.
     */
    static MatrixProducts fixedOrder() {
        return FixedOrderProducts.INSTANCE;
    }

    /** The products through a netlib implementation of the caller's choosing. */
    static MatrixProducts of(dev.ludovic.netlib.blas.BLAS blas) {
        return new NetlibProducts(java.util.Objects.requireNonNull(blas, "blas"));
    }
}
