package dev.softmaxlosses.simd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.kernel.KernelProvider;
import dev.softmaxlosses.kernel.CrossEntropyRow;
import dev.softmaxlosses.kernel.KernelSupport;
import dev.softmaxlosses.kernel.ScalarKernels;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The SIMD twin agrees with the scalar one at every size, masked tails included. */
class PanamaKernelsTest {

    private final KernelSupport simd = PanamaKernels.create();
    private final KernelSupport scalar = ScalarKernels.INSTANCE;

    @Test
    void theProviderPicksSimdWhenForced() {
        // This module's tests run with -Dsoftmaxlosses.vectorization=simd: core's suite runs on these kernels.
        assertEquals("simd", System.getProperty(KernelProvider.PROPERTY));
        assertTrue(KernelProvider.get() instanceof PanamaKernels, KernelProvider.get().description());
        assertSame(KernelProvider.get(), KernelProvider.get());
    }

    private static float[] data(int len, int seed, double scale) {
        Random random = new Random(seed);
        float[] a = new float[len + 5];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        }
        return a;
    }

    private static void close(double expected, double actual, double rel, String what) {
        double tol = rel * Math.max(1, Math.abs(expected));
        assertTrue(Math.abs(expected - actual) <= tol, what + ": scalar " + expected + " simd " + actual);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 8, 13, 15, 16, 17, 31, 33, 64, 100, 207, 1021, 4099, 65537})
    void everyKernelAgrees(int len) {
        float[] a = data(len, len, 20);
        float[] b = data(len, len + 1, 2);
        int off = 3;
        assertEquals(scalar.max(a, off, len), simd.max(a, off, len), "max");
        close(scalar.sum(a, off, len), simd.sum(a, off, len), 1e-6 * Math.sqrt(len), "sum");
        close(scalar.dot(a, off, b, off, len), simd.dot(a, off, b, off, len), 1e-6 * Math.sqrt(len), "dot");

        float shift = scalar.max(a, off, len) * 0.5f;
        float[] e1 = new float[len];
        float[] e2 = new float[len];
        double s1 = scalar.expSum(a, off, len, 0.5f, shift, e1, 0);
        double s2 = simd.expSum(a, off, len, 0.5f, shift, e2, 0);
        close(s1, s2, 1e-5, "expSum");
        assertEquals(s2, simd.expSum(a, off, len, 0.5f, shift, null, 0), "expSum without a destination");
        for (int i = 0; i < len; i++) {
            close(e1[i], e2[i], 1e-6, "exp[" + i + "]");
        }

        float[] x1 = a.clone();
        float[] x2 = a.clone();
        scalar.scaleAddInPlace(x1, off, len, 0.75f, -2f);
        simd.scaleAddInPlace(x2, off, len, 0.75f, -2f);
        for (int i = 0; i < x1.length; i++) {
            close(x1[i], x2[i], 1e-6, "scaleAdd[" + i + "]");
        }
        scalar.scaleAddScaledInPlace(x1, off, len, 1.5f, b, off, -0.25f);
        simd.scaleAddScaledInPlace(x2, off, len, 1.5f, b, off, -0.25f);
        for (int i = 0; i < x1.length; i++) {
            close(x1[i], x2[i], 1e-6, "scaleAddScaled[" + i + "]");
        }
        float[] y1 = new float[len + 2];
        float[] y2 = new float[len + 2];
        scalar.scaleShift(a, off, y1, 1, len, 0.3f, 4f);
        simd.scaleShift(a, off, y2, 1, len, 0.3f, 4f);
        for (int i = 0; i < y1.length; i++) {
            close(y1[i], y2[i], 1e-6, "scaleShift[" + i + "]");
        }
    }

    /**
     * A row whose last partial vector would pass its array's end runs in a copy ({@code ArrayEnds}):
     * every kernel gives it the bits it gives the same row inside a longer array.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 17, 33, 100})
    void aRowAtTheEndOfItsArrayHasTheBitsOfTheSameRowInside(int len) {
        float[] row = data(len, 7 * len, 10);
        row[len / 2] = Float.NEGATIVE_INFINITY;
        float[] w = data(len, 9 * len, 1);
        float[] atEnd = new float[len + 3];
        float[] inside = new float[len + 3 + 64];
        System.arraycopy(row, 0, atEnd, 3, len);
        System.arraycopy(row, 0, inside, 3, len);
        float[] wEnd = java.util.Arrays.copyOf(w, len);
        float[] wInside = java.util.Arrays.copyOf(w, len + 64);
        assertEquals(simd.max(inside, 3, len), simd.max(atEnd, 3, len));
        assertEquals(simd.sum(inside, 3, len), simd.sum(atEnd, 3, len));
        assertEquals(simd.dot(inside, 3, wInside, 0, len), simd.dot(atEnd, 3, wEnd, 0, len));
        float[] out1 = new float[len + 64];
        float[] out2 = new float[len];
        assertEquals(simd.expSum(inside, 3, len, 0.5f, 1f, out1, 0), simd.expSum(atEnd, 3, len, 0.5f, 1f, out2, 0));
        assertArrayEquals(java.util.Arrays.copyOf(out1, len), out2, "exponentials");
        float[] max1 = new float[1];
        float[] max2 = new float[1];
        float[] twoRows = new float[2 * len];
        System.arraycopy(row, 0, twoRows, 0, len);
        System.arraycopy(w, 0, twoRows, len, len);
        float[] twoRowsInside = java.util.Arrays.copyOf(twoRows, 2 * len + 64);
        assertEquals(simd.expSumAndMax(twoRowsInside, 0, len, 1f, 2f, out1, 0, len, max1),
                simd.expSumAndMax(twoRows, 0, len, 1f, 2f, out2, 0, len, max2));
        assertEquals(max1[0], max2[0], "the next row's maximum");
        assertArrayEquals(java.util.Arrays.copyOf(out1, len), out2, "exponentials with the next maximum");
        simd.hingeSum(inside, 3, len, 0.5f, 1f, out1, 0);
        assertEquals(simd.hingeSum(inside, 3, len, 0.5f, 1f, out1, 0), simd.hingeSum(atEnd, 3, len, 0.5f, 1f, out2, 0));
        assertArrayEquals(java.util.Arrays.copyOf(out1, len), out2, "hinge flags");
        simd.scaleShift(inside, 3, out1, 0, len, 0.3f, 2f);
        simd.scaleShift(atEnd, 3, out2, 0, len, 0.3f, 2f);
        assertArrayEquals(java.util.Arrays.copyOf(out1, len), out2, "scaleShift");
        simd.scaleAddInPlace(out1, 0, len, 0.75f, -2f);
        simd.scaleAddInPlace(out2, 0, len, 0.75f, -2f);
        assertArrayEquals(java.util.Arrays.copyOf(out1, len), out2, "scaleAdd");
        simd.scaleAddScaledInPlace(out1, 0, len, 1.5f, wInside, 0, -0.25f);
        simd.scaleAddScaledInPlace(out2, 0, len, 1.5f, wEnd, 0, -0.25f);
        assertArrayEquals(java.util.Arrays.copyOf(out1, len), out2, "scaleAddScaled");
        float[] bad = atEnd.clone();
        bad[3 + len - 1] = Float.NaN;
        assertEquals(len - 1, simd.indexOfNaNOrPositiveInfinity(bad, 3, len));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 13, 17, 207, 1021, 4099})
    void fusedCrossEntropyAgrees(int len) {
        float[] z = data(len, 100 + len, 30);
        float[] w = data(len, 200 + len, 1);
        for (int i = 0; i < w.length; i++) {
            w[i] = Math.abs(w[i]);
        }
        double wSum = scalar.sum(w, 0, len);
        float[] g1 = new float[len];
        float[] g2 = new float[len];
        float[] lse1 = new float[1];
        float[] lse2 = new float[1];
        int label = len / 2;
        float max = scalar.max(z, 0, len);
        double weightedLogits = scalar.dot(w, 0, z, 0, len);
        double l1 = row(scalar, z, 0, len, max, 0.8f, label, w, wSum, 0.1f, weightedLogits, 0.25f, g1, 0, lse1, 0, -1, null);
        double l2 = row(simd, z, 0, len, max, 0.8f, label, w, wSum, 0.1f, weightedLogits, 0.25f, g2, 0, lse2, 0, -1, null);
        close(l1, l2, 1e-5, "loss");
        close(lse1[0], lse2[0], 1e-6, "lse");
        for (int i = 0; i < len; i++) {
            close(g1[i], g2[i], 2e-6, "grad[" + i + "]");
        }
    }

    @Test
    void findsTheFirstNaNOrPositiveInfinityInTheTail() {
        for (int len : new int[] {1, 5, 16, 17, 40}) {
            float[] a = new float[len];
            assertEquals(-1, simd.indexOfNaNOrPositiveInfinity(a, 0, len));
            a[len - 1] = Float.NaN;
            assertEquals(len - 1, simd.indexOfNaNOrPositiveInfinity(a, 0, len));
            a[len / 2] = Float.POSITIVE_INFINITY;
            assertEquals(len / 2, simd.indexOfNaNOrPositiveInfinity(a, 0, len));
            a[len / 2] = Float.NEGATIVE_INFINITY;
            a[len - 1] = 0;
            assertEquals(-1, simd.indexOfNaNOrPositiveInfinity(a, 0, len));
        }
    }

    @Test
    void polynomialExpIsWithinTwoUlpsOfMathExp() {
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        float[] x = new float[lanes];
        float[] y = new float[lanes];
        double worst = 0;
        for (int k = 0; k <= 200_000; k += lanes) {
            for (int j = 0; j < lanes; j++) {
                x[j] = -87.3f * (k + j) / 200_000f;
            }
            simd.expSum(x, 0, lanes, 1f, 0f, y, 0);
            for (int j = 0; j < lanes; j++) {
                double exact = Math.exp(x[j]);
                worst = Math.max(worst, Math.abs(y[j] - exact) / Math.ulp((float) exact));
            }
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulps");
    }

    @Test
    void maskedEntriesGiveZeroExponentials() {
        float[] a = new float[19];
        a[18] = Float.NEGATIVE_INFINITY;
        a[3] = Float.NEGATIVE_INFINITY;
        float[] e = new float[19];
        double s = simd.expSum(a, 0, 19, 1f, 0f, e, 0);
        assertEquals(17.0, s, 1e-6);
        assertEquals(0f, e[3]);
        assertEquals(0f, e[18]);
        assertEquals(Float.NEGATIVE_INFINITY, simd.max(new float[] {Float.NEGATIVE_INFINITY}, 0, 1));
    }

    /** The blocked maximum keeps Math.max's semantics whichever block a special value falls in. */
    @ParameterizedTest
    @ValueSource(ints = {1, 16, 127, 128, 129, 255, 300, 1021})
    void maxHasMathMaxSemanticsInEveryBlock(int len) {
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 3e38f, -3e38f, 1e-30f};
        for (float special : specials) {
            for (int at : new int[] {0, Math.min(5, len - 1), len / 2, len - 1}) {
                float[] a = data(len, at, 10);
                a[2 + at] = special;
                assertEquals(scalar.max(a, 2, len), simd.max(a, 2, len), "max with " + special + " at " + at);
                float[] b = a.clone();
                b[2 + len - 1 - at] = special;
                assertEquals(scalar.max(b, 2, len), simd.max(b, 2, len), "twice " + special);
            }
        }
        float[] masked = new float[len];
        java.util.Arrays.fill(masked, Float.NEGATIVE_INFINITY);
        assertEquals(Float.NEGATIVE_INFINITY, simd.max(masked, 0, len), "all masked");
        masked[len / 3] = -7f;
        assertEquals(-7f, simd.max(masked, 0, len), "one unmasked");
    }

    /** The fused pass gives the bits of expSum and the next row's maximum as max gives it. */
    @ParameterizedTest
    @ValueSource(ints = {1, 15, 16, 17, 31, 32, 33, 48, 100, 4099})
    void expSumAndMaxIsExpSumPlusTheNextMaximum(int len) {
        for (float special : new float[] {0f, Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY}) {
            float[] a = data(2 * len, len, 20);
            int next = 1 + len;
            if (special != 0f) {
                a[next + len / 2] = special;
            }
            float shift = scalar.max(a, 1, len) * 0.5f;
            float[] e1 = new float[len];
            float[] e2 = new float[len];
            float[] maxOut = new float[1];
            double s1 = simd.expSum(a, 1, len, 0.5f, shift, e1, 0);
            double s2 = simd.expSumAndMax(a, 1, len, 0.5f, shift, e2, 0, next, maxOut);
            assertEquals(s1, s2, "sum");
            assertArrayEquals(e1, e2, "exponentials");
            assertEquals(scalar.max(a, next, len), maxOut[0], "next maximum with " + special);
            double s3 = scalar.expSumAndMax(a, 1, len, 0.5f, shift, e1, 0, next, maxOut);
            close(s3, s2, 1e-5, "scalar twin");
            assertEquals(scalar.max(a, next, len), maxOut[0], "scalar next maximum");
        }
    }

    /** The twins' exponentials have the same bits, lane by lane, in whole vectors and in the last partial one. */
    @Test
    void scalarExpGivesTheBitsOfTheVectorLanes() {
        var species = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        float[] x = new float[species.length() + 3];
        float[] y = new float[x.length];
        Random random = new Random(11);
        for (int k = 0; k < 20_000; k++) {
            for (int j = 0; j < x.length; j++) {
                x[j] = k == 0 && j == 0 ? Float.NEGATIVE_INFINITY : (float) (-100 * random.nextDouble() * random.nextDouble());
            }
            simd.expSum(x, 0, x.length, 1f, 0f, y, 0);
            for (int j = 0; j < x.length; j++) {
                assertEquals(Float.floatToRawIntBits(y[j]), Float.floatToRawIntBits(ScalarKernels.exp(x[j])), "exp(" + x[j] + ")");
            }
        }
    }

    /** The block path's logarithm against Math.log: near 1 (confident rows), around sqrt(2) and powers of 2, and wide. */
    @Test
    void vectorLogIsWithinAnUlpOfMathLog() {
        Random random = new Random(12);
        double[] x = new double[64];
        for (int k = 0; k < 20_000; k++) {
            for (int j = 0; j < x.length; j++) {
                x[j] = switch (j % 4) {
                    case 0 -> 1 + Math.scalb(random.nextDouble(), -random.nextInt(50));
                    case 1 -> Math.sqrt(2) * (1 + (random.nextDouble() - 0.5) * 1e-6) * Math.scalb(1.0, random.nextInt(40) - 20);
                    case 2 -> Math.scalb(1.0, random.nextInt(200) - 100) * (k % 2 == 0 ? 1 : 1 + 1e-12);
                    default -> Math.exp((random.nextDouble() - 0.5) * 1400);
                };
            }
            double[] y = x.clone();
            VectorMath.logInPlace(y, null, y.length);
            for (int j = 0; j < x.length; j++) {
                double exact = Math.log(x[j]);
                assertTrue(Math.abs(y[j] - exact) <= Math.ulp(exact), "log(" + x[j] + ") = " + y[j] + ", Math.log " + exact);
            }
        }
        double[] one = new double[64];
        java.util.Arrays.fill(one, 1.0);
        VectorMath.logInPlace(one, null, one.length);
        assertEquals(0.0, one[5]);
    }

    /**
     * The block path against the row kernel it stands in for: the same gradient and log-sum-exp bits,
     * the loss within an ulp or so (its logarithm is not Math.log), ignored rows zero, and false, with
     * nothing written past the bad row, for a row it cannot take.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 7, 10, 15, 16})
    void crossEntropyBlockGivesTheRowKernelsBits(int cols) {
        Random random = new Random(cols);
        for (int rows : new int[] {1, 5, 16}) {
            // The ignore index may also be a class (0 here), as in PyTorch.
            int ignore = rows == 5 ? 0 : -100;
            for (float invT : new float[] {1f, 2f, 0.4f}) {
                float[] z = new float[rows * cols];
                int[] labels = new int[rows];
                for (int i = 0; i < z.length; i++) {
                    z[i] = (float) (random.nextGaussian() * 8);
                }
                for (int n = 0; n < rows; n++) {
                    labels[n] = n % 4 == 3 ? ignore : random.nextInt(cols);
                    if (cols > 1 && n % 3 == 1 && labels[n] != ignore) {
                        z[n * cols + (labels[n] + 1 + random.nextInt(cols - 1)) % cols] = Float.NEGATIVE_INFINITY;
                    }
                }
                float gradScale = 0.3f * invT;
                float[] grad = new float[z.length];
                float[] lse = new float[rows];
                double[] losses = new double[16];
                assertTrue(block(simd, z, 0, rows, cols, invT, labels, ignore, gradScale, grad, lse, losses));
                for (int n = 0; n < rows; n++) {
                    int off = n * cols;
                    float[] rowGrad = new float[cols];
                    float[] rowLse = new float[1];
                    float max = simd.max(z, off, cols);
                    String what = rows + "x" + cols + " invT " + invT + " row " + n;
                    if (labels[n] == ignore) {
                        assertArrayEquals(rowGrad, java.util.Arrays.copyOfRange(grad, off, off + cols), what);
                        assertEquals(0.0, losses[n], what);
                        close(simd.logSumExp(z, off, cols, invT), lse[n], 1e-6, what + " lse");
                        continue;
                    }
                    double rowLoss = row(simd, z, off, cols, max, invT, labels[n], null, cols, 0f, 0,
                            gradScale, rowGrad, 0, rowLse, 0, -1, null);
                    assertArrayEquals(rowGrad, java.util.Arrays.copyOfRange(grad, off, off + cols), what);
                    assertEquals(rowLse[0], lse[n], what + " lse");
                    close(rowLoss, losses[n], 1e-15, what + " loss");
                }
            }
        }
        float[] z = data(4 * cols, cols, 5);
        int[] labels = {0, 0, 0, 0};
        float[] grad = new float[z.length];
        double[] losses = new double[16];
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY};
        for (float value : bad) {
            float[] withBad = z.clone();
            withBad[2 * cols + cols - 1] = value;
            assertTrue(!block(simd, withBad, 0, 4, cols, 1f, labels, -100, 1f, grad, null, losses),
                    value + " in row 2");
        }
        float[] masked = z.clone();
        masked[2 * cols] = Float.NEGATIVE_INFINITY;
        assertTrue(!block(simd, masked, 0, 4, cols, 1f, labels, -100, 1f, grad, null, losses),
                "a masked target");
        assertArrayEquals(new float[grad.length], grad, "nothing written");
        assertEquals(0, scalar.crossEntropyBlockMaxClasses());
        assertTrue(!block(scalar, z, 0, 4, cols, 1f, labels, -100, 1f, grad, null, losses));
    }

    /** The row kernel through its frame, with the positional arguments the tests were written with. */
    private static double row(KernelSupport k, float[] z, int off, int len, float max, float invT, int label, float[] w,
                              double wSum, float eps, double weightedLogits, float gradScale, float[] g, int gOff,
                              float[] lse, int lseOff, int nextOff, float[] nextMax) {
        CrossEntropyRow r = new CrossEntropyRow();
        r.batch(len, invT, eps, w, wSum, gradScale, null, 0);
        r.row(z, off, max, label, weightedLogits, g, gOff, nextMax);
        double loss = k.softmaxCrossEntropyRow(r);
        if (lse != null) {
            lse[lseOff] = (float) r.logSumExp;
        }
        return loss;
    }

    /** The block kernel through its frame. */
    private static boolean block(KernelSupport k, float[] z, int firstRow, int rows, int cols, float invT, int[] labels,
                                 int ignore, float gradScale, float[] grad, float[] lse, double[] losses) {
        CrossEntropyRow r = new CrossEntropyRow();
        r.batch(cols, invT, 0f, null, cols, gradScale, labels, ignore);
        r.z = z;
        r.grad = grad;
        return k.softmaxCrossEntropyBlock(r, firstRow, rows, lse, losses);
    }
}
