package dev.softmaxlosses.simd;

import static dev.softmaxlosses.simd.Lanes.F;
import static dev.softmaxlosses.simd.Lanes.IOTA;
import static dev.softmaxlosses.simd.Lanes.NEG_INF;
import static dev.softmaxlosses.simd.Lanes.TAIL;
import static dev.softmaxlosses.simd.Lanes.ZERO;
import static dev.softmaxlosses.simd.Lanes.foldFloatLanes;
import static dev.softmaxlosses.simd.Lanes.shortRow;
import static dev.softmaxlosses.simd.Lanes.storeShortRow;
import static dev.softmaxlosses.simd.Lanes.tail;
import static dev.softmaxlosses.simd.VectorMath.exp;
import static dev.softmaxlosses.simd.VectorMath.logInPlace;

import dev.softmaxlosses.kernel.CrossEntropyRow;
import dev.softmaxlosses.kernel.CrossEntropyTerms;
import dev.softmaxlosses.kernel.RowParallel;
import dev.softmaxlosses.kernel.ScalarKernels;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The softmax cross-entropy of rows that fit one vector, on the SIMD kernels: one such row in
 * registers ({@link #shortRow}), and a block of them in passes ({@link #block}). The formulas are
 * {@link CrossEntropyTerms}'.
 */
final class CrossEntropyBlock {

    private CrossEntropyBlock() {}

    /**
     * Rows that fit one vector (C = 10, say) are the whole computation in registers: one load, the
     * exponentials, their sum, the gradient, one store. The generic path would spend most of such a
     * row on its three passes' loop and call overheads. Class weights take the generic path.
     */
    static double row(CrossEntropyRow r) {
        float[] z = r.z;
        int off = r.off;
        int len = r.len;
        int label = r.label;
        float invT = r.invT;
        float eps = r.eps;
        float gradScale = r.gradScale;
        float shift = r.rowMax * invT;
        FloatVector e = exp(shortRow(z, off, len, NEG_INF).mul(invT).sub(shift));
        VectorMask<Float> isTarget = IOTA.eq((float) label);
        // The other classes' sum by a fixed tree (1 - p_y without cancellation); the target's own
        // exponential by the scalar twin, which gives its lane's bits without a second fold.
        double others = foldFloatLanes(e.blend(0f, isTarget));
        double sum = ScalarKernels.exp(z[off + label] * invT - shift) + others;
        double inverseSum = 1.0 / sum;
        double logSum = Math.log(sum);
        double mass = CrossEntropyTerms.mass(eps, 1.0, r.classWeightSum, len);
        float alpha = (float) (mass * inverseSum * gradScale);
        float beta = (float) (-CrossEntropyTerms.uniform(eps, len) * gradScale);
        float targetGrad = (float) CrossEntropyTerms.targetGradient(mass, others, inverseSum, eps, 1.0, r.classWeightSum,
                len, gradScale);
        storeShortRow(e.mul(alpha).add(beta).blend(targetGrad, isTarget), r.grad, r.gradOff, len);
        r.logSumExp = shift + logSum;
        return CrossEntropyTerms.loss(mass, shift, logSum, eps, 1.0, z[off + label] * invT, r.classWeightSum,
                invT * r.weightedLogitSum, len);
    }

    /** Rows a block holds: a chunk, rounded up to whole vectors for the logarithm's pass. */
    private static final int BLOCK_ROWS = (RowParallel.CHUNK_ROWS + F.length() - 1) / F.length() * F.length();

    /** One thread's per-row values of a block, handed from one pass to the next. */
    private static final class BlockScratch {
        final float[] shift = new float[BLOCK_ROWS];
        final float[] others = new float[BLOCK_ROWS];
        final double[] inverseSum = new double[BLOCK_ROWS];
        /** S, then log S. */
        final double[] logSum = new double[BLOCK_ROWS];
    }

    private static final ThreadLocal<BlockScratch> BLOCK_SCRATCH = ThreadLocal.withInitial(BlockScratch::new);

    /**
     * Short rows in passes over the block: row by row the shifted logits into the gradient rows (after
     * the maximum and the checks); the exponentials over the block's gradient as one contiguous range,
     * in whole vectors; row by row the sums, {@code 1 / S} and the gradient; {@code log S} for all rows
     * at once in vector lanes ({@link #logInPlace}). Done one row at a time, the logarithm is a call at
     * the end of a long dependency chain that stalls every row. The gradient has the bits
     * {@link #shortRow} gives; the loss is within an ulp of it ({@link #logInPlace} in
     * place of {@code Math.log}).
     *
     * <p>No method here takes a vector but the few-line helpers: in a method this large the JIT runs
     * out of its inlining budget at some call or other, from one run to the next, and a vector passed
     * to a method that is not inlined is boxed (an allocation per row, twice as slow).
     */
    static boolean block(CrossEntropyRow r, int firstRow, int rows, float[] lseOut, double[] lossesOut) {
        if (r.len > F.length() || rows > BLOCK_ROWS) {
            return false;
        }
        BlockScratch s = BLOCK_SCRATCH.get();
        if (!blockShifts(r, firstRow, rows, s)) {
            return false;
        }
        blockArguments(r, firstRow, rows, s);
        expInPlace(r.grad, firstRow * r.len, rows * r.len);
        blockSums(r, firstRow, rows, s);
        logInPlace(s.logSum, rows);
        blockGradients(r, firstRow, rows, lseOut, lossesOut, s);
        return true;
    }

    /** Each row's shift (its maximum times invT); false, with nothing written, at a row the block cannot take. */
    private static boolean blockShifts(CrossEntropyRow row, int firstRow, int rows, BlockScratch s) {
        float[] z = row.z;
        int cols = row.len;
        int[] labels = row.labels;
        int ignoreIndex = row.ignoreIndex;
        float invT = row.invT;
        for (int r = 0; r < rows; r++) {
            int n = firstRow + r;
            int off = n * cols;
            float max = shortRow(z, off, cols, NEG_INF).reduceLanes(VectorOperators.MAX);
            int label = labels[n];
            if (!(max > Float.NEGATIVE_INFINITY && max < Float.POSITIVE_INFINITY)
                    || label != ignoreIndex && z[off + label] == Float.NEGATIVE_INFINITY) {
                return false;
            }
            s.shift[r] = max * invT;
        }
        return true;
    }

    /** {@code z * invT - shift} into each gradient row: the exponentials' arguments. */
    private static void blockArguments(CrossEntropyRow row, int firstRow, int rows, BlockScratch s) {
        int cols = row.len;
        for (int r = 0; r < rows; r++) {
            int off = (firstRow + r) * cols;
            storeShortRow(shortRow(row.z, off, cols, ZERO).mul(row.invT).sub(s.shift[r]), row.grad, off, cols);
        }
    }

    /** {@code a[i] = exp(a[i])} over a range, in whole vectors but the last. */
    private static void expInPlace(float[] a, int off, int len) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            exp(FloatVector.fromArray(F, a, off + i)).intoArray(a, off + i);
        }
        if (i < len) {
            exp(tail(a, off + i, len - i, NEG_INF)).intoArray(a, off + i, TAIL[len - i]);
        }
    }

    /**
     * Each row's sum of the non-target exponentials (by a fixed tree, as the row kernel adds them),
     * {@code S} with the target's and {@code 1 / S}. An ignored row has no target: all of S is "others".
     */
    private static void blockSums(CrossEntropyRow row, int firstRow, int rows, BlockScratch s) {
        int cols = row.len;
        int[] labels = row.labels;
        int ignoreIndex = row.ignoreIndex;
        float[] grad = row.grad;
        for (int r = 0; r < rows; r++) {
            int n = firstRow + r;
            int off = n * cols;
            int label = labels[n];
            // The ignore index may be a class too (PyTorch allows any): then no lane is the target's.
            boolean ignored = label == ignoreIndex;
            float others = foldFloatLanes(shortRow(grad, off, cols, ZERO).blend(0f, IOTA.eq(ignored ? -1f : label)));
            double sum = (ignored ? 0.0 : grad[off + label]) + others;
            s.others[r] = others;
            s.logSum[r] = sum;
            s.inverseSum[r] = 1.0 / sum;
        }
    }

    /** Each row's gradient from its exponentials, its loss, and its log-sum-exp. */
    private static void blockGradients(CrossEntropyRow row, int firstRow, int rows, float[] lseOut, double[] lossesOut,
                                       BlockScratch s) {
        int cols = row.len;
        int[] labels = row.labels;
        float[] grad = row.grad;
        float gradScale = row.gradScale;
        for (int r = 0; r < rows; r++) {
            int n = firstRow + r;
            int off = n * cols;
            int label = labels[n];
            double logSum = s.logSum[r];
            if (lseOut != null) {
                lseOut[n] = (float) (s.shift[r] + logSum);
            }
            if (label == row.ignoreIndex) {
                storeShortRow(ZERO, grad, off, cols);
                lossesOut[r] = 0;
                continue;
            }
            // The row kernel's formulas with eps = 0 and no weights (mass 1), to the bit.
            double inverseSum = s.inverseSum[r];
            float alpha = (float) (inverseSum * gradScale);
            float targetGrad = (float) CrossEntropyTerms.targetGradient(1.0, s.others[r], inverseSum, 0f, 1.0, cols, cols,
                    gradScale);
            storeShortRow(shortRow(grad, off, cols, ZERO).mul(alpha).blend(targetGrad, IOTA.eq((float) label)),
                    grad, off, cols);
            lossesOut[r] = CrossEntropyTerms.loss(1.0, s.shift[r], logSum, 0f, 1.0, row.z[off + label] * row.invT, cols,
                    0, cols);
        }
    }
}
