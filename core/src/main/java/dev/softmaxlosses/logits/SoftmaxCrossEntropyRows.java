package dev.softmaxlosses.logits;

import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.kernel.CrossEntropyRow;
import dev.softmaxlosses.kernel.CrossEntropyTerms;
import dev.softmaxlosses.kernel.KernelProvider;
import dev.softmaxlosses.kernel.KernelSupport;
import dev.softmaxlosses.kernel.RowParallel;

/**
 * The rows of {@link SoftmaxCrossEntropyLoss} on the row driver: a hard label's row (the kernels'
 * fused row), a soft target's row, a block of short rows, and the optional outputs. The formulas are
 * {@link CrossEntropyTerms}'.
 */
final class SoftmaxCrossEntropyRows {

    /** The per-row losses of a block of short rows, per thread. */
    private static final ThreadLocal<double[]> BLOCK_LOSSES =
            ThreadLocal.withInitial(() -> new double[RowParallel.CHUNK_ROWS]);

    private SoftmaxCrossEntropyRows() {}

    /**
     * A row with a hard label: the kernel's fused row on the logits, or on the final logits
     * {@code z / T} in a scratch row when the row {@link KernelSupport#needsFinalLogits needs them}.
     */
    static double hardLabelRow(RowPass p, KernelSupport k, int n, float rowMax, int label, float[] carried) {
        CrossEntropyRow f = p.frame;
        int cols = p.cols;
        int off = n * cols;
        float invT = f.invT;
        float[] rowZ = p.z;
        int rowOff = off;
        if (KernelSupport.needsFinalLogits(rowMax, invT)) {
            rowZ = finalRow(p, k, n, invT);
            rowOff = 0;
            rowMax *= invT;
            LogitLossBase.handOn(p, k, n, carried);
            carried = null;
            f.invT = 1f;
        }
        double weightedLogitSum = 0;
        if (f.eps > 0) {
            weightedLogitSum = p.weights == null ? k.sum(rowZ, rowOff, cols) : k.dot(p.weights, 0, rowZ, rowOff, cols);
            if (!Double.isFinite(weightedLogitSum)) {
                f.invT = invT;
                throw Checks.maskedTarget("logits", n, Checks.firstMasked(p.z, cols, n), "label_smoothing = " + f.eps
                        + " gives every class a share of the target");
            }
        }
        f.row(rowZ, rowOff, rowMax, label, weightedLogitSum, p.grad, off, carried);
        double loss = k.softmaxCrossEntropyRow(f);
        f.invT = invT;
        if (p.logSumExp != null) {
            p.logSumExp[n] = (float) f.logSumExp;
            p.lseWritten = true;
        }
        return loss;
    }

    /** A row with soft targets: the exponentials go into the gradient row and become the gradient. */
    static double softTargetRow(RowPass p, KernelSupport k, int n, float rowMax, float[] carried) {
        int cols = p.cols;
        int off = n * cols;
        float invT = p.frame.invT;
        float eps = p.frame.eps;
        // The exponentials' shift is the final logits' maximum whether or not the row is scaled first.
        float shift = rowMax * invT;
        boolean scaled = KernelSupport.needsFinalLogits(rowMax, invT);
        float[] z = scaled ? finalRow(p, k, n, invT) : p.z;
        int zOff = scaled ? 0 : off;
        float scale = scaled ? 1f : invT;
        LogitLossBase.handOn(p, k, n, carried);
        float[] grad = p.grad;
        double sum = k.expSum(z, zOff, cols, scale, shift, grad, off);
        double lse = shift + Math.log(sum);
        double mass = 0;
        for (int c = 0; c < cols; c++) {
            mass += CrossEntropyTerms.weightedTarget(eps, weight(p, c), p.targets[off + c], cols);
        }
        double loss = 0;
        for (int c = 0; c < cols; c++) {
            double wq = CrossEntropyTerms.weightedTarget(eps, weight(p, c), p.targets[off + c], cols);
            loss += CrossEntropyTerms.lossTerm(wq, lse, z[zOff + c] * scale);
            grad[off + c] = (float) CrossEntropyTerms.gradient(grad[off + c] / sum, mass, wq, p.gradScale);
        }
        return loss;
    }

    /** Row n's float32 final logits {@code z * invT}, in this thread's scratch row. */
    private static float[] finalRow(RowPass p, KernelSupport k, int n, float invT) {
        float[] row = Scratch.row(p.cols);
        k.scaleShift(p.z, n * p.cols, row, 0, p.cols, invT, 0f);
        return row;
    }

    private static double weight(RowPass p, int c) {
        return p.weights == null ? 1.0 : p.weights[c];
    }

    /**
     * The rows {@code start .. end - 1} of one chunk together ({@link KernelSupport#softmaxCrossEntropyBlock});
     * NaN when the kernels have no block path for them or it does not take them (the driver then goes
     * row by row, and reports the bad row).
     */
    static double block(SoftmaxCrossEntropyLoss loss, RowPass p, int start, int end) {
        KernelSupport k = KernelProvider.get();
        if (p.cols > k.crossEntropyBlockMaxClasses()) {
            return Double.NaN;
        }
        CrossEntropyRow f = p.frame;
        f.z = p.z;
        f.grad = p.grad;
        double[] losses = BLOCK_LOSSES.get();
        if (!k.softmaxCrossEntropyBlock(f, start, end - start, p.logSumExp, losses)) {
            return Double.NaN;
        }
        double part = 0;
        for (int n = start; n < end; n++) {
            part += losses[n - start];
        }
        // A row's loss here is never negative (lse >= the target's logit), so a sum within float range
        // means every row is: with no outputs and no gradient scan, no row needs its own finish.
        if (p.losses == null && p.scanBound == 0 && Checks.isFloat32(part)) {
            return part;
        }
        for (int n = start; n < end; n++) {
            p.lseWritten = true;
            loss.finish(p, k, n, p.labels[n], losses[n - start]);
        }
        return part;
    }

    /** Row n's final logits {@code z / T}, probabilities and (unless the row wrote it) log-sum-exp. */
    static void outputs(RowPass p, KernelSupport k, int n) {
        int cols = p.cols;
        int off = n * cols;
        float invT = p.frame.invT;
        if (p.finalLogits != null) {
            k.scaleShift(p.z, off, p.finalLogits, off, cols, invT, 0f);
        }
        if (p.probabilities != null) {
            double rowLse = k.softmax(p.z, off, p.probabilities, off, cols, invT);
            if (!p.lseWritten) {
                p.logSumExp[n] = (float) rowLse;
            }
        } else if (!p.lseWritten) {
            p.logSumExp[n] = (float) k.logSumExp(p.z, off, cols, invT);
        }
    }

    /** The class weights or soft targets that multiply the loss when they, not the logits, make it overflow. */
    static String overflowCause(RowPass p, int n, double loss, float temperature) {
        float[] weights = p.weights;
        float[] targets = p.targets;
        double mass = targets == null ? 1 : LogitLossBase.sum(targets, n * p.cols, p.cols);
        double factor = Checks.maxWeight(weights) * mass;
        if (factor > 1 && Checks.isFloat32(loss / factor)) {
            return "lower " + (weights == null ? "" : "class_weights (up to " + Checks.show(Checks.maxWeight(weights)) + ")")
                    + (weights != null && targets != null ? " or " : "")
                    + (targets == null ? "" : "targets[" + n + "] (summing to " + Checks.show(mass) + ")")
                    + ", which multiply it";
        }
        if (temperature < 1 && Checks.isFloat32(loss * temperature)) {
            return "raise temperature = " + temperature + ", which divides the logits";
        }
        return "lower " + Checks.spreadOf("logits", p.z, p.cols, n);
    }

    /** {@code w_c (1 - n_c / n_valid)} over the batch's non-ignored labels. */
    static float[] balancedWeights(int[] labels, int ignoreIndex, int cols, float[] givenWeights) {
        int[] counts = new int[cols];
        int valid = 0;
        for (int y : labels) {
            if (y != ignoreIndex) {
                counts[y]++;
                valid++;
            }
        }
        float[] balanced = new float[cols];
        for (int c = 0; c < cols; c++) {
            double share = valid == 0 ? 0 : (double) counts[c] / valid;
            balanced[c] = (float) ((givenWeights == null ? 1.0 : givenWeights[c]) * (1.0 - share));
        }
        return balanced;
    }

    /** The normaliser of {@code mean}: the sum of the labels' class weights, or N with soft targets. */
    static double normaliser(RowPass p, int ignoreIndex) {
        if (p.targets != null) {
            return p.rows;
        }
        double s = 0;
        for (int y : p.labels) {
            s += y == ignoreIndex ? 0 : p.weights == null ? 1.0 : p.weights[y];
        }
        return s;
    }

    /** What makes row n's gradient overflow, for the error. */
    static String gradientCause(RowPass p, int n, float temperature, Reduction reduction) {
        return (p.targets == null ? "" : "targets[" + n + "] summing to " + Checks.show(LogitLossBase.sum(p.targets, n * p.cols, p.cols))
                + ", ") + "temperature = " + temperature + (p.weights == null ? "" : ", class weights up to "
                + Checks.show(Checks.maxWeight(p.weights))) + " and the reduction's scale " + Checks.show(p.scale)
                + (reduction != Reduction.MEAN ? "" : p.targets != null ? " (1 / N)" : p.weights == null
                ? " (1 / the count of labelled samples)" : " (1 / the sum of the labels' class weights)")
                + " make it overflow; lower them";
    }
}
