package dev.softmaxlosses.linalg;

import dev.ludovic.netlib.blas.BLAS;

import java.util.Arrays;

/**
 * {@link MatrixProducts} through a netlib BLAS. BLAS is column-major: a row-major {@code R x K} array is the column-major
 * {@code K x R} matrix, its transpose, which is how each product below is turned around. An operand
 * may start at an offset, so that a block of rows is used in place.
 *
 * <p>{@link MatrixProducts#netlib()} is netlib's own choice: a native BLAS when the machine has one, its Vector API
 * kernels when {@code jdk.incubator.vector} is enabled, Java otherwise. A caller that needs other
 * properties (the lab's trainer wants the same bits on every run) wraps its own instance.
 *
 * <p>Each product is done in slices of at most {@link #BLOCK} along its class dimension (the
 * {@code m} of {@link #timesTransposed}, the {@code k} of the others): netlib's Java kernels do not
 * block for the cache, and on a margin head of 256 x 512 x 65536 they ran at 2 to 11 GFLOP/s whole
 * and at 45 to 50 in slices of 4096 classes, as fast as at 8192 classes; a native BLAS runs at the
 * same rate either way.
 */
final class NetlibProducts implements MatrixProducts {

    /** The widest slice of the class dimension one BLAS call gets. */
    static final int BLOCK = 4096;

    private final BLAS blas;

    NetlibProducts(BLAS blas) {
        this.blas = blas;
    }

    private static final class Standard {
        static final NetlibProducts INSTANCE = new NetlibProducts(loaded());
    }

    /** netlib's own choice of implementation, loaded once; its first use logs one line saying which. */
    static NetlibProducts standard() {
        return Standard.INSTANCE;
    }

    private static final class Probe {
        static final BLAS INSTANCE = probe();
    }

    /** netlib's own choice, without a line in the log: for {@link StandardProducts}, which logs its own. */
    static BLAS probed() {
        return Probe.INSTANCE;
    }

    /** Whether netlib found a native BLAS (its JNI implementations). */
    static boolean isNative(BLAS blas) {
        return blas.getClass().getSimpleName().startsWith("JNI");
    }

    /**
     * netlib tries a native BLAS first and logs a warning with each failure; on a machine without one
     * that is noise on every start, so its probe runs quietly.
     */
    private static BLAS probe() {
        java.util.logging.Logger probe = java.util.logging.Logger.getLogger("dev.ludovic.netlib.blas.InstanceBuilder");
        java.util.logging.Level level = probe.getLevel();
        probe.setLevel(java.util.logging.Level.SEVERE);
        try {
            return BLAS.getInstance();
        } finally {
            probe.setLevel(level);
        }
    }

    /** The probed BLAS, with one line saying what was chosen. */
    private static BLAS loaded() {
        BLAS blas = probed();
        System.getLogger("dev.softmaxlosses").log(System.Logger.Level.INFO, "softmax-losses: matrix products by netlib "
                + blas.getClass().getSimpleName() + (isNative(blas) ? ""
                : " (no native BLAS found; a system libblas or OpenBLAS makes the margin family faster)"));
        return blas;
    }

    /** Which netlib implementation does the products, for logs and reports. */
    @Override
    public String implementation() {
        return blas.getClass().getSimpleName();
    }

    /** {@code out (n x m) = a (n x k) . b (m x k)^T}, {@code b}'s rows starting at {@code bOff}. */
    @Override
    public void timesTransposed(float[] a, int n, int k, float[] b, int bOff, int m, float[] out) {
        if (n == 0 || m == 0 || k == 0) {
            Arrays.fill(out, 0, n * m, 0f);
            return;
        }
        for (int j0 = 0; j0 < m; j0 += BLOCK) {
            // Columns j0.. of the row-major n x m output: the rows of its column-major transpose, ld m.
            blas.sgemm("T", "N", Math.min(BLOCK, m - j0), n, k, 1f, b, bOff + j0 * k, k, a, 0, k, 0f, out, j0, m);
        }
    }

    @Override
    public void times(float[] a, int n, int k, float[] b, int bOff, int m, float[] out, boolean accumulate) {
        product(a, n, k, b, bOff, m, accumulate ? 1f : 0f, out);
    }

    private void product(float[] a, int n, int k, float[] b, int bOff, int m, float beta, float[] out) {
        if (n == 0 || m == 0 || k == 0) {
            if (beta == 0f) {
                Arrays.fill(out, 0, n * m, 0f);
            }
            return;
        }
        for (int k0 = 0; k0 < k; k0 += BLOCK) {
            // out += a[:, k0..] . b[k0.., :], the slices in order.
            blas.sgemm("N", "N", m, n, Math.min(BLOCK, k - k0), 1f, b, bOff + k0 * m, m, a, k0, k,
                    k0 == 0 ? beta : 1f, out, 0, m);
        }
    }

    /** {@code out (k x m) = a (n x k)^T . b (n x m)}. */
    @Override
    public void transposedTimes(float[] a, int n, int k, float[] b, int m, float[] out) {
        if (n == 0 || m == 0 || k == 0) {
            Arrays.fill(out, 0, k * m, 0f);
            return;
        }
        for (int k0 = 0; k0 < k; k0 += BLOCK) {
            // Rows k0.. of the output from columns k0.. of a.
            blas.sgemm("N", "T", m, Math.min(BLOCK, k - k0), n, 1f, b, 0, m, a, k0, k, 0f, out, k0 * m, m);
        }
    }
}
