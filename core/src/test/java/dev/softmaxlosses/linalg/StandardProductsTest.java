package dev.softmaxlosses.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.Vectorization;

import org.junit.jupiter.api.Test;

/**
 * {@link MatrixProducts#standard()}: a native BLAS when netlib finds one, else the SIMD products when
 * the SIMD kernels are in use (core's suite runs again on them in the simd module), else netlib's.
 */
class StandardProductsTest {

    @Test
    void theChoiceFollowsTheBlasAndTheKernels() {
        MatrixProducts standard = MatrixProducts.standard();
        assertSame(standard, MatrixProducts.standard(), "chosen once");
        boolean nativeBlas = NetlibProducts.isNative(NetlibProducts.probed());
        if (nativeBlas || !Vectorization.simd()) {
            assertSame(MatrixProducts.netlib(), standard);
        } else {
            assertTrue(standard.implementation().startsWith("Vector API SGEMM"), standard.implementation());
        }
    }

    @Test
    void theStandardProductsMultiply() {
        // 2 x 3 times (2 x 3)^T, then back: small enough to check by hand.
        float[] a = {1, 2, 3, 4, 5, 6};
        float[] b = {0, 0, 0, 1, 0, 1, 2, 1, 0};
        float[] out = new float[4];
        MatrixProducts.standard().timesTransposed(a, 2, 3, b, 3, 2, out);
        assertEquals(4f, out[0]);
        assertEquals(4f, out[1]);
        assertEquals(10f, out[2]);
        assertEquals(13f, out[3]);
        float[] back = new float[6];
        MatrixProducts.standard().times(out, 2, 2, new float[] {1, 0, 0, 0, 1, 0}, 0, 3, back, false);
        assertEquals(4f, back[0]);
        assertEquals(4f, back[1]);
        assertEquals(0f, back[2]);
        float[] gw = new float[6];
        MatrixProducts.standard().transposedTimes(a, 2, 3, new float[] {1, 0, 0, 1}, 2, gw);
        assertEquals(1f, gw[0]);
        assertEquals(4f, gw[1]);
        assertEquals(3f, gw[4]);
        assertEquals(6f, gw[5]);
    }
}
