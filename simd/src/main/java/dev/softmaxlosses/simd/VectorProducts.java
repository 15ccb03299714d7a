package dev.softmaxlosses.simd;

import dev.softmaxlosses.kernel.MatrixKernels;
import dev.softmaxlosses.linalg.MatrixProducts;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The three products of {@link MatrixProducts} as one cache-blocked single-precision matrix product
 * on the Vector API, in the manner of GotoBLAS and BLIS: {@code C (+)= A . B} is cut into blocks of
 * {@link #KC} terms of the sum, {@link #MC} rows of {@code A} (its packed block in L2) and {@link #NC}
 * columns of {@code B} (its packed block in L3); each block of either operand is first copied,
 * whatever its layout in the caller's array, into contiguous scratch in the order the micro-kernel
 * reads it (panels of {@link #MR} rows of A, each term's rows side by side; panels of {@link #NR}
 * columns of B, each term's columns side by side); the micro-kernel then keeps a tile of
 * {@code MR x NR} entries of {@code C} in registers, 8 rows by three vectors with 512-bit vectors, 4 by
 * two otherwise, and adds one term to all of them per step: one broadcast of A's entry per row, one
 * load per vector of B, one FMA per accumulator. Edges (any size, down to 0 and 1) are padded with
 * zeros in the packed operands and their tiles go through a scratch tile, so that nothing past the
 * caller's matrix is written and the padding reaches no entry.
 *
 * <p>On one core of an AMD EPYC (Zen 5, AVX-512), the three products of a margin head of 256 x 512
 * features against 8192 or 65536 classes run at about 150 GFLOP/s, 70% of the micro-kernel's rate on
 * operands in L1 (210) and three times netlib's Java kernels; with AVX2 (256-bit vectors, 16
 * registers) about 80.
 *
 * <p><b>Sum order.</b> Every entry of the output is one chain of fused multiply-adds, its terms in
 * increasing order of the summed index, starting from 0 (or from the entry as it was, when
 * {@code times} accumulates): {@code c = fma(a_i0, b_0j, c), c = fma(a_i1, b_1j, c), ...}. The blocking
 * only stops and resumes the chain, the vectors only hold different entries in different lanes, and a
 * lane's {@code fma} is exact as {@link Math#fma(float, float, float)} is, interpreted or compiled.
 * So the result has the same bits on every run, with any number of threads, whatever the JIT has
 * compiled, and on any vector width and machine: the bits of that scalar loop, which the tests
 * compare with.
 *
 * <p><b>JIT.</b> No vector is passed to or returned from a method of this class: the micro-kernel is
 * one method whose loop holds all the vector code and which calls only the Vector API; it is larger
 * than the JIT's inlining limit for hot methods (325 bytecodes), so it is compiled on its own, with
 * the Vector API's methods inlined into it at the top of the inlining depth, whatever calls it.
 *
 * <p>Scratch: each thread keeps its packed blocks ({@code (MC + NC) KC} floats at most, 4.5 MiB)
 * from call to call, in a {@link ThreadLocal}, so that a call allocates nothing once its thread has
 * done one as large.
 */
final class VectorProducts implements MatrixProducts, MatrixKernels {

    static final VectorProducts INSTANCE = new VectorProducts();

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Floats in a vector. */
    static final int L = F.length();
    /**
     * Whether the vectors are 512 bits wide, which on x86 (AVX-512) means 32 vector registers: room for
     * the 8 x 3-vector tile's 24 accumulators. Narrower vectors get the 4 x 2-vector tile, whose 8
     * accumulators, 2 panel vectors and 4 broadcasts fit AVX2's 16 registers (6 x 2 and 8 x 2 spill there
     * and ran at 60% of its rate).
     */
    private static final boolean WIDE = F.vectorBitSize() >= 512;
    /** Rows of a micro-tile. */
    static final int MR = WIDE ? 8 : 4;
    /** Columns of a micro-tile: three vectors, or two. */
    static final int NR = (WIDE ? 3 : 2) * L;
    /**
     * Terms of the sum per block. A panel of B ({@code KC x NR}, 96 KiB for the wide tile) is read from
     * L2 rather than L1: on the EPYC (Zen 5) this was tuned on, a block of 512 terms ran 5-10% faster
     * than one of 256 (half the loads and stores of the output, and one pass where the sum is over a
     * feature dimension of 512), and 384 was no better.
     */
    static final int KC = 512;
    /** Rows of A per packed block ({@code MC x KC}: 480 KiB, within a 1 MiB L2). */
    static final int MC = 240 / MR * MR;
    /** Columns of B per packed block ({@code KC x NC}: 4 MiB, in L3); 1024 to 4096 ran alike. */
    static final int NC = 2048 / NR * NR;

    /** The packed blocks of one thread, grown to the largest call it has made. */
    private static final class Workspace {
        float[] a = new float[0];
        float[] b = new float[0];
        final float[] tile = new float[MR * NR];
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private VectorProducts() {}

    /** This thread's packed blocks of A and B as they are now, for the tests. */
    static float[][] scratch() {
        Workspace w = WORKSPACE.get();
        return new float[][] {w.a, w.b};
    }

    @Override
    public String implementation() {
        return "Vector API SGEMM (" + F.vectorBitSize() + "-bit, " + MR + "x" + NR + " micro-kernel)";
    }

    @Override
    public void timesTransposed(float[] a, int n, int k, float[] b, int bOff, int m, float[] out) {
        // A(i, p) = a[i k + p], B(p, j) = b[bOff + j k + p].
        product(n, m, k, a, 0, k, 1, b, bOff, 1, k, out, false);
    }

    @Override
    public void times(float[] a, int n, int k, float[] b, int bOff, int m, float[] out, boolean accumulate) {
        // A(i, p) = a[i k + p], B(p, j) = b[bOff + p m + j].
        product(n, m, k, a, 0, k, 1, b, bOff, m, 1, out, accumulate);
    }

    @Override
    public void transposedTimes(float[] a, int n, int k, float[] b, int m, float[] out) {
        // out (k x m): A(i, p) = a[p k + i], B(p, j) = b[p m + j], the sum over n.
        product(k, m, n, a, 0, 1, k, b, 0, m, 1, out, false);
    }

    /**
     * {@code C (rows x cols) = A (rows x depth) . B (depth x cols)}, or {@code +=} when
     * {@code accumulate}, with {@code A(i, p) = a[aOff + i aRow + p aDepth]},
     * {@code B(p, j) = b[bOff + p bDepth + j bCol]} and {@code C(i, j) = c[i cols + j]}.
     */
    private static void product(int rows, int cols, int depth, float[] a, int aOff, int aRow, int aDepth,
                                float[] b, int bOff, int bDepth, int bCol, float[] c, boolean accumulate) {
        if (rows == 0 || cols == 0) {
            return;
        }
        if (depth == 0) {
            if (!accumulate) {
                Arrays.fill(c, 0, rows * cols, 0f);
            }
            return;
        }
        Workspace w = WORKSPACE.get();
        int kcMax = Math.min(KC, depth);
        float[] packedA = w.a;
        float[] packedB = w.b;
        int aNeeded = roundUp(Math.min(MC, rows), MR) * kcMax;
        int bNeeded = roundUp(Math.min(NC, cols), NR) * kcMax;
        if (packedA.length < aNeeded) {
            packedA = w.a = new float[aNeeded];
        }
        if (packedB.length < bNeeded) {
            packedB = w.b = new float[bNeeded];
        }
        for (int jc = 0; jc < cols; jc += NC) {
            int nc = Math.min(NC, cols - jc);
            for (int pc = 0; pc < depth; pc += KC) {
                int kc = Math.min(KC, depth - pc);
                packB(b, bOff + pc * bDepth + jc * bCol, bDepth, bCol, kc, nc, packedB);
                boolean load = accumulate || pc > 0;
                for (int ic = 0; ic < rows; ic += MC) {
                    int mc = Math.min(MC, rows - ic);
                    packA(a, aOff + ic * aRow + pc * aDepth, aRow, aDepth, mc, kc, packedA);
                    block(packedA, packedB, mc, nc, kc, c, ic * cols + jc, cols, load, w.tile);
                }
            }
        }
    }

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }

    /**
     * One packed block of A ({@code mc x kc}) times one of B ({@code kc x nc}) into C from {@code cAt}:
     * micro-tile by micro-tile, each panel of B (in L1 or L2) against every panel of A (in L2).
     */
    private static void block(float[] packedA, float[] packedB, int mc, int nc, int kc, float[] c, int cAt, int ldc,
                              boolean load, float[] tile) {
        for (int jr = 0; jr < nc; jr += NR) {
            int width = Math.min(NR, nc - jr);
            int bAt = jr * kc;
            for (int ir = 0; ir < mc; ir += MR) {
                int height = Math.min(MR, mc - ir);
                int at = cAt + ir * ldc + jr;
                if (height == MR && width == NR) {
                    kernel(packedA, ir * kc, packedB, bAt, kc, c, at, ldc, load);
                } else {
                    // A partial tile: computed whole (the packed operands are padded with zeros) in scratch.
                    if (load) {
                        for (int r = 0; r < height; r++) {
                            System.arraycopy(c, at + r * ldc, tile, r * NR, width);
                        }
                    }
                    kernel(packedA, ir * kc, packedB, bAt, kc, tile, 0, NR, load);
                    for (int r = 0; r < height; r++) {
                        System.arraycopy(tile, r * NR, c, at + r * ldc, width);
                    }
                }
            }
        }
    }

    /**
     * Rows {@code 0..mc-1} and terms {@code 0..kc-1} of A, {@code A(i, p) = a[off + i rowStride + p depthStride]},
     * into panels of {@link #MR} rows, each {@code kc x MR} with a row's terms {@code MR} apart, rows past
     * {@code mc} zero.
     */
    private static void packA(float[] a, int off, int rowStride, int depthStride, int mc, int kc, float[] packed) {
        for (int ir = 0; ir < mc; ir += MR) {
            int height = Math.min(MR, mc - ir);
            int base = ir * kc;
            if (rowStride == 1) {
                for (int p = 0; p < kc; p++) {
                    int from = off + p * depthStride + ir;
                    int to = base + p * MR;
                    for (int r = 0; r < height; r++) {
                        packed[to + r] = a[from + r];
                    }
                }
            } else {
                for (int r = 0; r < height; r++) {
                    int from = off + (ir + r) * rowStride;
                    for (int p = 0; p < kc; p++) {
                        packed[base + p * MR + r] = a[from + p * depthStride];
                    }
                }
            }
            for (int r = height; r < MR; r++) {
                for (int p = 0; p < kc; p++) {
                    packed[base + p * MR + r] = 0f;
                }
            }
        }
    }

    /**
     * Terms {@code 0..kc-1} and columns {@code 0..nc-1} of B, {@code B(p, j) = b[off + p depthStride + j colStride]},
     * into panels of {@link #NR} columns, each {@code kc x NR} with a term's columns side by side, columns
     * past {@code nc} zero.
     */
    private static void packB(float[] b, int off, int depthStride, int colStride, int kc, int nc, float[] packed) {
        for (int jr = 0; jr < nc; jr += NR) {
            int width = Math.min(NR, nc - jr);
            int base = jr * kc;
            if (colStride == 1) {
                for (int p = 0; p < kc; p++) {
                    System.arraycopy(b, off + p * depthStride + jr, packed, base + p * NR, width);
                }
            } else {
                for (int j = 0; j < width; j++) {
                    int from = off + (jr + j) * colStride;
                    for (int p = 0; p < kc; p++) {
                        packed[base + p * NR + j] = b[from + p * depthStride];
                    }
                }
            }
            if (width < NR) {
                for (int p = 0; p < kc; p++) {
                    Arrays.fill(packed, base + p * NR + width, base + (p + 1) * NR, 0f);
                }
            }
        }
    }

    /** The micro-kernel of this vector width: {@link #kernel8x3} or {@link #kernel4x2}. */
    private static void kernel(float[] a, int ai, float[] b, int bi, int kc, float[] c, int ci, int ldc, boolean load) {
        if (WIDE) {
            kernel8x3(a, ai, b, bi, kc, c, ci, ldc, load);
        } else {
            kernel4x2(a, ai, b, bi, kc, c, ci, ldc, load);
        }
    }

    /**
     * The 8 x 3-vector micro-kernel: the tile of C at {@code c[ci..]} (rows {@code ldc} apart), from
     * itself when {@code load} (else from zero), plus the product of a packed panel of A ({@code kc x 8},
     * from {@code ai}) and one of B ({@code kc x 3L}, from {@code bi}). 24 accumulators of one vector
     * each; every term is one {@code fma} per lane, in order of {@code p}. One method, with all its
     * vector code in one loop and calling only the Vector API: 1,400 bytecodes, too large to be inlined
     * into a hot caller, so compiled on its own.
     */
    static void kernel8x3(float[] a, int ai, float[] b, int bi, int kc, float[] c, int ci, int ldc,
                          boolean load) {
        FloatVector c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
        FloatVector c40, c41, c42, c50, c51, c52, c60, c61, c62, c70, c71, c72;
        if (load) {
            c00 = FloatVector.fromArray(F, c, ci);
            c01 = FloatVector.fromArray(F, c, ci + L);
            c02 = FloatVector.fromArray(F, c, ci + 2 * L);
            c10 = FloatVector.fromArray(F, c, ci + ldc);
            c11 = FloatVector.fromArray(F, c, ci + ldc + L);
            c12 = FloatVector.fromArray(F, c, ci + ldc + 2 * L);
            c20 = FloatVector.fromArray(F, c, ci + 2 * ldc);
            c21 = FloatVector.fromArray(F, c, ci + 2 * ldc + L);
            c22 = FloatVector.fromArray(F, c, ci + 2 * ldc + 2 * L);
            c30 = FloatVector.fromArray(F, c, ci + 3 * ldc);
            c31 = FloatVector.fromArray(F, c, ci + 3 * ldc + L);
            c32 = FloatVector.fromArray(F, c, ci + 3 * ldc + 2 * L);
            c40 = FloatVector.fromArray(F, c, ci + 4 * ldc);
            c41 = FloatVector.fromArray(F, c, ci + 4 * ldc + L);
            c42 = FloatVector.fromArray(F, c, ci + 4 * ldc + 2 * L);
            c50 = FloatVector.fromArray(F, c, ci + 5 * ldc);
            c51 = FloatVector.fromArray(F, c, ci + 5 * ldc + L);
            c52 = FloatVector.fromArray(F, c, ci + 5 * ldc + 2 * L);
            c60 = FloatVector.fromArray(F, c, ci + 6 * ldc);
            c61 = FloatVector.fromArray(F, c, ci + 6 * ldc + L);
            c62 = FloatVector.fromArray(F, c, ci + 6 * ldc + 2 * L);
            c70 = FloatVector.fromArray(F, c, ci + 7 * ldc);
            c71 = FloatVector.fromArray(F, c, ci + 7 * ldc + L);
            c72 = FloatVector.fromArray(F, c, ci + 7 * ldc + 2 * L);
        } else {
            c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = c30 = c31 = c32 = FloatVector.zero(F);
            c40 = c41 = c42 = c50 = c51 = c52 = c60 = c61 = c62 = c70 = c71 = c72 = FloatVector.zero(F);
        }
        for (int p = 0; p < kc; p++) {
            int at = ai + p * 8;
            int bt = bi + p * 3 * L;
            FloatVector b0 = FloatVector.fromArray(F, b, bt);
            FloatVector b1 = FloatVector.fromArray(F, b, bt + L);
            FloatVector b2 = FloatVector.fromArray(F, b, bt + 2 * L);
            FloatVector x0 = FloatVector.broadcast(F, a[at]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            c02 = x0.fma(b2, c02);
            FloatVector x1 = FloatVector.broadcast(F, a[at + 1]);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            c12 = x1.fma(b2, c12);
            FloatVector x2 = FloatVector.broadcast(F, a[at + 2]);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            c22 = x2.fma(b2, c22);
            FloatVector x3 = FloatVector.broadcast(F, a[at + 3]);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
            c32 = x3.fma(b2, c32);
            FloatVector x4 = FloatVector.broadcast(F, a[at + 4]);
            c40 = x4.fma(b0, c40);
            c41 = x4.fma(b1, c41);
            c42 = x4.fma(b2, c42);
            FloatVector x5 = FloatVector.broadcast(F, a[at + 5]);
            c50 = x5.fma(b0, c50);
            c51 = x5.fma(b1, c51);
            c52 = x5.fma(b2, c52);
            FloatVector x6 = FloatVector.broadcast(F, a[at + 6]);
            c60 = x6.fma(b0, c60);
            c61 = x6.fma(b1, c61);
            c62 = x6.fma(b2, c62);
            FloatVector x7 = FloatVector.broadcast(F, a[at + 7]);
            c70 = x7.fma(b0, c70);
            c71 = x7.fma(b1, c71);
            c72 = x7.fma(b2, c72);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c02.intoArray(c, ci + 2 * L);
        c10.intoArray(c, ci + ldc);
        c11.intoArray(c, ci + ldc + L);
        c12.intoArray(c, ci + ldc + 2 * L);
        c20.intoArray(c, ci + 2 * ldc);
        c21.intoArray(c, ci + 2 * ldc + L);
        c22.intoArray(c, ci + 2 * ldc + 2 * L);
        c30.intoArray(c, ci + 3 * ldc);
        c31.intoArray(c, ci + 3 * ldc + L);
        c32.intoArray(c, ci + 3 * ldc + 2 * L);
        c40.intoArray(c, ci + 4 * ldc);
        c41.intoArray(c, ci + 4 * ldc + L);
        c42.intoArray(c, ci + 4 * ldc + 2 * L);
        c50.intoArray(c, ci + 5 * ldc);
        c51.intoArray(c, ci + 5 * ldc + L);
        c52.intoArray(c, ci + 5 * ldc + 2 * L);
        c60.intoArray(c, ci + 6 * ldc);
        c61.intoArray(c, ci + 6 * ldc + L);
        c62.intoArray(c, ci + 6 * ldc + 2 * L);
        c70.intoArray(c, ci + 7 * ldc);
        c71.intoArray(c, ci + 7 * ldc + L);
        c72.intoArray(c, ci + 7 * ldc + 2 * L);
    }

    /**
     * The 4 x 2-vector micro-kernel, as {@link #kernel8x3} for narrower vectors: 8 accumulators. Two
     * terms per turn of the loop (each still one {@code fma} per lane, in order), which also makes the
     * method too large to be inlined.
     */
    static void kernel4x2(float[] a, int ai, float[] b, int bi, int kc, float[] c, int ci, int ldc,
                          boolean load) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31;
        if (load) {
            c00 = FloatVector.fromArray(F, c, ci);
            c01 = FloatVector.fromArray(F, c, ci + L);
            c10 = FloatVector.fromArray(F, c, ci + ldc);
            c11 = FloatVector.fromArray(F, c, ci + ldc + L);
            c20 = FloatVector.fromArray(F, c, ci + 2 * ldc);
            c21 = FloatVector.fromArray(F, c, ci + 2 * ldc + L);
            c30 = FloatVector.fromArray(F, c, ci + 3 * ldc);
            c31 = FloatVector.fromArray(F, c, ci + 3 * ldc + L);
        } else {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = FloatVector.zero(F);
        }
        int p = 0;
        for (; p + 2 <= kc; p += 2) {
            int at = ai + p * 4;
            int bt = bi + p * 2 * L;
            {
                FloatVector b0 = FloatVector.fromArray(F, b, bt);
                FloatVector b1 = FloatVector.fromArray(F, b, bt + L);
                FloatVector x0 = FloatVector.broadcast(F, a[at]);
                c00 = x0.fma(b0, c00);
                c01 = x0.fma(b1, c01);
                FloatVector x1 = FloatVector.broadcast(F, a[at + 1]);
                c10 = x1.fma(b0, c10);
                c11 = x1.fma(b1, c11);
                FloatVector x2 = FloatVector.broadcast(F, a[at + 2]);
                c20 = x2.fma(b0, c20);
                c21 = x2.fma(b1, c21);
                FloatVector x3 = FloatVector.broadcast(F, a[at + 3]);
                c30 = x3.fma(b0, c30);
                c31 = x3.fma(b1, c31);
            }
            {
                FloatVector b0 = FloatVector.fromArray(F, b, bt + 2 * L);
                FloatVector b1 = FloatVector.fromArray(F, b, bt + 2 * L + L);
                FloatVector x0 = FloatVector.broadcast(F, a[at + 4]);
                c00 = x0.fma(b0, c00);
                c01 = x0.fma(b1, c01);
                FloatVector x1 = FloatVector.broadcast(F, a[at + 4 + 1]);
                c10 = x1.fma(b0, c10);
                c11 = x1.fma(b1, c11);
                FloatVector x2 = FloatVector.broadcast(F, a[at + 4 + 2]);
                c20 = x2.fma(b0, c20);
                c21 = x2.fma(b1, c21);
                FloatVector x3 = FloatVector.broadcast(F, a[at + 4 + 3]);
                c30 = x3.fma(b0, c30);
                c31 = x3.fma(b1, c31);
            }
        }
        if (p < kc) {
            int at = ai + p * 4;
            int bt = bi + p * 2 * L;
            FloatVector b0 = FloatVector.fromArray(F, b, bt);
            FloatVector b1 = FloatVector.fromArray(F, b, bt + L);
            FloatVector x0 = FloatVector.broadcast(F, a[at]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            FloatVector x1 = FloatVector.broadcast(F, a[at + 1]);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            FloatVector x2 = FloatVector.broadcast(F, a[at + 2]);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            FloatVector x3 = FloatVector.broadcast(F, a[at + 3]);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c10.intoArray(c, ci + ldc);
        c11.intoArray(c, ci + ldc + L);
        c20.intoArray(c, ci + 2 * ldc);
        c21.intoArray(c, ci + 2 * ldc + L);
        c30.intoArray(c, ci + 3 * ldc);
        c31.intoArray(c, ci + 3 * ldc + L);
    }
}
