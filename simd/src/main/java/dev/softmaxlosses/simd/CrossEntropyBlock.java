package dev.softmaxlosses.simd;

import static dev.softmaxlosses.simd.Lanes.F;
import static dev.softmaxlosses.simd.Lanes.I;
import static dev.softmaxlosses.simd.Lanes.LANE_INDEX;

import dev.softmaxlosses.kernel.CrossEntropyRow;
import dev.softmaxlosses.kernel.CrossEntropyTerms;
import dev.softmaxlosses.kernel.RowParallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The softmax cross-entropy of rows no longer than a vector (C = 10, say), with hard labels, no class
 * weights and no label smoothing, a block of rows at a time with one row per lane: column {@code c}
 * of up to {@code L} rows ({@code L} the lanes of a vector) is gathered into one vector, so that each
 * step (the maximum, the exponentials, the sums, the gradient) is one vector operation per class for
 * all the rows, and no row needs a reduction across lanes. A row this short is too short for loops of
 * its own to pay. The formulas are {@link CrossEntropyTerms}'.
 *
 * <p>The other classes' sum of a row ({@code 1 - p_y} without cancellation) is taken by a fixed tree
 * over {@code L} columns (those past the row are 0), whatever the row's length. The per-row scalar
 * work (division, the terms of the loss) is a short loop over the block; the logarithm is
 * {@link VectorMath#logInPlace} over the block's sums.
 *
 * <p>As in {@link PanamaKernels}, every vector is made and used inside one method: nothing here
 * takes or returns one.
 */
final class CrossEntropyBlock {

    private CrossEntropyBlock() {}

    private static final int L = F.length();

    /** One thread's buffers: the block's columns, the sums' tree, the gather indices and the per-row values. */
    private static final class Scratch {
        /** Column c of the block at {@code c * L}: the logits, then the exponentials' arguments, then the exponentials. */
        final float[] columns = new float[L * L];
        /** The other classes' exponentials, then the tree of their sums. */
        final float[] others = new float[L * L];
        /** {@code r * C}: where row r starts. */
        final int[] rowStart = new int[L];
        /** {@code r * C + y_r}: where row r's target is. */
        final int[] target = new int[L];
        final int[] label = new int[1];
        /** Each row's maximum, then its shift (the maximum times 1 / T). */
        final float[] shift = new float[L];
        final float[] targetExp = new float[L];
        final float[] alpha = new float[L];
        final float[] targetGrad = new float[L];
        /** S, then log S. */
        final double[] logSum = new double[L];
        /** 1 / S. */
        final double[] inverseSum = new double[L];
        final double[] loss = new double[L];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * One row (hard label, no weights, no smoothing, {@code r.len <= L}): the block kernel on a block
     * of one. Leaves the row's log-sum-exp in {@code r.logSumExp} and returns its loss. The caller has
     * checked the row.
     */
    static double row(PanamaKernels k, CrossEntropyRow r) {
        Scratch s = SCRATCH.get();
        s.label[0] = r.label;
        takes(r.z, r.off, s.label, 0, 1, r.len, r.label - 1, s);
        rows(k, r.z, r.off, r.grad, r.gradOff, s.label, 0, 1, r.len, r.invT, r.gradScale, r.label - 1, s);
        r.logSumExp = s.shift[0] + s.logSum[0];
        return s.loss[0];
    }

    /** {@link dev.softmaxlosses.kernel.KernelSupport#softmaxCrossEntropyBlock}: the chunk in blocks of L rows. */
    static boolean block(PanamaKernels k, CrossEntropyRow r, int firstRow, int rows, float[] lseOut, double[] lossesOut) {
        int cols = r.len;
        if (cols > L || rows > RowParallel.CHUNK_ROWS) {
            return false;
        }
        Scratch s = SCRATCH.get();
        // Every block is checked before any is written: a chunk with a bad row is left to the row-by-row
        // path. A chunk of one block keeps what the check gathered; of several, each is gathered again.
        for (int done = 0; done < rows; done += L) {
            if (!takes(r.z, (firstRow + done) * cols, r.labels, firstRow + done, Math.min(L, rows - done), cols,
                    r.ignoreIndex, s)) {
                return false;
            }
        }
        for (int done = 0; done < rows; done += L) {
            int n0 = firstRow + done;
            int count = Math.min(L, rows - done);
            if (rows > L) {
                takes(r.z, n0 * cols, r.labels, n0, count, cols, r.ignoreIndex, s);
            }
            rows(k, r.z, n0 * cols, r.grad, n0 * cols, r.labels, n0, count, cols, r.invT, r.gradScale, r.ignoreIndex, s);
            for (int i = 0; i < count; i++) {
                if (lseOut != null) {
                    lseOut[n0 + i] = (float) (s.shift[i] + s.logSum[i]);
                }
                lossesOut[done + i] = s.loss[i];
            }
        }
        return true;
    }

    /**
     * Gathers the rows {@code 0 .. rows - 1} ({@code rows <= L}) of {@code C = cols} logits from
     * {@code zOff} into the scratch's columns, with each row's maximum, and says whether the block can
     * take them: every row's maximum finite (no NaN, no {@code +Infinity}, not every class masked) and
     * no target masked.
     */
    private static boolean takes(float[] z, int zOff, int[] labels, int labelOff, int rows, int cols, int ignoreIndex,
                                 Scratch s) {
        VectorMask<Float> live = F.indexInRange(0, rows);
        VectorMask<Integer> liveRows = I.indexInRange(0, rows);
        // Lanes past the block point at its first row, so that no index leaves the array.
        IntVector rowStart = LANE_INDEX.mul(cols).blend(0, liveRows.not());
        rowStart.intoArray(s.rowStart, 0);
        FloatVector larger = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int c = 0; c < cols; c++) {
            FloatVector v = FloatVector.fromArray(F, z, zOff + c, s.rowStart, 0, live);
            v.intoArray(s.columns, c * L);
            larger = larger.blend(v, v.compare(VectorOperators.GT, larger).or(v.test(VectorOperators.IS_NAN)));
        }
        larger.intoArray(s.shift, 0);
        if (larger.test(VectorOperators.IS_FINITE).not().and(live).anyTrue()) {
            return false;
        }
        IntVector label = IntVector.fromArray(I, labels, labelOff, liveRows);
        VectorMask<Integer> labelled = label.compare(VectorOperators.NE, ignoreIndex).and(liveRows);
        rowStart.add(label.blend(0, labelled.not())).intoArray(s.target, 0);
        FloatVector targetLogit = FloatVector.fromArray(F, z, zOff, s.target, 0, labelled.cast(F));
        return !targetLogit.eq(Float.NEGATIVE_INFINITY).and(labelled.cast(F)).anyTrue();
    }

    /**
     * Rows {@code 0 .. rows - 1} ({@code rows <= L}) of {@code C = cols} logits from {@code zOff}, once
     * {@link #takes} has gathered them and accepted them: each row's gradient from {@code gradOff}, and
     * its shift, log S and loss into the scratch.
     */
    private static void rows(PanamaKernels k, float[] z, int zOff, float[] grad, int gradOff, int[] labels, int labelOff,
                             int rows, int cols, float invT, float gradScale, int ignoreIndex, Scratch s) {
        VectorMask<Float> live = F.indexInRange(0, rows);
        VectorMask<Integer> liveRows = I.indexInRange(0, rows);
        float[] columns = s.columns;
        FloatVector shift = FloatVector.fromArray(F, s.shift, 0).mul(invT);
        shift.intoArray(s.shift, 0);
        for (int c = 0; c < cols; c++) {
            FloatVector.fromArray(F, columns, c * L).mul(invT).sub(shift).intoArray(columns, c * L);
        }
        k.expSum(columns, 0, cols * L, 1f, 0f, columns, 0);

        // The ignore index may be a class too (PyTorch allows any): an ignored row gets label -1, no class.
        IntVector label = IntVector.fromArray(I, labels, labelOff, liveRows);
        label = label.blend(-1, label.compare(VectorOperators.EQ, ignoreIndex).or(liveRows.not()));
        float[] others = s.others;
        FloatVector targetExp = FloatVector.zero(F);
        for (int c = 0; c < L; c++) {
            if (c < cols) {
                FloatVector e = FloatVector.fromArray(F, columns, c * L);
                VectorMask<Float> isTarget = label.compare(VectorOperators.EQ, c).cast(F);
                targetExp = targetExp.blend(e, isTarget);
                e.blend(0f, isTarget).intoArray(others, c * L);
            } else {
                FloatVector.zero(F).intoArray(others, c * L);
            }
        }
        targetExp.intoArray(s.targetExp, 0);
        for (int width = L / 2; width >= 1; width /= 2) {
            for (int c = 0; c < width; c++) {
                FloatVector.fromArray(F, others, c * L).add(FloatVector.fromArray(F, others, (c + width) * L))
                        .intoArray(others, c * L);
            }
        }

        for (int r = 0; r < rows; r++) {
            s.logSum[r] = (double) s.targetExp[r] + others[r];
        }
        VectorMath.logInPlace(s.logSum, s.inverseSum, L);
        for (int r = 0; r < rows; r++) {
            int y = labels[labelOff + r];
            boolean ignored = y == ignoreIndex;
            double inverseSum = s.inverseSum[r];
            s.alpha[r] = ignored ? 0f : (float) (inverseSum * gradScale);
            s.targetGrad[r] = ignored ? 0f : (float) CrossEntropyTerms.targetGradient(1.0, others[r], inverseSum, 0f, 1.0,
                    cols, cols, gradScale);
            s.loss[r] = ignored ? 0.0 : CrossEntropyTerms.loss(1.0, s.shift[r], s.logSum[r], 0f, 1.0,
                    z[zOff + r * cols + y] * invT, cols, 0, cols);
        }

        FloatVector alpha = FloatVector.fromArray(F, s.alpha, 0);
        FloatVector targetGrad = FloatVector.fromArray(F, s.targetGrad, 0);
        for (int c = 0; c < cols; c++) {
            FloatVector.fromArray(F, columns, c * L).mul(alpha).blend(targetGrad, label.compare(VectorOperators.EQ, c).cast(F))
                    .intoArray(grad, gradOff + c, s.rowStart, 0, live);
        }
    }
}
