package dev.softmaxlosses.kernel;

/**
 * Row kernels: the inner loops every loss is made of. <b>Internal</b>: not part of the public API,
 * public only so that the {@code simd} module can implement it.
 *
 * <p>Implementations are final and stateless: {@link ScalarKernels} in plain Java, and
 * {@code dev.softmaxlosses.simd.PanamaKernels} on the Vector API; {@link KernelProvider} picks one.
 * They check nothing: the public entry points validate before any kernel runs. Each works on
 * {@code len} values of an array from an offset; sums are accumulated in {@code double}.
 *
 * <p>The composite kernels (log-sum-exp, softmax, log-softmax and the fused softmax cross-entropy)
 * are default methods built on the primitives, so each twin gets them at its own speed.
 */
public interface KernelSupport {

    /** What this implementation is, for logs: {@code scalar} or {@code simd (512-bit)}. */
    String description();

    /**
     * The matrix products on this implementation's vectors, or null when it has none (the scalar
     * kernels: there netlib's Java kernels do them). {@code MatrixProducts.standard()} takes them when
     * no native BLAS is found.
     */
    default MatrixKernels matrixKernels() {
        return null;
    }

    /** The largest value ({@code -Infinity} for an all-masked row; NaN if one is NaN). */
    float max(float[] a, int off, int len);

    /** The offset, relative to {@code off}, of the first NaN or {@code +Infinity}, or {@code -1}. */
    int indexOfNaNOrPositiveInfinity(float[] a, int off, int len);

    /**
     * Writes {@code exp(a[i] * scale - shift)} to {@code dst} (skipped when {@code dst} is null; may
     * be {@code a} itself) and returns the sum of those values.
     */
    double expSum(float[] a, int off, int len, float scale, float shift, float[] dst, int dstOff);

    /**
     * {@link #expSum}, and in the same pass the maximum of the {@code len} values from {@code nextOff}
     * (as {@link #max} gives it) into {@code maxOut[0]}: the next row of a batch is read from memory
     * while this one's exponentials are computed, rather than in a pass of its own that waits on it.
     */
    default double expSumAndMax(float[] a, int off, int len, float scale, float shift, float[] dst, int dstOff,
                                int nextOff, float[] maxOut) {
        maxOut[0] = max(a, nextOff, len);
        return expSum(a, off, len, scale, shift, dst, dstOff);
    }

    /**
     * The Weston-Watkins hinge terms of one row: returns {@code sum_i max(0, (z[i] - pivot) + margin)}
     * and writes {@code 1} to {@code active[i]} where the term is strictly positive, {@code 0} elsewhere.
     */
    double hingeSum(float[] z, int off, int len, float pivot, float margin, float[] active, int activeOff);

    /** {@code a[i] = a[i] * alpha + beta}. */
    void scaleAddInPlace(float[] a, int off, int len, float alpha, float beta);

    /** {@code a[i] = a[i] * alpha + w[i] * beta}. */
    void scaleAddScaledInPlace(float[] a, int off, int len, float alpha, float[] w, int wOff, float beta);

    /** {@code dst[i] = src[i] * scale + shift}. */
    void scaleShift(float[] src, int srcOff, float[] dst, int dstOff, int len, float scale, float shift);

    /** The sum of the values. */
    double sum(float[] a, int off, int len);

    /** The dot product of two ranges. */
    double dot(float[] a, int aOff, float[] b, int bOff, int len);

    /**
     * Whether a row whose maximum is {@code rowMax} must be scaled into its float32 final logits
     * {@code a * scale} before the exponentials, which then take scale 1. The exponentials compute
     * {@code exp(fma(a, scale, -shift))} with {@code shift = rowMax * scale} rounded to float, so the
     * largest argument is that product's rounding error, up to half an ulp: below {@code 2^30} at most
     * 32, from there on it can pass the exponential's range (88) and the row's sum is garbage. Only a
     * scale other than 1 rounds; an O(1) test per row.
     */
    static boolean needsFinalLogits(float rowMax, float scale) {
        return scale != 1f && Math.abs(rowMax * scale) >= 0x1p30f;
    }

    /**
     * {@code log(sum(exp(a[i] * scale)))}, shifted by the row's maximum so nothing overflows. With a
     * scale other than 1, rows that {@link #needsFinalLogits need their final logits} are the caller's:
     * use {@link #softmax}, which has a row to scale them into.
     */
    default double logSumExp(float[] a, int off, int len, float scale) {
        float shift = max(a, off, len) * scale;
        return shift + Math.log(expSum(a, off, len, scale, shift, null, 0));
    }

    /** {@code dst = softmax(src * scale)}; returns the row's log-sum-exp. */
    default double softmax(float[] src, int srcOff, float[] dst, int dstOff, int len, float scale) {
        float rowMax = max(src, srcOff, len);
        if (needsFinalLogits(rowMax, scale)) {
            scaleShift(src, srcOff, dst, dstOff, len, scale, 0f);
            return softmax(dst, dstOff, dst, dstOff, len, 1f);
        }
        float shift = rowMax * scale;
        double sum = expSum(src, srcOff, len, scale, shift, dst, dstOff);
        scaleAddInPlace(dst, dstOff, len, (float) (1.0 / sum), 0f);
        return shift + Math.log(sum);
    }

    /** {@code dst = log_softmax(src * scale)}; returns the row's log-sum-exp. */
    default double logSoftmax(float[] src, int srcOff, float[] dst, int dstOff, int len, float scale) {
        // Subtract the maximum (exactly representable) first and the small log S after, rather than one
        // rounded log-sum-exp of the size of the logits.
        float rowMax = max(src, srcOff, len);
        if (needsFinalLogits(rowMax, scale)) {
            scaleShift(src, srcOff, dst, dstOff, len, scale, 0f);
            return logSoftmax(dst, dstOff, dst, dstOff, len, 1f);
        }
        float shift = rowMax * scale;
        double logSum = Math.log(expSum(src, srcOff, len, scale, shift, null, 0));
        scaleShift(src, srcOff, dst, dstOff, len, scale, -shift);
        scaleAddInPlace(dst, dstOff, len, 1f, (float) -logSum);
        return shift + logSum;
    }

    /**
     * Fused forward and backward of the softmax cross-entropy of one row with a hard label, label
     * smoothing and optional class weights ({@link CrossEntropyTerms}): the caller's pass for the
     * maximum (which also validated the row), one pass that writes the exponentials into the gradient
     * row and sums them, one that turns them into the gradient.
     *
     * <p>With {@code z' = z * invT}, {@code p = softmax(z')}, {@code q = (1 - eps) onehot(y) + eps / C}
     * and weights {@code w}: the loss is {@code -sum_c w_c q_c log p_c} and the gradient
     * {@code gradScale * (p_c * sum_k w_k q_k - w_c q_c)}. The target's entry is computed from
     * {@code 1 - p_y = (S - e_y) / S} so that it does not round to zero when {@code p_y} rounds to 1.
     *
     * @return the row's loss; {@link CrossEntropyRow#logSumExp} receives its log-sum-exp
     */
    default double softmaxCrossEntropyRow(CrossEntropyRow r) {
        float[] z = r.z;
        float[] grad = r.grad;
        int off = r.off;
        int gradOff = r.gradOff;
        int len = r.len;
        float invT = r.invT;
        float shift = r.rowMax * invT;
        double sum = r.nextMaxOut == null ? expSum(z, off, len, invT, shift, grad, gradOff)
                : expSumAndMax(z, off, len, invT, shift, grad, gradOff, off + len, r.nextMaxOut);
        return CrossEntropyTerms.finishRow(this, r, shift, sum);
    }

    /**
     * The longest rows {@link #softmaxCrossEntropyBlock} takes; 0 when this implementation has no
     * block kernel.
     */
    default int crossEntropyBlockMaxClasses() {
        return 0;
    }

    /**
     * {@link #softmaxCrossEntropyRow} for the short rows {@code firstRow .. firstRow + rows - 1} of
     * {@code r.z} at once (hard labels {@code r.labels}, no label smoothing, no class weights,
     * {@code r.len <= }{@link #crossEntropyBlockMaxClasses()}, {@code rows <= RowParallel.CHUNK_ROWS}):
     * each row's gradient into {@code r.grad}, log-sum-exp ({@code lseOut[n]}, when lseOut is not null)
     * and loss ({@code lossesOut[i]} for row {@code firstRow + i}), where a row labelled
     * {@code r.ignoreIndex} gets a zero gradient and a loss of 0. A row of ten classes is too short for
     * its own loops to pay; a block of them shares the per-row scalar work (division, logarithm)
     * across vector lanes.
     *
     * @return false, with nothing written, when a row has a maximum that is not finite (NaN,
     *         {@code +Infinity}, or every class masked) or a masked target: the caller then goes row by row
     *         and reports the first such row
     */
    default boolean softmaxCrossEntropyBlock(CrossEntropyRow r, int firstRow, int rows, float[] lseOut,
                                             double[] lossesOut) {
        return false;
    }
}
