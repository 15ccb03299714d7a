package dev.softmaxlosses.simd;

import dev.softmaxlosses.kernel.KernelSupport;
import dev.softmaxlosses.kernel.RowParallel;
import dev.softmaxlosses.kernel.ScalarKernels;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API twin of {@link dev.softmaxlosses.kernel.ScalarKernels}: the same kernels on the
 * platform's preferred vector width, each a main loop over whole vectors and one step for the tail.
 * A tail is loaded as a whole vector when the array goes on past it (as it does for every row of a
 * batch but the last) and the lanes past the row are replaced in registers by the operation's
 * identity: a masked load costs several nanoseconds, which short rows (C = 10) cannot afford. Only
 * at the very end of an array is the load masked; stores of a tail are masked. Sums are accumulated
 * in {@code double} lanes and folded in lane order, and the exponential is computed from plain IEEE
 * operations, so that a result has the same bits on every thread and whether or not the JIT has
 * compiled the loop.
 *
 * <p>Loaded by name by {@link dev.softmaxlosses.kernel.KernelProvider}; needs
 * {@code --add-modules jdk.incubator.vector}.
 */
public final class PanamaKernels implements KernelSupport {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Doubles in a vector of the same size: a float vector widens into two of them. */
    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());
    private static final FloatVector ZERO = FloatVector.zero(F);
    private static final FloatVector NEG_INF = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
    /** Lane i holds i: compared with a label it marks the target's lane. */
    private static final FloatVector IOTA = FloatVector.fromArray(F, iota(), 0);
    /** {@code TAIL[r]}: the first r lanes, made once rather than on every tail. */
    private static final VectorMask<Float>[] TAIL = tailMasks();
    private static final VectorShuffle<Double>[] FOLD = foldShuffles();
    private static final VectorShuffle<Float>[] FOLD_FLOAT = floatFoldShuffles();

    private static float[] iota() {
        float[] lanes = new float[F.length()];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = i;
        }
        return lanes;
    }

    @SuppressWarnings("unchecked")
    private static VectorMask<Float>[] tailMasks() {
        VectorMask<Float>[] masks = new VectorMask[F.length() + 1];
        for (int r = 0; r <= F.length(); r++) {
            masks[r] = F.indexInRange(0, r);
        }
        return masks;
    }

    // The exponential's constants, as vectors: a scalar operand is broadcast inside each operation,
    // which makes the call chains deeper than the JIT inlines in some contexts.
    private static final FloatVector LOG2E = FloatVector.broadcast(F, 1.44269504088896341f);
    private static final FloatVector NEG_LN2_HIGH = FloatVector.broadcast(F, -0.693359375f);
    private static final FloatVector NEG_LN2_LOW = FloatVector.broadcast(F, 2.12194440e-4f);
    /**
     * 1.5 * 2^23 + 127: adding it rounds {@code x log2(e)} to an integer n and leaves {@code n + 127}
     * in the low mantissa bits, which a shift by 23 moves into a float's exponent field.
     */
    private static final FloatVector ROUNDING = FloatVector.broadcast(F, 12582912f + 127f);
    /** Below this, n would reach -127: the exponent field is 0 and the result flushes to exactly 0. */
    private static final FloatVector EXP_LOW = FloatVector.broadcast(F, -88f);
    private static final FloatVector C2 = FloatVector.broadcast(F, ScalarKernels.EXP_C2);
    private static final FloatVector C3 = FloatVector.broadcast(F, ScalarKernels.EXP_C3);
    private static final FloatVector C4 = FloatVector.broadcast(F, ScalarKernels.EXP_C4);
    private static final FloatVector C5 = FloatVector.broadcast(F, ScalarKernels.EXP_C5);
    private static final FloatVector C6 = FloatVector.broadcast(F, ScalarKernels.EXP_C6);
    private static final FloatVector ONE = FloatVector.broadcast(F, 1f);

    private PanamaKernels() {}

    /** The kernels, or an {@link UnsupportedOperationException} saying why SIMD does not pay here. */
    public static PanamaKernels create() {
        if (F.vectorBitSize() < 128) {
            throw new UnsupportedOperationException("the preferred vector is only " + F.vectorBitSize() + " bits");
        }
        return new PanamaKernels();
    }

    /** The service provider's entry on the module path ({@code provides KernelSupport}): {@link #create()}. */
    public static PanamaKernels provider() {
        return create();
    }

    @Override
    public String description() {
        return "simd (" + F.vectorBitSize() + "-bit)";
    }

    /** Vectors per block of {@link #max}: the block is reduced to one scalar, so its cost is shared. */
    private static final int MAX_BLOCK = 8;

    /**
     * The maximum, block by block: eight vectors are reduced by compare-and-blend to one, and that one
     * to a scalar. No vector is carried from one iteration to the next: the JIT boxes such vectors in
     * some inlining contexts, which costs more than the whole pass. Compare-and-blend ignores NaN, so
     * each block's sum times 0 is added in: it is NaN exactly when a NaN or an infinity is in the block,
     * and then the row is done again by {@link #exactMax}, which has {@code Math.max}'s semantics
     * (NaN wins; the callers' validation relies on it) and keeps masked rows (-Infinity) correct.
     */
    @Override
    public float max(float[] a, int off, int len) {
        float m = Float.NEGATIVE_INFINITY;
        int step = F.length();
        int block = MAX_BLOCK * step;
        int i = 0;
        for (; i + block <= len; i += block) {
            m = Math.max(m, blockMax(a, off + i, step));
        }
        if (Float.isNaN(m)) {
            return exactMax(a, off, len);
        }
        return Math.max(m, exactMax(a, off + i, len - i));
    }

    private static float blockMax(float[] a, int o, int s) {
        FloatVector v0 = FloatVector.fromArray(F, a, o);
        FloatVector v1 = FloatVector.fromArray(F, a, o + s);
        FloatVector v2 = FloatVector.fromArray(F, a, o + 2 * s);
        FloatVector v3 = FloatVector.fromArray(F, a, o + 3 * s);
        FloatVector v4 = FloatVector.fromArray(F, a, o + 4 * s);
        FloatVector v5 = FloatVector.fromArray(F, a, o + 5 * s);
        FloatVector v6 = FloatVector.fromArray(F, a, o + 6 * s);
        FloatVector v7 = FloatVector.fromArray(F, a, o + 7 * s);
        FloatVector larger = larger(larger(larger(v0, v1), larger(v2, v3)), larger(larger(v4, v5), larger(v6, v7)));
        FloatVector nonFinite = v0.add(v1).add(v2.add(v3)).add(v4.add(v5).add(v6.add(v7))).mul(0f);
        return larger.add(nonFinite).reduceLanes(VectorOperators.MAX);
    }

    /** The lane-wise larger of two vectors by one compare and one blend (NaN in {@code y} is not taken). */
    private static FloatVector larger(FloatVector x, FloatVector y) {
        return x.blend(y, y.compare(VectorOperators.GT, x));
    }

    /** The maximum with {@code Math.max}'s semantics, one vector at a time. */
    private static float exactMax(float[] a, int off, int len) {
        float m = Float.NEGATIVE_INFINITY;
        int step = F.length();
        int i = 0;
        for (; i + step <= len; i += step) {
            m = Math.max(m, FloatVector.fromArray(F, a, off + i).reduceLanes(VectorOperators.MAX));
        }
        if (i < len) {
            m = Math.max(m, tail(a, off + i, len - i, NEG_INF).reduceLanes(VectorOperators.MAX));
        }
        return m;
    }

    /** The {@code r < F.length()} values at {@code a[idx..]}, the other lanes set to {@code identity}. */
    private static FloatVector tail(float[] a, int idx, int r, FloatVector identity) {
        VectorMask<Float> m = TAIL[r];
        if (idx + F.length() <= a.length) {
            return identity.blend(FloatVector.fromArray(F, a, idx), m);
        }
        return FloatVector.fromArray(F, a, idx, m).blend(identity, m.not());
    }

    @Override
    public int indexOfNaNOrPositiveInfinity(float[] a, int off, int len) {
        int step = F.length();
        int i = 0;
        for (; i + step <= len; i += step) {
            int found = firstBad(FloatVector.fromArray(F, a, off + i));
            if (found >= 0) {
                return i + found;
            }
        }
        if (i < len) {
            int found = firstBad(tail(a, off + i, len - i, ZERO));
            if (found >= 0) {
                return i + found;
            }
        }
        return -1;
    }

    private static int firstBad(FloatVector v) {
        VectorMask<Float> bad = v.test(VectorOperators.IS_NAN).or(v.eq(Float.POSITIVE_INFINITY));
        return bad.anyTrue() ? bad.firstTrue() : -1;
    }

    @Override
    public double expSum(float[] a, int off, int len, float scale, float shift, float[] dst, int dstOff) {
        FloatVector scales = FloatVector.broadcast(F, scale);
        FloatVector shifts = FloatVector.broadcast(F, -shift);
        DoubleVector low = DoubleVector.zero(D);
        DoubleVector high = DoubleVector.zero(D);
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector e = exp(FloatVector.fromArray(F, a, off + i).fma(scales, shifts));
            if (dst != null) {
                e.intoArray(dst, dstOff + i);
            }
            low = low.add(e.convertShape(VectorOperators.F2D, D, 0));
            high = high.add(e.convertShape(VectorOperators.F2D, D, 1));
        }
        double total = foldLanes(low.add(high));
        return i < len ? total + expSumTail(a, off + i, len - i, scale, shift, dst, dstOff + i) : total;
    }

    /**
     * {@link #expSum} with the next row's maximum in the same loop, reduced step by step into a scalar
     * ({@code Math.max}: NaN wins), which costs little beside the exponentials. A third vector carried
     * through the loop makes this JIT box all three.
     */
    @Override
    public double expSumAndMax(float[] a, int off, int len, float scale, float shift, float[] dst, int dstOff,
                               int nextOff, float[] maxOut) {
        FloatVector scales = FloatVector.broadcast(F, scale);
        FloatVector shifts = FloatVector.broadcast(F, -shift);
        DoubleVector low = DoubleVector.zero(D);
        DoubleVector high = DoubleVector.zero(D);
        float m = Float.NEGATIVE_INFINITY;
        int step = F.length();
        int i = 0;
        // Two vectors a step share one reduction of the next row's maximum; the sums are added in the
        // order expSum adds them, so both kernels give a row the same bits.
        for (int bound = len - 2 * step; i <= bound; i += 2 * step) {
            FloatVector e0 = exp(FloatVector.fromArray(F, a, off + i).fma(scales, shifts));
            FloatVector e1 = exp(FloatVector.fromArray(F, a, off + i + step).fma(scales, shifts));
            e0.intoArray(dst, dstOff + i);
            e1.intoArray(dst, dstOff + i + step);
            low = low.add(e0.convertShape(VectorOperators.F2D, D, 0));
            high = high.add(e0.convertShape(VectorOperators.F2D, D, 1));
            low = low.add(e1.convertShape(VectorOperators.F2D, D, 0));
            high = high.add(e1.convertShape(VectorOperators.F2D, D, 1));
            FloatVector next = FloatVector.fromArray(F, a, nextOff + i).max(FloatVector.fromArray(F, a, nextOff + i + step));
            m = Math.max(m, next.reduceLanes(VectorOperators.MAX));
        }
        if (i + step <= len) {
            FloatVector e = exp(FloatVector.fromArray(F, a, off + i).fma(scales, shifts));
            e.intoArray(dst, dstOff + i);
            low = low.add(e.convertShape(VectorOperators.F2D, D, 0));
            high = high.add(e.convertShape(VectorOperators.F2D, D, 1));
            m = Math.max(m, FloatVector.fromArray(F, a, nextOff + i).reduceLanes(VectorOperators.MAX));
            i += step;
        }
        maxOut[0] = i < len ? Math.max(m, exactMax(a, nextOff + i, len - i)) : m;
        double total = foldLanes(low.add(high));
        return i < len ? total + expSumTail(a, off + i, len - i, scale, shift, dst, dstOff + i) : total;
    }

    /**
     * The last step of {@link #expSum}, kept apart so that the JIT inlines each whole: one method
     * holding both would pass its vectors boxed (an allocation per call). Lanes past the row are
     * {@code -Infinity}, whose exponential is exactly 0.
     */
    private static double expSumTail(float[] a, int off, int len, float scale, float shift, float[] dst, int dstOff) {
        FloatVector e = exp(tail(a, off, len, NEG_INF).mul(scale).sub(shift));
        if (dst != null) {
            e.intoArray(dst, dstOff, TAIL[len]);
        }
        return foldLanes(((DoubleVector) e.convertShape(VectorOperators.F2D, D, 0))
                .add(e.convertShape(VectorOperators.F2D, D, 1)));
    }

    /**
     * {@code exp(x)} from plain IEEE operations ({@code x = n ln 2 + r}, the degree-6 polynomial of
     * {@link ScalarKernels#EXP_C2} in {@code r}, then {@code 2^n} through the exponent bits), within
     * 0.9 ulp, the same bits as the scalar twin. Unlike {@code VectorOperators.EXP}, whose JIT-compiled
     * and interpreted forms differ in the last bit, it gives the same bits however the code runs, which
     * keeps results independent of the thread count. Inputs at or below -88 ({@code -Infinity}
     * included) give exactly 0 (the true values there are below {@code Float.MIN_NORMAL}); inputs must
     * be {@code <= 88} (the kernels only take exponentials of {@code x - max <= 0}).
     */
    static FloatVector exp(FloatVector x) {
        // A compare and blend: the lane-wise max with Java's semantics compiles to a much longer sequence.
        x = x.blend(EXP_LOW, x.lt(EXP_LOW));
        FloatVector t = x.fma(LOG2E, ROUNDING);
        FloatVector n = t.sub(ROUNDING);
        // r = x - n ln 2 in two steps: LN2_HIGH has 9 significant bits, so n * LN2_HIGH is exact.
        FloatVector r = n.fma(NEG_LN2_HIGH, x);
        r = n.fma(NEG_LN2_LOW, r);
        // Horner: 1 + r (1 + r (c2 + r (c3 + r (c4 + r (c5 + r c6)))))
        FloatVector p = r.fma(C6, C5);
        p = p.fma(r, C4);
        p = p.fma(r, C3);
        p = p.fma(r, C2);
        p = p.fma(r, ONE);
        FloatVector y = p.fma(r, ONE);
        FloatVector scale = t.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(scale);
    }

    /**
     * Rows that fit one vector (C = 10, say) are the whole computation in registers: one load, the
     * exponentials, their sum, the gradient, one store. The generic path would spend most of such a
     * row on its three passes' loop and call overheads. Class weights take the generic path.
     */
    @Override
    public double softmaxCrossEntropyRow(float[] z, int off, int len, float rowMax, float invT, int label,
                                         float[] classWeights, double classWeightSum, float eps,
                                         double weightedLogitSum, float gradScale, float[] grad, int gradOff,
                                         float[] lseOut, int lseOff, int nextOff, float[] nextMaxOut) {
        if (len > F.length() || classWeights != null) {
            return KernelSupport.super.softmaxCrossEntropyRow(z, off, len, rowMax, invT, label, classWeights,
                    classWeightSum, eps, weightedLogitSum, gradScale, grad, gradOff, lseOut, lseOff, nextOff, nextMaxOut);
        }
        if (nextMaxOut != null) {
            nextMaxOut[0] = max(z, nextOff, len);
        }
        float shift = rowMax * invT;
        FloatVector e = exp(shortRow(z, off, len, NEG_INF).mul(invT).sub(shift));
        VectorMask<Float> isTarget = IOTA.eq((float) label);
        // The other classes' sum by a fixed tree (1 - p_y without cancellation); the target's own
        // exponential by the scalar twin, which gives its lane's bits without a second fold.
        double others = foldFloatLanes(e.blend(0f, isTarget));
        double expTarget = ScalarKernels.exp(z[off + label] * invT - shift);
        double sum = expTarget + others;
        double inverseSum = 1.0 / sum;
        double logSum = Math.log(sum);
        double uniform = eps == 0f ? 0.0 : (double) eps / len;
        double weightedMass = (1.0 - eps) + uniform * classWeightSum;
        float alpha = (float) (weightedMass * inverseSum * gradScale);
        float beta = (float) (-uniform * gradScale);
        float targetGrad = (float) (gradScale * (-weightedMass * others * inverseSum + uniform * (classWeightSum - 1.0)));
        FloatVector g = e.mul(alpha).add(beta).blend(targetGrad, isTarget);
        storeShortRow(g, grad, gradOff, len);
        double loss = weightedMass * logSum + (1.0 - eps) * (shift - (double) (z[off + label] * invT));
        if (eps > 0f) {
            loss += uniform * (shift * classWeightSum - invT * weightedLogitSum);
        }
        if (lseOut != null) {
            lseOut[lseOff] = (float) (shift + logSum);
        }
        return loss;
    }

    @Override
    public int crossEntropyBlockMaxClasses() {
        return F.length();
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
     * {@link #softmaxCrossEntropyRow} gives; the loss is within an ulp of it ({@link #logInPlace} in
     * place of {@code Math.log}).
     *
     * <p>No method here takes a vector but the few-line helpers: in a method this large the JIT runs
     * out of its inlining budget at some call or other, from one run to the next, and a vector passed
     * to a method that is not inlined is boxed (an allocation per row, twice as slow).
     */
    @Override
    public boolean softmaxCrossEntropyBlock(float[] z, int firstRow, int rows, int cols, float invT, int[] labels,
                                            int ignoreIndex, float gradScale, float[] grad, float[] lseOut,
                                            double[] lossesOut) {
        if (cols > F.length() || rows > BLOCK_ROWS) {
            return false;
        }
        BlockScratch s = BLOCK_SCRATCH.get();
        if (!blockShifts(z, firstRow, rows, cols, labels, ignoreIndex, invT, s)) {
            return false;
        }
        blockArguments(z, firstRow, rows, cols, invT, grad, s);
        expInPlace(grad, firstRow * cols, rows * cols);
        blockSums(firstRow, rows, cols, labels, ignoreIndex, grad, s);
        logInPlace(s.logSum, rows);
        blockGradients(firstRow, rows, cols, invT, labels, ignoreIndex, gradScale, z, grad, lseOut, lossesOut, s);
        return true;
    }

    /** Each row's shift (its maximum times invT); false, with nothing written, at a row the block cannot take. */
    private static boolean blockShifts(float[] z, int firstRow, int rows, int cols, int[] labels, int ignoreIndex,
                                       float invT, BlockScratch s) {
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
    private static void blockArguments(float[] z, int firstRow, int rows, int cols, float invT, float[] grad,
                                       BlockScratch s) {
        for (int r = 0; r < rows; r++) {
            int off = (firstRow + r) * cols;
            storeShortRow(shortRow(z, off, cols, ZERO).mul(invT).sub(s.shift[r]), grad, off, cols);
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
    private static void blockSums(int firstRow, int rows, int cols, int[] labels, int ignoreIndex, float[] grad,
                                  BlockScratch s) {
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
    private static void blockGradients(int firstRow, int rows, int cols, float invT, int[] labels, int ignoreIndex,
                                       float gradScale, float[] z, float[] grad, float[] lseOut, double[] lossesOut,
                                       BlockScratch s) {
        for (int r = 0; r < rows; r++) {
            int n = firstRow + r;
            int off = n * cols;
            int label = labels[n];
            double logSum = s.logSum[r];
            if (lseOut != null) {
                lseOut[n] = (float) (s.shift[r] + logSum);
            }
            if (label == ignoreIndex) {
                storeShortRow(ZERO, grad, off, cols);
                lossesOut[r] = 0;
                continue;
            }
            // The formulas of softmaxCrossEntropyRow with eps = 0 and no weights, to the bit; 0 - x
            // rather than -x gives +0 where the others' sum is 0, as the row kernel's uniform term does.
            double inverseSum = s.inverseSum[r];
            float alpha = (float) (inverseSum * gradScale);
            float targetGrad = (float) (gradScale * (0.0 - s.others[r] * inverseSum));
            storeShortRow(shortRow(grad, off, cols, ZERO).mul(alpha).blend(targetGrad, IOTA.eq((float) label)),
                    grad, off, cols);
            lossesOut[r] = logSum + (s.shift[r] - (double) (z[off + label] * invT));
        }
    }

    /** A row of {@code len <= F.length()} values, the lanes past it set to {@code identity}. */
    private static FloatVector shortRow(float[] a, int off, int len, FloatVector identity) {
        return len == F.length() ? FloatVector.fromArray(F, a, off) : tail(a, off, len, identity);
    }

    private static void storeShortRow(FloatVector v, float[] a, int off, int len) {
        if (len == F.length()) {
            v.intoArray(a, off);
        } else {
            v.intoArray(a, off, TAIL[len]);
        }
    }

    private static final DoubleVector LN2_HIGH = DoubleVector.broadcast(D, 6.93147180369123816490e-01);
    private static final DoubleVector LN2_LOW = DoubleVector.broadcast(D, 1.90821492927058770002e-10);
    private static final long MANTISSA = 0x000f_ffff_ffff_ffffL;
    /** Added to the mantissa bits, it carries into the exponent exactly when the mantissa is >= sqrt(2). */
    private static final long SQRT2_CARRY = 0x0009_5f64_0000_0000L;
    private static final long EXPONENT_ONE = 0x3ff0_0000_0000_0000L;

    /**
     * {@code a[i] = log(a[i])} for the first {@code len} values (rounded up to whole vectors; the array
     * must hold them), positive normal doubles, within 1 ulp of {@code Math.log}: fdlibm's
     * {@code __ieee754_log} (x = 2^k m with m in [sqrt(2)/2, sqrt(2)), f = m - 1, s = f / (2 + f),
     * log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)) with fdlibm's Lg1..Lg7) without its special cases,
     * which positive normal inputs never reach. (A {@code Math.log} per row took about 10 of the
     * 36 ns a row of ten classes cost in the row kernel.) It works on an array, not on a vector
     * argument, so that whether the JIT inlines it or not, no vector is boxed.
     */
    static void logInPlace(double[] a, int len) {
        for (int i = 0; i < len; i += D.length()) {
            LongVector bits = DoubleVector.fromArray(D, a, i).reinterpretAsLongs();
            LongVector mantissa = bits.and(MANTISSA);
            LongVector carry = mantissa.add(SQRT2_CARRY).and(1L << 52);
            LongVector exponent = bits.lanewise(VectorOperators.LSHR, 52).sub(1023)
                    .add(carry.lanewise(VectorOperators.LSHR, 52));
            // m = 1.mantissa, halved when it is >= sqrt(2) (the carry bit flips the exponent field).
            DoubleVector m = mantissa.or(carry.lanewise(VectorOperators.XOR, EXPONENT_ONE)).reinterpretAsDoubles();
            DoubleVector f = m.sub(1.0);
            DoubleVector s = f.div(f.add(2.0));
            DoubleVector z = s.mul(s);
            DoubleVector w = z.mul(z);
            DoubleVector evenTerms = w.mul(w.mul(w.mul(LG6).add(LG4)).add(LG2));
            DoubleVector oddTerms = z.mul(w.mul(w.mul(w.mul(LG7).add(LG5)).add(LG3)).add(LG1));
            DoubleVector remainder = oddTerms.add(evenTerms);
            DoubleVector halfSquare = f.mul(f).mul(0.5);
            DoubleVector k = (DoubleVector) exponent.convert(VectorOperators.L2D, 0);
            k.mul(LN2_HIGH).sub(halfSquare.sub(s.mul(halfSquare.add(remainder)).add(k.mul(LN2_LOW))).sub(f))
                    .intoArray(a, i);
        }
    }

    private static final double LG1 = 6.666666666666735130e-01;
    private static final double LG2 = 3.999999999940941908e-01;
    private static final double LG3 = 2.857142874366239149e-01;
    private static final double LG4 = 2.222219843214978396e-01;
    private static final double LG5 = 1.818357216161805012e-01;
    private static final double LG6 = 1.531383769920937332e-01;
    private static final double LG7 = 1.479819860511658591e-01;

    @Override
    public void addScaledExp(float[] a, int off, int len, float scale, float shift, float coef, float[] dst, int dstOff) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector e = exp(FloatVector.fromArray(F, a, off + i).mul(scale).sub(shift));
            e.mul(coef).add(FloatVector.fromArray(F, dst, dstOff + i)).intoArray(dst, dstOff + i);
        }
        if (i < len) {
            addScaledExpTail(a, off + i, len - i, scale, shift, coef, dst, dstOff + i);
        }
    }

    /** The last step of {@link #addScaledExp}, apart for the reason {@link #expSumTail} is. */
    private static void addScaledExpTail(float[] a, int off, int len, float scale, float shift, float coef,
                                         float[] dst, int dstOff) {
        FloatVector e = exp(tail(a, off, len, NEG_INF).mul(scale).sub(shift));
        e.mul(coef).add(tail(dst, dstOff, len, ZERO)).intoArray(dst, dstOff, TAIL[len]);
    }

    @Override
    public double hingeSum(float[] z, int off, int len, float pivot, float margin, float[] active, int activeOff) {
        DoubleVector low = DoubleVector.zero(D);
        DoubleVector high = DoubleVector.zero(D);
        int step = F.length();
        for (int i = 0; i < len; i += step) {
            int r = Math.min(step, len - i);
            // Lanes past the row hold -Infinity: their term is never positive.
            FloatVector term = (r == step ? FloatVector.fromArray(F, z, off + i) : tail(z, off + i, r, NEG_INF))
                    .sub(pivot).add(margin);
            VectorMask<Float> on = term.compare(VectorOperators.GT, 0f);
            FloatVector flags = ZERO.blend(1f, on);
            if (r == step) {
                flags.intoArray(active, activeOff + i);
            } else {
                flags.intoArray(active, activeOff + i, TAIL[r]);
            }
            FloatVector kept = ZERO.blend(term, on);
            low = low.add(kept.convertShape(VectorOperators.F2D, D, 0));
            high = high.add(kept.convertShape(VectorOperators.F2D, D, 1));
        }
        return foldLanes(low.add(high));
    }

    @Override
    public void scaleAddInPlace(float[] a, int off, int len, float alpha, float beta) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector.fromArray(F, a, off + i).mul(alpha).add(beta).intoArray(a, off + i);
        }
        if (i < len) {
            tail(a, off + i, len - i, ZERO).mul(alpha).add(beta).intoArray(a, off + i, TAIL[len - i]);
        }
    }

    @Override
    public void scaleAddScaledInPlace(float[] a, int off, int len, float alpha, float[] w, int wOff, float beta) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector wv = FloatVector.fromArray(F, w, wOff + i).mul(beta);
            FloatVector.fromArray(F, a, off + i).mul(alpha).add(wv).intoArray(a, off + i);
        }
        if (i < len) {
            FloatVector wv = tail(w, wOff + i, len - i, ZERO).mul(beta);
            tail(a, off + i, len - i, ZERO).mul(alpha).add(wv).intoArray(a, off + i, TAIL[len - i]);
        }
    }

    @Override
    public void scaleShift(float[] src, int srcOff, float[] dst, int dstOff, int len, float scale, float shift) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector.fromArray(F, src, srcOff + i).mul(scale).add(shift).intoArray(dst, dstOff + i);
        }
        if (i < len) {
            tail(src, srcOff + i, len - i, ZERO).mul(scale).add(shift).intoArray(dst, dstOff + i, TAIL[len - i]);
        }
    }

    @Override
    public double sum(float[] a, int off, int len) {
        DoubleVector low = DoubleVector.zero(D);
        DoubleVector high = DoubleVector.zero(D);
        int step = F.length();
        int i = 0;
        for (; i + step <= len; i += step) {
            FloatVector v = FloatVector.fromArray(F, a, off + i);
            low = low.add(v.convertShape(VectorOperators.F2D, D, 0));
            high = high.add(v.convertShape(VectorOperators.F2D, D, 1));
        }
        if (i < len) {
            FloatVector v = tail(a, off + i, len - i, ZERO);
            low = low.add(v.convertShape(VectorOperators.F2D, D, 0));
            high = high.add(v.convertShape(VectorOperators.F2D, D, 1));
        }
        return foldLanes(low.add(high));
    }

    @Override
    public double dot(float[] a, int aOff, float[] b, int bOff, int len) {
        DoubleVector low = DoubleVector.zero(D);
        DoubleVector high = DoubleVector.zero(D);
        int step = F.length();
        for (int i = 0; i < len; i += step) {
            int r = Math.min(step, len - i);
            FloatVector va = r == step ? FloatVector.fromArray(F, a, aOff + i) : tail(a, aOff + i, r, ZERO);
            FloatVector vb = r == step ? FloatVector.fromArray(F, b, bOff + i) : tail(b, bOff + i, r, ZERO);
            DoubleVector da = (DoubleVector) va.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector db = (DoubleVector) vb.convertShape(VectorOperators.F2D, D, 0);
            low = da.fma(db, low);
            da = (DoubleVector) va.convertShape(VectorOperators.F2D, D, 1);
            db = (DoubleVector) vb.convertShape(VectorOperators.F2D, D, 1);
            high = da.fma(db, high);
        }
        return foldLanes(low.add(high));
    }

    /**
     * Adds the lanes by a fixed tree (each step adds the lanes {@code i} and {@code i ^ step}), so that
     * the result does not depend on how a reduction is compiled, and without extracting lanes by a
     * variable index, which is slow. Small enough to be inlined wherever it is called (a vector
     * passed to a method that is not inlined is boxed).
     */
    private static double foldLanes(DoubleVector lanes) {
        for (VectorShuffle<Double> swap : FOLD) {
            lanes = lanes.add(lanes.rearrange(swap));
        }
        return lanes.lane(0);
    }

    /** The float lanes added by a fixed tree, as {@link #foldLanes} does for doubles. */
    private static float foldFloatLanes(FloatVector lanes) {
        for (VectorShuffle<Float> swap : FOLD_FLOAT) {
            lanes = lanes.add(lanes.rearrange(swap));
        }
        return lanes.lane(0);
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] floatFoldShuffles() {
        int steps = Integer.numberOfTrailingZeros(F.length());
        VectorShuffle<Float>[] shuffles = new VectorShuffle[steps];
        for (int k = 0, step = F.length() / 2; step >= 1; k++, step /= 2) {
            int distance = step;
            shuffles[k] = VectorShuffle.fromOp(F, i -> i ^ distance);
        }
        return shuffles;
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Double>[] foldShuffles() {
        int steps = Integer.numberOfTrailingZeros(D.length());
        VectorShuffle<Double>[] shuffles = new VectorShuffle[steps];
        for (int k = 0, step = D.length() / 2; step >= 1; k++, step /= 2) {
            int distance = step;
            shuffles[k] = VectorShuffle.fromOp(D, i -> i ^ distance);
        }
        return shuffles;
    }
}
