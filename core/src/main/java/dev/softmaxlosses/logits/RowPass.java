package dev.softmaxlosses.logits;

import dev.softmaxlosses.kernel.CrossEntropyRow;

/**
 * One call's arrays and scales, as the row driver ({@link LogitLossBase}) hands them to a loss's row:
 * a per-call value instead of a dozen positional parameters. A pass is confined to one thread: the
 * calling thread's own is reused from call to call (the hot path allocates nothing), and a parallel
 * run copies it for each chunk.
 */
final class RowPass {
    float[] z;
    /** The teacher's logits (distillation), else null. */
    float[] teacher;
    /** The soft targets, else null. */
    float[] targets;
    /** The labels, or null. */
    int[] labels;
    /** The class weights in effect, or null. */
    float[] weights;
    /** Their sum ({@code cols} when null). */
    double weightSum;
    int rows;
    int cols;
    /** The reduction's scale (1, or 1 / the normaliser of mean). */
    double scale;
    /** What a loss's row multiplies its gradient by. */
    float gradScale;
    /** The bound on the gradient entries when they are to be scanned for overflow, else 0. */
    double scanBound;
    float[] grad;
    /** The optional outputs; null when not asked for. */
    float[] losses;
    float[] logSumExp;
    float[] finalLogits;
    float[] probabilities;
    /** Whether the current row's loss wrote its log-sum-exp already (the cross-entropy's kernels do). */
    boolean lseWritten;
    /** The frame of the cross-entropy's kernels, for the losses that call them. */
    final CrossEntropyRow frame = new CrossEntropyRow();

    private static final ThreadLocal<RowPass> OWN = ThreadLocal.withInitial(RowPass::new);

    /** This thread's pass, to be {@link #clear cleared} after the call. */
    static RowPass own() {
        return OWN.get();
    }

    /** A copy for a chunk run on another thread (its own kernel frame, the same settings). */
    RowPass copy() {
        RowPass p = new RowPass();
        p.z = z;
        p.teacher = teacher;
        p.targets = targets;
        p.labels = labels;
        p.weights = weights;
        p.weightSum = weightSum;
        p.rows = rows;
        p.cols = cols;
        p.scale = scale;
        p.gradScale = gradScale;
        p.scanBound = scanBound;
        p.grad = grad;
        p.losses = losses;
        p.logSumExp = logSumExp;
        p.finalLogits = finalLogits;
        p.probabilities = probabilities;
        CrossEntropyRow f = frame;
        p.frame.batch(f.len, f.invT, f.eps, f.classWeights, f.classWeightSum, f.gradScale, f.labels, f.ignoreIndex);
        return p;
    }

    /** Drops every reference to the caller's arrays. */
    void clear() {
        z = teacher = targets = weights = grad = losses = logSumExp = finalLogits = probabilities = null;
        labels = null;
        frame.clear();
    }
}
