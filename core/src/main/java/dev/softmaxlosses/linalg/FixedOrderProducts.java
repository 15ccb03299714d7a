package dev.softmaxlosses.linalg;

import java.util.Arrays;

/**
 * {@link MatrixProducts} in plain Java loops whose every sum is taken in one fixed order, so that the
 * same inputs give the same bits on every run, every machine and at every stage of the JIT: each
 * product term is added with {@link Math#fma(float, float, float)}, which Java defines exactly (one
 * rounding) whether it is interpreted, compiled or vectorised. The loops over a row of the output
 * are plain enough for C2 to vectorise without changing that order.
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

    /** One row of partial sums per thread. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

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

    private static float[] scratch(int length) {
        float[][] holder = SCRATCH.get();
        if (holder[0].length < length) {
            holder[0] = new float[length];
        }
        return holder[0];
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
            boolean blocked = blocked(width, n, k);
            int run = run(width, n, k);
            for (int r = 0; r < n; r++) {
                int aRow = r * k;
                int o = r * m;
                int j = j0;
                // Four outputs at a time: four independent chains of additions, each still in order.
                for (; j + 4 <= j0 + width; j += 4) {
                    int b0 = bOff + j * k;
                    float c0 = 0f, c1 = 0f, c2 = 0f, c3 = 0f;
                    for (int i0 = 0; i0 < k; i0 += run) {
                        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
                        for (int i = i0, end = Math.min(i0 + run, k); i < end; i++) {
                            float ai = a[aRow + i];
                            s0 = Math.fma(ai, b[b0 + i], s0);
                            s1 = Math.fma(ai, b[b0 + k + i], s1);
                            s2 = Math.fma(ai, b[b0 + 2 * k + i], s2);
                            s3 = Math.fma(ai, b[b0 + 3 * k + i], s3);
                        }
                        if (blocked) {
                            c0 += s0; c1 += s1; c2 += s2; c3 += s3;
                        } else {
                            c0 = s0; c1 = s1; c2 = s2; c3 = s3;
                        }
                    }
                    out[o + j] = c0;
                    out[o + j + 1] = c1;
                    out[o + j + 2] = c2;
                    out[o + j + 3] = c3;
                }
                for (; j < j0 + width; j++) {
                    int bRow = bOff + j * k;
                    float c = 0f;
                    if (!blocked) {
                        c = dot(a, aRow, b, bRow, k);
                    } else {
                        for (int i0 = 0; i0 < k; i0 += run) {
                            c += dot(a, aRow + i0, b, bRow + i0, Math.min(run, k - i0));
                        }
                    }
                    out[o + j] = c;
                }
            }
        }
    }

    /** Sum of {@code x[xOff + i] y[yOff + i]} over {@code i < len}, term after term from 0. */
    private static float dot(float[] x, int xOff, float[] y, int yOff, int len) {
        float s = 0f;
        for (int i = 0; i < len; i++) {
            s = Math.fma(x[xOff + i], y[yOff + i], s);
        }
        return s;
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
        float[] acc = scratch(m);
        for (int k0 = 0; k0 < k; k0 += NetlibProducts.BLOCK) {
            int depth = Math.min(NetlibProducts.BLOCK, k - k0);
            boolean add = k0 > 0 || accumulate;
            boolean blocked = blocked(m, n, depth);
            int run = run(m, n, depth);
            for (int r = 0; r < n; r++) {
                int o = r * m;
                if (blocked && !add) {
                    Arrays.fill(out, o, o + m, 0f);
                }
                for (int i0 = k0; i0 < k0 + depth; i0 += run) {
                    Arrays.fill(acc, 0, m, 0f);
                    for (int i = i0, end = Math.min(i0 + run, k0 + depth); i < end; i++) {
                        float ari = a[r * k + i];
                        int bRow = bOff + i * m;
                        for (int j = 0; j < m; j++) {
                            acc[j] = Math.fma(ari, b[bRow + j], acc[j]);
                        }
                    }
                    store(acc, out, o, m, blocked || add);
                }
            }
        }
    }

    /** {@code out (k x m) = a (n x k)^T . b (n x m)}: netlib's {@code sgemm("N", "T")} on slices of {@code k}. */
    @Override
    public void transposedTimes(float[] a, int n, int k, float[] b, int m, float[] out) {
        if (n == 0 || m == 0 || k == 0) {
            Arrays.fill(out, 0, k * m, 0f);
            return;
        }
        float[] acc = scratch(m);
        for (int k0 = 0; k0 < k; k0 += NetlibProducts.BLOCK) {
            int rows = Math.min(NetlibProducts.BLOCK, k - k0);
            boolean blocked = blocked(m, rows, n);
            int run = run(m, rows, n);
            for (int i = k0; i < k0 + rows; i++) {
                int o = i * m;
                if (blocked) {
                    Arrays.fill(out, o, o + m, 0f);
                }
                for (int r0 = 0; r0 < n; r0 += run) {
                    Arrays.fill(acc, 0, m, 0f);
                    for (int r = r0, end = Math.min(r0 + run, n); r < end; r++) {
                        float ari = a[r * k + i];
                        int bRow = r * m;
                        for (int j = 0; j < m; j++) {
                            acc[j] = Math.fma(ari, b[bRow + j], acc[j]);
                        }
                    }
                    store(acc, out, o, m, blocked);
                }
            }
        }
    }

    /**
     * A run's sums into the output row: added to what is there ({@code fma(1, s, c)}, as netlib's
     * blocked path and its accumulating calls do), or written as they are (its plain path, {@code beta = 0}).
     */
    private static void store(float[] acc, float[] out, int o, int m, boolean add) {
        if (add) {
            for (int j = 0; j < m; j++) {
                out[o + j] += acc[j];
            }
        } else {
            System.arraycopy(acc, 0, out, o, m);
        }
    }
}
