package dev.softmaxlosses.linalg;

import java.util.Arrays;

/**
 * {@link MatrixProducts} in plain Java loops whose every sum is taken in one fixed order, so that the
 * same inputs give the same bits on every run, every machine and at every stage of the JIT: each
 * product term is added with {@link Math#fma(float, float, float)}, which Java defines exactly (one
 * rounding) whether it is interpreted or compiled. Every product is computed as dot products over
 * operands packed so that each sum reads contiguous values, two rows by four columns of the output
 * at a time: eight independent chains, each still in its order.
 *
 * <p><b>The order</b> is the one of {@link NetlibProducts} on netlib's scalar Java kernels
 * ({@code Java11BLAS}, 3.0.x), so that the lab's trainer, which used those through reflection,
 * gives the numbers it gave. Each product is cut, as {@link NetlibProducts} cuts it, into BLAS calls
 * of at most {@link NetlibProducts#BLOCK} along its class dimension; in a call of shape
 * {@code (M, N, K)} each output entry is a sum over {@code K} in float, term after term from the
 * first, starting from 0. When {@code M N K} (in {@code int} arithmetic, as netlib computes it) is
 * at least 10^6 netlib takes its blocked path: the sum is cut into runs of
 * {@code Ki = 4 ceil(min(500, K) / 4)} terms, each run summed from 0 and then added to the entry.
 * A call that accumulates ({@code beta = 1}) adds its sum to the entry as it was.
 */
final class FixedOrderProducts implements MatrixProducts {

    static final FixedOrderProducts INSTANCE = new FixedOrderProducts();

    /** netlib's threshold on {@code M N K} for its blocked path. */
    private static final int BLOCKED_PATH = 1_000_000;

    /** Two scratch arrays per thread, for the packed operands. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0]});

    private FixedOrderProducts() {}

    @Override
    public String implementation() {
        return "fixed-order Java (FMA, netlib Java11BLAS order)";
    }

    /** The length of the runs a call of shape {@code (m, n, k)} sums its {@code k} terms in; {@code k} for one run. */
    static int run(int m, int n, int k) {
        return m * n * k < BLOCKED_PATH ? k : (int) (Math.ceil(Math.min(500, k) / 4.0) * 4.0);
    }

    private static boolean blocked(int m, int n, int k) {
        return m * n * k >= BLOCKED_PATH;
    }

    /** This thread's scratch array {@code which} (0 or 1), at least {@code length} long. */
    private static float[] scratch(int which, int length) {
        float[][] holder = SCRATCH.get();
        if (holder[which].length < length) {
            holder[which] = new float[length];
        }
        return holder[which];
    }

    /** {@code out (n x m) = a (n x k) . b (m x k)^T}: netlib's {@code sgemm("T", "N")} on slices of the classes. */
    @Override
    public void timesTransposed(float[] a, int n, int k, float[] b, int bOff, int m, float[] out) {
        if (n == 0 || m == 0 || k == 0) {
            Arrays.fill(out, 0, n * m, 0f);
            return;
        }
        for (int j0 = 0; j0 < m; j0 += NetlibProducts.BLOCK) {
            int width = Math.min(NetlibProducts.BLOCK, m - j0);
            dots(a, 0, k, n, b, bOff + j0 * k, k, width, k, run(width, n, k), blocked(width, n, k), false, out, j0, m);
        }
    }

    /** {@code out (n x m) (+)= a (n x k) . b (k x m)}: netlib's {@code sgemm("N", "N")} on slices of {@code k}. */
    @Override
    public void times(float[] a, int n, int k, float[] b, int bOff, int m, float[] out, boolean accumulate) {
        if (n == 0 || m == 0 || k == 0) {
            if (!accumulate) {
                Arrays.fill(out, 0, n * m, 0f);
            }
            return;
        }
        for (int k0 = 0; k0 < k; k0 += NetlibProducts.BLOCK) {
            int depth = Math.min(NetlibProducts.BLOCK, k - k0);
            // b's columns, each made contiguous over the slice's depth: the sums become dot products.
            float[] columns = scratch(0, m * depth);
            for (int i = 0; i < depth; i++) {
                int row = bOff + (k0 + i) * m;
                for (int j = 0; j < m; j++) {
                    columns[j * depth + i] = b[row + j];
                }
            }
            dots(a, k0, k, n, columns, 0, depth, m, depth, run(m, n, depth), blocked(m, n, depth), k0 > 0 || accumulate,
                    out, 0, m);
        }
    }

    /** {@code out (k x m) = a (n x k)^T . b (n x m)}: netlib's {@code sgemm("N", "T")} on slices of {@code k}. */
    @Override
    public void transposedTimes(float[] a, int n, int k, float[] b, int m, float[] out) {
        if (n == 0 || m == 0 || k == 0) {
            Arrays.fill(out, 0, k * m, 0f);
            return;
        }
        // Both operands with their sums over n made contiguous: the columns of a and of b.
        float[] columnsOfB = scratch(1, n * m);
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < m; j++) {
                columnsOfB[j * n + r] = b[r * m + j];
            }
        }
        for (int k0 = 0; k0 < k; k0 += NetlibProducts.BLOCK) {
            int rows = Math.min(NetlibProducts.BLOCK, k - k0);
            float[] columnsOfA = scratch(0, rows * n);
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < rows; i++) {
                    columnsOfA[i * n + r] = a[r * k + k0 + i];
                }
            }
            dots(columnsOfA, 0, n, rows, columnsOfB, 0, n, m, n, run(m, rows, n), blocked(m, rows, n), false, out,
                    k0 * m, m);
        }
    }

    /**
     * Every entry {@code (r, j)} of an {@code rows x cols} block of the output: the sum over
     * {@code len} terms of {@code x[xAt + r xStride + i] y[yAt + j yStride + i]}, each term added with
     * one FMA in order from the first, in runs of {@code run} terms when {@code blocked}. The entry is
     * written at {@code out[outAt + r m + j]}: the sum itself, or added to what is there when {@code add}.
     * Two rows by four columns at a time: eight independent chains, each still in order.
     */
    private static void dots(float[] x, int xAt, int xStride, int rows, float[] y, int yAt, int yStride, int cols, int len,
                             int run, boolean blocked, boolean add, float[] out, int outAt, int m) {
        int r = 0;
        for (; r + 2 <= rows; r += 2) {
            int j = 0;
            for (; j + 4 <= cols; j += 4) {
                tile2x4(x, xAt + r * xStride, xStride, y, yAt + j * yStride, yStride, len, run, blocked, add, out,
                        outAt + r * m + j, m);
            }
            for (; j < cols; j++) {
                entry(x, xAt + r * xStride, y, yAt + j * yStride, len, run, blocked, add, out, outAt + r * m + j);
                entry(x, xAt + (r + 1) * xStride, y, yAt + j * yStride, len, run, blocked, add, out, outAt + (r + 1) * m + j);
            }
        }
        for (; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                entry(x, xAt + r * xStride, y, yAt + j * yStride, len, run, blocked, add, out, outAt + r * m + j);
            }
        }
    }

    private static void tile2x4(float[] x, int x0, int xs, float[] y, int y0, int ys, int len, int run, boolean blocked,
                                boolean add, float[] out, int o, int m) {
        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f, c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        if (blocked && add) {
            c00 = out[o]; c01 = out[o + 1]; c02 = out[o + 2]; c03 = out[o + 3];
            c10 = out[o + m]; c11 = out[o + m + 1]; c12 = out[o + m + 2]; c13 = out[o + m + 3];
        }
        for (int i0 = 0; i0 < len; i0 += run) {
            float s00 = 0f, s01 = 0f, s02 = 0f, s03 = 0f, s10 = 0f, s11 = 0f, s12 = 0f, s13 = 0f;
            for (int i = i0, end = Math.min(i0 + run, len); i < end; i++) {
                float a0 = x[x0 + i];
                float a1 = x[x0 + xs + i];
                float b0 = y[y0 + i];
                float b1 = y[y0 + ys + i];
                float b2 = y[y0 + 2 * ys + i];
                float b3 = y[y0 + 3 * ys + i];
                s00 = Math.fma(a0, b0, s00);
                s01 = Math.fma(a0, b1, s01);
                s02 = Math.fma(a0, b2, s02);
                s03 = Math.fma(a0, b3, s03);
                s10 = Math.fma(a1, b0, s10);
                s11 = Math.fma(a1, b1, s11);
                s12 = Math.fma(a1, b2, s12);
                s13 = Math.fma(a1, b3, s13);
            }
            if (blocked) {
                c00 += s00; c01 += s01; c02 += s02; c03 += s03; c10 += s10; c11 += s11; c12 += s12; c13 += s13;
            } else {
                c00 = s00; c01 = s01; c02 = s02; c03 = s03; c10 = s10; c11 = s11; c12 = s12; c13 = s13;
            }
        }
        if (add && !blocked) {
            c00 += out[o]; c01 += out[o + 1]; c02 += out[o + 2]; c03 += out[o + 3];
            c10 += out[o + m]; c11 += out[o + m + 1]; c12 += out[o + m + 2]; c13 += out[o + m + 3];
        }
        out[o] = c00;
        out[o + 1] = c01;
        out[o + 2] = c02;
        out[o + 3] = c03;
        out[o + m] = c10;
        out[o + m + 1] = c11;
        out[o + m + 2] = c12;
        out[o + m + 3] = c13;
    }

    /** One entry, as {@link #tile2x4} computes each of its eight. */
    private static void entry(float[] x, int x0, float[] y, int y0, int len, int run, boolean blocked, boolean add,
                              float[] out, int o) {
        float c = blocked && add ? out[o] : 0f;
        for (int i0 = 0; i0 < len; i0 += run) {
            float s = 0f;
            for (int i = i0, end = Math.min(i0 + run, len); i < end; i++) {
                s = Math.fma(x[x0 + i], y[y0 + i], s);
            }
            c = blocked ? c + s : s;
        }
        out[o] = add && !blocked ? out[o] + c : c;
    }
}
