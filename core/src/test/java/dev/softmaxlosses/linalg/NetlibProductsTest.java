package dev.softmaxlosses.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each product against a plain double-precision loop, on class dimensions below, at and past a slice. */
class NetlibProductsTest {

    private final MatrixProducts products = MatrixProducts.netlib();

    private static float[] random(Random random, int length) {
        float[] a = new float[length];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return a;
    }

    private static void assertCloseTo(double[] expected, float[] actual, int depth, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-6 * depth, what + "[" + i + "]");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, NetlibProducts.BLOCK, 2 * NetlibProducts.BLOCK + 37})
    void everyProductMatchesTheLoop(int classes) {
        Random random = new Random(classes);
        int n = 3;
        int d = 5;
        int offsetRows = 2;
        float[] x = random(random, n * d);
        float[] w = random(random, (offsetRows + classes) * d);
        float[] g = random(random, n * classes);

        // out (n x classes) = x . w[offsetRows..]^T
        float[] z = new float[n * classes];
        products.timesTransposed(x, n, d, w, offsetRows * d, classes, z);
        double[] expected = new double[n * classes];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < classes; j++) {
                for (int t = 0; t < d; t++) {
                    expected[i * classes + j] += (double) x[i * d + t] * w[(offsetRows + j) * d + t];
                }
            }
        }
        assertCloseTo(expected, z, d, "x w^T");

        // out (n x d) = g . w[offsetRows..], then += the same again
        float[] gx = new float[n * d];
        products.times(g, n, classes, java.util.Arrays.copyOfRange(w, offsetRows * d, w.length), d, gx);
        expected = new double[n * d];
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < d; t++) {
                for (int j = 0; j < classes; j++) {
                    expected[i * d + t] += (double) g[i * classes + j] * w[(offsetRows + j) * d + t];
                }
            }
        }
        assertCloseTo(expected, gx, classes, "g w");
        products.times(g, n, classes, w, offsetRows * d, d, gx, true);
        for (int i = 0; i < expected.length; i++) {
            expected[i] *= 2;
        }
        assertCloseTo(expected, gx, 2 * classes, "g w accumulated");

        // out (classes x d) = g^T . x
        float[] gw = new float[classes * d];
        products.transposedTimes(g, n, classes, x, d, gw);
        expected = new double[classes * d];
        for (int j = 0; j < classes; j++) {
            for (int t = 0; t < d; t++) {
                for (int i = 0; i < n; i++) {
                    expected[j * d + t] += (double) g[i * classes + j] * x[i * d + t];
                }
            }
        }
        assertCloseTo(expected, gw, n, "g^T x");
    }
}
