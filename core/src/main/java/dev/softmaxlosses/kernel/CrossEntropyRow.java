package dev.softmaxlosses.kernel;

/**
 * The arguments of the softmax cross-entropy's row and block kernels
 * ({@link KernelSupport#softmaxCrossEntropyRow}, {@link KernelSupport#softmaxCrossEntropyBlock}), as
 * one mutable frame rather than seventeen positional parameters. <b>Internal.</b>
 *
 * <p>A frame is confined to one thread and reused from row to row and call to call, so that the hot
 * path allocates nothing: the batch's settings are set once per call ({@link #batch}), a row's inputs
 * before each kernel call ({@link #row}), and the kernel leaves the row's log-sum-exp in
 * {@link #logSumExp}.
 */
public final class CrossEntropyRow {

    // The batch's settings.
    /** Classes per row ({@code C}). */
    public int len;
    /** {@code 1 / T}: what the logits are multiplied by before the softmax. */
    public float invT;
    /** The label smoothing {@code eps}. */
    public float eps;
    /** Per-class weights, or null for all ones. */
    public float[] classWeights;
    /** The sum of {@link #classWeights} ({@link #len} when null). */
    public double classWeightSum;
    /** The reduction's scale times {@code invT}. */
    public float gradScale;
    /** The batch's labels and ignore index, for the block kernel. */
    public int[] labels;
    public int ignoreIndex;

    // One row's inputs.
    /** The logits (or a scratch row of final logits, then {@code invT} is 1 for the call) and where the row starts. */
    public float[] z;
    public int off;
    /** The row's maximum (of {@link #z}, before {@code invT}). */
    public float rowMax;
    public int label;
    /** {@code sum_c w_c z_c}, read only when {@code eps > 0}. */
    public double weightedLogitSum;
    /** The gradient row's array and offset. */
    public float[] grad;
    public int gradOff;
    /**
     * Where the next row's maximum goes ({@link KernelSupport#expSumAndMax}; the next row starts at
     * {@code off + len}), or null when this row does not hand it on.
     */
    public float[] nextMaxOut;

    // The row's output besides its loss.
    /** The row's log-sum-exp of {@code z * invT}, written by the row kernel. */
    public double logSumExp;

    /** Sets the batch's settings. */
    public void batch(int len, float invT, float eps, float[] classWeights, double classWeightSum, float gradScale,
                      int[] labels, int ignoreIndex) {
        this.len = len;
        this.invT = invT;
        this.eps = eps;
        this.classWeights = classWeights;
        this.classWeightSum = classWeightSum;
        this.gradScale = gradScale;
        this.labels = labels;
        this.ignoreIndex = ignoreIndex;
    }

    /** Sets one row's inputs. */
    public void row(float[] z, int off, float rowMax, int label, double weightedLogitSum, float[] grad, int gradOff,
                    float[] nextMaxOut) {
        this.z = z;
        this.off = off;
        this.rowMax = rowMax;
        this.label = label;
        this.weightedLogitSum = weightedLogitSum;
        this.grad = grad;
        this.gradOff = gradOff;
        this.nextMaxOut = nextMaxOut;
    }

    /** Drops the references to the caller's arrays, so that a frame kept by a thread holds no batch alive. */
    public void clear() {
        classWeights = null;
        labels = null;
        z = null;
        grad = null;
        nextMaxOut = null;
    }
}
