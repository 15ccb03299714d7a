package dev.softmaxlosses.linalg;

import dev.softmaxlosses.kernel.KernelProvider;
import dev.softmaxlosses.kernel.MatrixKernels;

/**
 * {@link MatrixProducts#standard()}: chosen once, at first use, and logged in one line. A native BLAS
 * when netlib finds one; else the kernels' own products ({@code softmax-losses-simd}'s cache-blocked
 * Vector API SGEMM) when the SIMD kernels are in use; else netlib's Java kernels.
 */
final class StandardProducts {

    static final MatrixProducts INSTANCE = choose();

    private StandardProducts() {}

    private static MatrixProducts choose() {
        if (NetlibProducts.isNative(NetlibProducts.probed())) {
            return NetlibProducts.standard();
        }
        MatrixKernels kernels;
        try {
            kernels = KernelProvider.get().matrixKernels();
        } catch (IllegalStateException e) {
            // A vectorization property that cannot be honoured: every loss reports it; the products need none.
            kernels = null;
        }
        if (kernels == null) {
            return NetlibProducts.standard();
        }
        MatrixProducts products = new KernelProducts(kernels);
        System.getLogger("dev.softmaxlosses").log(System.Logger.Level.INFO, "softmax-losses: matrix products by "
                + products.implementation() + " (no native BLAS found)");
        return products;
    }

    /** The kernels' products as {@link MatrixProducts}. */
    private record KernelProducts(MatrixKernels kernels) implements MatrixProducts {

        @Override
        public String implementation() {
            return kernels.implementation();
        }

        @Override
        public void timesTransposed(float[] a, int n, int k, float[] b, int bOff, int m, float[] out) {
            kernels.timesTransposed(a, n, k, b, bOff, m, out);
        }

        @Override
        public void times(float[] a, int n, int k, float[] b, int bOff, int m, float[] out, boolean accumulate) {
            kernels.times(a, n, k, b, bOff, m, out, accumulate);
        }

        @Override
        public void transposedTimes(float[] a, int n, int k, float[] b, int m, float[] out) {
            kernels.transposedTimes(a, n, k, b, m, out);
        }
    }
}
