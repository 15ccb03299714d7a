package dev.softmaxlosses.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ludovic.netlib.blas.BLAS;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fixed-order products: close to a double-precision loop, the same bits on every call (before and
 * after the JIT compiles them), and the same bits as netlib's scalar Java kernels, whose order they
 * follow, on shapes that take netlib's plain path, its blocked path and more than one slice.
 */
class FixedOrderProductsTest {

    private static final MatrixProducts FIXED = MatrixProducts.fixedOrder();

    private static float[] random(Random random, int length) {
        float[] a = new float[length];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (random.nextGaussian() * 3);
        }
        return a;
    }

    /** All three products of one shape, with {@code times} run twice (the second accumulating). */
    private static float[][] products(MatrixProducts p, int n, int k, int m, long seed) {
        Random random = new Random(seed);
        float[] a = random(random, n * k);
        float[] b = random(random, (2 + m) * k);
        float[] g = random(random, n * m);
        float[] bt = random(random, (1 + k) * m);
        float[] z = new float[n * m];
        p.timesTransposed(a, n, k, b, 2 * k, m, z);
        float[] y = new float[n * m];
        p.times(a, n, k, bt, m, m, y, false);
        float[] y2 = y.clone();
        p.times(a, n, k, bt, m, m, y2, true);
        float[] w = new float[k * m];
        p.transposedTimes(a, n, k, g, m, w);
        return new float[][] {z, y, y2, w, a, b, bt, g};
    }

    @ParameterizedTest
    @CsvSource({"1, 1, 1", "3, 5, 7", "20, 30, 40", "64, 600, 30", "40, 30, 1100", "7, 5000, 3", "3, 9, 4200",
            "200, 120, 70"})
    void everyProductIsCloseToTheDoubleLoop(int n, int k, int m) {
        float[][] r = products(FIXED, n, k, m, 11);
        float[] a = r[4], b = r[5], bt = r[6], g = r[7];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                double z = 0, y = 0, scale = 0;
                for (int t = 0; t < k; t++) {
                    z += (double) a[i * k + t] * b[(2 + j) * k + t];
                    y += (double) a[i * k + t] * bt[(1 + t) * m + j];
                    scale += Math.abs((double) a[i * k + t]) * (Math.abs(b[(2 + j) * k + t]) + Math.abs(bt[(1 + t) * m + j]));
                }
                double tolerance = 1e-6 * k * scale + 1e-30;
                assertEquals(z, r[0][i * m + j], tolerance, "a b^T");
                assertEquals(y, r[1][i * m + j], tolerance, "a b");
                assertEquals(2 * y, r[2][i * m + j], 2 * tolerance, "a b accumulated");
            }
        }
        for (int t = 0; t < k; t++) {
            for (int j = 0; j < m; j++) {
                double w = 0, scale = 0;
                for (int i = 0; i < n; i++) {
                    w += (double) a[i * k + t] * g[i * m + j];
                    scale += Math.abs((double) a[i * k + t] * g[i * m + j]);
                }
                assertEquals(w, r[3][t * m + j], 1e-6 * n * scale + 1e-30, "a^T g");
            }
        }
    }

    @Test
    void theSameInputsGiveTheSameBitsOnEveryCall() {
        float[][] first = products(FIXED, 37, 610, 45, 5);
        for (int call = 0; call < 300; call++) {
            float[][] again = products(FIXED, 37, 610, 45, 5);
            for (int p = 0; p < 4; p++) {
                assertArrayEquals(first[p], again[p], "product " + p + ", call " + call);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"3, 5, 7", "64, 600, 30", "40, 30, 1100", "128, 784, 64", "7, 5000, 3", "3, 9, 4200", "9, 501, 250"})
    void theBitsAreThoseOfNetlibsScalarJavaKernels(int n, int k, int m) {
        BLAS java11 = netlibScalarJava();
        assumeTrue(java11 != null, "netlib's Java11BLAS is not reachable");
        float[][] expected = products(MatrixProducts.of(java11), n, k, m, 3);
        float[][] actual = products(FIXED, n, k, m, 3);
        for (int p = 0; p < 4; p++) {
            if (!Arrays.equals(expected[p], actual[p])) {
                int i = Arrays.mismatch(expected[p], actual[p]);
                throw new AssertionError("product " + p + " differs at " + i + ": netlib " + expected[p][i]
                        + ", fixed order " + actual[p][i]);
            }
        }
    }

    /** netlib's package-private scalar kernels, for this comparison only; null when they cannot be had. */
    private static BLAS netlibScalarJava() {
        try {
            java.lang.reflect.Method getInstance = Class.forName("dev.ludovic.netlib.blas.Java11BLAS").getMethod("getInstance");
            getInstance.setAccessible(true);
            return (BLAS) getInstance.invoke(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
