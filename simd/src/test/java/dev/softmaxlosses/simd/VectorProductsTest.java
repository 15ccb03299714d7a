package dev.softmaxlosses.simd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.softmaxlosses.linalg.MatrixProducts;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link VectorProducts}, each product on every shape made of the edge sizes (0, 1, a vector and one
 * either side, two vectors and one either side, a micro-tile's rows, 100, primes) and on shapes past
 * each cache block: against a float64 loop, within {@code (k + 1) 2^-22 (sum |a b| + |c|)}, and against
 * the scalar loop of fused multiply-adds in the order the class documents, bit for bit. The operand
 * {@code b} starts at an offset past values that must not be read, and the output goes on past the
 * product with values that must not be written.
 */
class VectorProductsTest {

    private static final MatrixProducts PRODUCTS = VectorProducts.INSTANCE;
    private static final int L = VectorProducts.L;
    /** What the output holds past the product: must be left alone. */
    private static final float GUARD = 12345.5f;

    /** The edge sizes: 0, 1, a micro-tile's rows and one more, around one vector and a tile's columns, 100 and primes. */
    private static int[] sizes() {
        int nr = VectorProducts.NR;
        return new int[] {0, 1, 2, 7, VectorProducts.MR, VectorProducts.MR + 1, L - 1, L, L + 1, nr - 1, nr, nr + 1, 37, 100};
    }

    static Stream<int[]> smallShapes() {
        List<int[]> shapes = new ArrayList<>();
        for (int n : sizes()) {
            for (int k : new int[] {0, 1, 3, 16, 17, 33, 100}) {
                for (int m : sizes()) {
                    shapes.add(new int[] {n, k, m});
                }
            }
        }
        return shapes.stream();
    }

    /** Shapes past a block of the sum ({@code KC}), of the rows ({@code MC}) and of the columns ({@code NC}). */
    static Stream<int[]> blockedShapes() {
        int kc = VectorProducts.KC;
        int mc = VectorProducts.MC;
        int nc = VectorProducts.NC;
        return Stream.of(new int[] {mc + 3, 2 * kc + 1, 61}, new int[] {13, kc + 5, nc + 7}, new int[] {mc + 1, kc - 1, 97},
                new int[] {31, 3 * kc, 2 * VectorProducts.NR + 5});
    }

    static Stream<int[]> allShapes() {
        return Stream.concat(smallShapes(), blockedShapes());
    }

    @ParameterizedTest
    @MethodSource("allShapes")
    void timesTransposedMatchesTheLoop(int[] shape) {
        int n = shape[0], k = shape[1], m = shape[2];
        Random random = new Random(Arrays.hashCode(shape));
        int bOff = 5 + random.nextInt(20);
        float[] a = random(random, n * k);
        float[] b = random(random, bOff + m * k);
        Arrays.fill(b, 0, bOff, Float.NaN);
        float[] out = guarded(n * m, Float.NaN);
        PRODUCTS.timesTransposed(a, n, k, b, bOff, m, out);
        Loop loop = loop(n, m, k, null, (i, p) -> a[i * k + p], (p, j) -> b[bOff + j * k + p]);
        check(loop.exact, loop.bound, loop.fma, out, n * m, "a b^T " + Arrays.toString(shape));
    }

    @ParameterizedTest
    @MethodSource("allShapes")
    void timesMatchesTheLoop(int[] shape) {
        int n = shape[0], k = shape[1], m = shape[2];
        for (boolean accumulate : new boolean[] {false, true}) {
            Random random = new Random(Arrays.hashCode(shape) + (accumulate ? 1 : 0));
            int bOff = 5 + random.nextInt(20);
            float[] a = random(random, n * k);
            float[] b = random(random, bOff + k * m);
            Arrays.fill(b, 0, bOff, Float.NaN);
            float[] out = guarded(n * m, Float.NaN);
            if (accumulate) {
                System.arraycopy(random(random, n * m), 0, out, 0, n * m);
            }
            float[] before = out.clone();
            PRODUCTS.times(a, n, k, b, bOff, m, out, accumulate);
            Loop loop = loop(n, m, k, accumulate ? before : null, (i, p) -> a[i * k + p], (p, j) -> b[bOff + p * m + j]);
            check(loop.exact, loop.bound, loop.fma, out, n * m,
                    "a b " + Arrays.toString(shape) + (accumulate ? " accumulated" : ""));
        }
    }

    @ParameterizedTest
    @MethodSource("allShapes")
    void transposedTimesMatchesTheLoop(int[] shape) {
        // The sum is over n, the output k x m.
        int n = shape[1], k = shape[0], m = shape[2];
        Random random = new Random(Arrays.hashCode(shape) + 7);
        float[] a = random(random, n * k);
        float[] b = random(random, n * m);
        float[] out = guarded(k * m, Float.NaN);
        PRODUCTS.transposedTimes(a, n, k, b, m, out);
        Loop loop = loop(k, m, n, null, (i, p) -> a[p * k + i], (p, j) -> b[p * m + j]);
        check(loop.exact, loop.bound, loop.fma, out, k * m, "a^T b " + Arrays.toString(new int[] {n, k, m}));
    }

    /** The reference of a product: the FMA loop's bits, the float64 sum and its error bound, per output. */
    private record Loop(float[] fma, double[] exact, double[] bound) {}

    /** An element of an operand, by (output row or column, summed index). */
    private interface Element {
        float at(int outer, int p);
    }

    /**
     * {@code out[i][j] = start[i][j] + sum_p a(i, p) b(p, j)} over {@code terms} terms: by the FMA loop in
     * increasing {@code p}, in float64, and the bound {@code (terms + 1) 2^-22 sum |a b|} (from 0 when
     * {@code start} is null).
     */
    private static Loop loop(int rows, int cols, int terms, float[] start, Element a, Element b) {
        float[] fma = new float[rows * cols];
        double[] exact = new double[rows * cols];
        double[] bound = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                float c = start == null ? 0f : start[i * cols + j];
                double sum = c;
                double magnitude = Math.abs(c);
                for (int p = 0; p < terms; p++) {
                    float x = a.at(i, p);
                    float y = b.at(p, j);
                    c = Math.fma(x, y, c);
                    sum += (double) x * y;
                    magnitude += Math.abs((double) x * y);
                }
                fma[i * cols + j] = c;
                exact[i * cols + j] = sum;
                bound[i * cols + j] = (terms + 1) * 0x1p-22 * magnitude;
            }
        }
        return new Loop(fma, exact, bound);
    }

    /**
     * Both micro-kernels, whichever this machine's width uses, on packed panels of 0 to 17 terms (the
     * narrow one takes two terms a turn), from zero and from the tile as it was: the FMA loop's bits,
     * and the values between the tile's rows untouched.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 16, 17})
    void eachMicroKernelMatchesTheLoop(int kc) {
        for (int rows : new int[] {8, 4}) {
            int cols = (rows == 8 ? 3 : 2) * L;
            for (boolean load : new boolean[] {false, true}) {
                Random random = new Random(kc * 31 + rows + (load ? 7 : 0));
                int ai = 3;
                int bi = 5;
                int ci = 2;
                int ldc = cols + 3;
                float[] a = random(random, ai + kc * rows);
                float[] b = random(random, bi + kc * cols);
                float[] c = random(random, ci + rows * ldc);
                float[] before = c.clone();
                if (rows == 8) {
                    VectorProducts.kernel8x3(a, ai, b, bi, kc, c, ci, ldc, load);
                } else {
                    VectorProducts.kernel4x2(a, ai, b, bi, kc, c, ci, ldc, load);
                }
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < ldc; j++) {
                        int at = ci + r * ldc + j;
                        if (j >= cols) {
                            assertEquals(before[at], c[at], "between rows, " + rows + "-row kernel");
                            continue;
                        }
                        float expected = load ? before[at] : 0f;
                        for (int p = 0; p < kc; p++) {
                            expected = Math.fma(a[ai + p * rows + r], b[bi + p * cols + j], expected);
                        }
                        assertEquals(expected, c[at], rows + "-row kernel, kc " + kc + ", load " + load + ", [" + r + ", " + j + "]");
                    }
                }
            }
        }
    }

    /**
     * With AVX2's 256-bit vectors (forced by {@code -XX:UseAVX=2} in a JVM of its own, on x86 with
     * AVX-512 where this suite's own runs take the wide kernel), the products still give the FMA loop's
     * bits on every shape: the narrow kernel through the whole driver. Skipped elsewhere.
     */
    @Test
    void theNarrowKernelGivesTheLoopsBitsThroughTheDriver() throws Exception {
        String arch = System.getProperty("os.arch");
        assumeTrue(VectorProducts.L == 16 && (arch.equals("amd64") || arch.equals("x86_64")), "x86 with 512-bit vectors");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:UseAVX=2",
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                NarrowProbe.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(300, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the probe did not finish");
        }
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("lanes 8, shapes "), output);
        assertTrue(output.contains(", mismatches 0"), output);
    }

    /** Runs the three products on many shapes against the FMA loops and prints the mismatches. */
    public static final class NarrowProbe {
        public static void main(String[] args) {
            int shapes = 0;
            long mismatches = 0;
            int[] sizes = {0, 1, 3, 4, 5, 8, 15, 16, 17, 33, 100};
            for (int n : sizes) {
                for (int k : new int[] {0, 1, 2, 3, 17, 100}) {
                    for (int m : sizes) {
                        mismatches += mismatches(n, k, m);
                        shapes++;
                    }
                }
            }
            for (int[] shape : blockedShapes().toList()) {
                mismatches += mismatches(shape[0], shape[1], shape[2]);
                shapes++;
            }
            System.out.println("lanes " + VectorProducts.L + ", shapes " + shapes + ", mismatches " + mismatches);
        }

        /** The entries of the three products of one shape (times also accumulated) whose bits differ from the FMA loops'. */
        static long mismatches(int n, int k, int m) {
            Random random = new Random(n * 1_000_003L + k * 1009L + m);
            float[] a = random(random, n * k);
            float[] bt = random(random, 3 + m * k);
            float[] b = random(random, 3 + k * m);
            float[] out = new float[n * m];
            long bad = 0;
            PRODUCTS.timesTransposed(a, n, k, bt, 3, m, out);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    float c = 0f;
                    for (int p = 0; p < k; p++) {
                        c = Math.fma(a[i * k + p], bt[3 + j * k + p], c);
                    }
                    bad += Float.floatToIntBits(c) == Float.floatToIntBits(out[i * m + j]) ? 0 : 1;
                }
            }
            float[] start = random(random, n * m);
            for (boolean accumulate : new boolean[] {false, true}) {
                System.arraycopy(start, 0, out, 0, out.length);
                PRODUCTS.times(a, n, k, b, 3, m, out, accumulate);
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < m; j++) {
                        float c = accumulate ? start[i * m + j] : 0f;
                        for (int p = 0; p < k; p++) {
                            c = Math.fma(a[i * k + p], b[3 + p * m + j], c);
                        }
                        bad += Float.floatToIntBits(c) == Float.floatToIntBits(out[i * m + j]) ? 0 : 1;
                    }
                }
            }
            // a as n x k, the sum over n: k x m.
            float[] g = random(random, n * m);
            float[] gw = new float[k * m];
            PRODUCTS.transposedTimes(a, n, k, g, m, gw);
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < m; j++) {
                    float c = 0f;
                    for (int p = 0; p < n; p++) {
                        c = Math.fma(a[p * k + i], g[p * m + j], c);
                    }
                    bad += Float.floatToIntBits(c) == Float.floatToIntBits(gw[i * m + j]) ? 0 : 1;
                }
            }
            return bad;
        }
    }

    /**
     * No method of the class takes or returns a vector: a vector that crosses a call the JIT does not
     * inline is boxed, and the loop around it runs many times slower.
     */
    @Test
    void noMethodTakesOrReturnsAVector() {
        for (java.lang.reflect.Method method : VectorProducts.class.getDeclaredMethods()) {
            List<Class<?>> types = new ArrayList<>(List.of(method.getParameterTypes()));
            types.add(method.getReturnType());
            for (Class<?> type : types) {
                assertTrue(!jdk.incubator.vector.Vector.class.isAssignableFrom(type)
                        && !jdk.incubator.vector.VectorMask.class.isAssignableFrom(type), method + " takes or returns " + type);
            }
        }
    }

    /** The check is not vacuous: an entry off by more than the bound, or by one ulp from the FMA loop, fails it. */
    @Test
    void theCheckCatchesAWrongEntry() {
        double[] exact = {1.0, 2.0};
        double[] bound = {1e-6, 1e-6};
        float[] fma = {1f, 2f};
        check(exact, bound, fma, guardedCopy(fma), 2, "right");
        float[] off = guardedCopy(fma);
        off[1] = Math.nextUp(2f);
        assertThrows(AssertionError.class, () -> check(exact, bound, fma, off, 2, "one ulp"));
        float[] far = guardedCopy(fma);
        far[0] = 1.001f;
        assertThrows(AssertionError.class, () -> check(exact, bound, new float[] {1.001f, 2f}, far, 2, "past the bound"));
        float[] spilled = guardedCopy(fma);
        spilled[2] = 0f;
        assertThrows(AssertionError.class, () -> check(exact, bound, fma, spilled, 2, "a write past the product"));
    }

    /** NaN and infinities go through as they do in the scalar loop; a NaN in a padded place reaches nothing. */
    @Test
    void nonFiniteValuesPropagateAsInTheLoop() {
        int n = 3, k = 5, m = VectorProducts.NR + 3;
        Random random = new Random(3);
        float[] a = random(random, n * k);
        float[] b = random(random, m * k);
        a[k + 2] = Float.POSITIVE_INFINITY;
        b[4 * k + 1] = Float.NaN;
        float[] out = guarded(n * m, 0f);
        PRODUCTS.timesTransposed(a, n, k, b, 0, m, out);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                float c = 0f;
                for (int p = 0; p < k; p++) {
                    c = Math.fma(a[i * k + p], b[j * k + p], c);
                }
                assertEquals(c, out[i * m + j], "[" + i + ", " + j + "]");
            }
        }
        assertTrue(Float.isNaN(out[4]) && !Float.isFinite(out[m]), "the non-finite values arrive");
        assertEquals(GUARD, out[n * m]);
    }

    /** Threads that share the instance each get their own scratch: the same bits as one thread alone. */
    @Test
    void concurrentCallsGiveTheBitsOfOneThread() throws Exception {
        int threads = 4;
        List<float[]> alone = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            alone.add(threeProducts(t));
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<float[]>> futures = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (int t = 0; t < threads; t++) {
                    int seed = t;
                    futures.add(pool.submit(() -> threeProducts(seed)));
                }
            }
            for (int i = 0; i < futures.size(); i++) {
                assertArrayEquals(alone.get(i % threads), futures.get(i).get(), "thread task " + i);
            }
        } finally {
            pool.shutdown();
        }
    }

    /** A call of a size the thread has done before reuses its packed blocks: no new scratch. */
    @Test
    void scratchIsReusedFromCallToCall() {
        threeProducts(1);
        float[][] first = VectorProducts.scratch();
        threeProducts(1);
        threeProducts(2);
        float[][] second = VectorProducts.scratch();
        assertSame(first[0], second[0], "packed A");
        assertSame(first[1], second[1], "packed B");
    }

    /** The three products of one random head of 70 x 130 features and 300 classes, one after another in one array. */
    private static float[] threeProducts(int seed) {
        Random random = new Random(seed);
        int n = 70, d = 130, c = 300;
        float[] f = random(random, n * d);
        float[] w = random(random, c * d);
        float[] cos = new float[n * c];
        float[] gf = new float[n * d];
        float[] gw = new float[c * d];
        PRODUCTS.timesTransposed(f, n, d, w, 0, c, cos);
        PRODUCTS.times(cos, n, c, w, 0, d, gf, false);
        PRODUCTS.transposedTimes(cos, n, c, f, d, gw);
        float[] all = new float[cos.length + gf.length + gw.length];
        System.arraycopy(cos, 0, all, 0, cos.length);
        System.arraycopy(gf, 0, all, cos.length, gf.length);
        System.arraycopy(gw, 0, all, cos.length + gf.length, gw.length);
        return all;
    }

    /**
     * {@code actual}'s first {@code length} values equal the FMA loop's bit for bit and are within
     * {@code bound} of the float64 sums; the guard values after them are untouched.
     */
    private static void check(double[] exact, double[] bound, float[] fma, float[] actual, int length, String what) {
        for (int i = 0; i < length; i++) {
            if (!(Math.abs(exact[i] - actual[i]) <= bound[i])) {
                fail(what + "[" + i + "] = " + actual[i] + ", float64 " + exact[i] + ", bound " + bound[i]);
            }
            if (Float.floatToIntBits(fma[i]) != Float.floatToIntBits(actual[i])) {
                fail(what + "[" + i + "] = " + actual[i] + ", the FMA loop's " + fma[i]);
            }
        }
        for (int i = length; i < actual.length; i++) {
            assertEquals(GUARD, actual[i], what + ": written past the product at " + i);
        }
    }

    private static float[] random(Random random, int length) {
        float[] a = new float[length];
        for (int i = 0; i < length; i++) {
            a[i] = random.nextFloat() * 2 - 1;
        }
        return a;
    }

    /** {@code length} values of {@code fill}, then guards. */
    private static float[] guarded(int length, float fill) {
        float[] out = new float[length + 5];
        Arrays.fill(out, 0, length, fill);
        Arrays.fill(out, length, out.length, GUARD);
        return out;
    }

    private static float[] guardedCopy(float[] values) {
        float[] out = guarded(values.length, 0f);
        System.arraycopy(values, 0, out, 0, values.length);
        return out;
    }
}
