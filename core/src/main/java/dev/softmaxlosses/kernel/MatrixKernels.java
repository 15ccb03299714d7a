package dev.softmaxlosses.kernel;

/**
 * The three row-major products of {@code dev.softmaxlosses.linalg.MatrixProducts}, as a kernel
 * implementation provides them ({@link KernelSupport#matrixKernels()}). <b>Internal</b>, like the rest
 * of this package: {@code MatrixProducts.standard()} wraps it; the interface is its own type, not
 * {@code MatrixProducts}, so that this package does not depend on {@code linalg}, which depends on it.
 * Implementations are stateless and safe to share between threads, and check nothing.
 */
public interface MatrixKernels {

    /** What does the products, for logs and reports. */
    String implementation();

    /** {@code out (n x m) = a (n x k) . b (m x k)^T}, {@code b}'s rows starting at {@code bOff}. */
    void timesTransposed(float[] a, int n, int k, float[] b, int bOff, int m, float[] out);

    /** {@code out (n x m) = a (n x k) . b (k x m)}, or {@code +=} when {@code accumulate}, {@code b} from {@code bOff}. */
    void times(float[] a, int n, int k, float[] b, int bOff, int m, float[] out, boolean accumulate);

    /** {@code out (k x m) = a (n x k)^T . b (n x m)}. */
    void transposedTimes(float[] a, int n, int k, float[] b, int m, float[] out);
}
