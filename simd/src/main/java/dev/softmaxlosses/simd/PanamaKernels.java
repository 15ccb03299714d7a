package dev.softmaxlosses.simd;

import static dev.softmaxlosses.simd.Lanes.D;
import static dev.softmaxlosses.simd.Lanes.F;
import static dev.softmaxlosses.simd.Lanes.FOLD;

import dev.softmaxlosses.kernel.CrossEntropyRow;
import dev.softmaxlosses.kernel.KernelSupport;
import dev.softmaxlosses.kernel.ScalarKernels;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * The Vector API twin of {@link dev.softmaxlosses.kernel.ScalarKernels}: the same primitives on the
 * platform's preferred vector width. Sums are accumulated in {@code double} lanes and folded by a
 * fixed tree, and the exponential is computed from plain IEEE operations, so that a result has the
 * same bits on every thread and whether or not the JIT has compiled the loop.
 *
 * <p><b>How the kernels are written, and why.</b> The JIT turns Vector API calls into instructions
 * only when it inlines every call between the loop and the intrinsic; a vector that crosses a call it
 * did not inline is boxed (an allocation per call, and the Java fallback of every operation on it:
 * ten times slower). Whether a call of ours is inlined depends on the run: its depth below the
 * compilation root ({@code -XX:MaxInlineLevel}), the call site's profile, and whether the callee was
 * compiled on its own first. The Vector API's own methods are always inlined. So each kernel here is
 * one method whose body holds all its vector code, the last partial vector included (loaded under a
 * mask, inside the same loop), and no method of this package takes or returns a vector: however a
 * kernel is reached, and whatever was compiled first, it compiles to the same code. The exponential
 * is written once, in {@link #expSumAndMax}, which every other user of exponentials calls on arrays.
 *
 * <p>Loaded by name by {@link dev.softmaxlosses.kernel.KernelProvider}; needs
 * {@code --add-modules jdk.incubator.vector}.
 */
public final class PanamaKernels implements KernelSupport {

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

    /** {@link VectorProducts}: the margin family's products when no native BLAS is found. */
    @Override
    public dev.softmaxlosses.kernel.MatrixKernels matrixKernels() {
        return VectorProducts.INSTANCE;
    }

    /**
     * The maximum, lane by lane by compare-and-blend, where a NaN is taken and then kept (no value
     * compares greater than it), then across the lanes: {@code Math.max}'s semantics (NaN wins; the
     * callers' validation relies on it), and -Infinity for a masked row.
     */
    @Override
    public float max(float[] a, int off, int len) {
        return ArrayEnds.fits(a, off, len) ? maxLoop(a, off, len) : maxLoop(ArrayEnds.copy(0, a, off, len), 0, len);
    }

    private static float maxLoop(float[] a, int off, int len) {
        // Four vectors a step, each into its own lanes: one chain of compare-and-blend would wait on itself.
        FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        FloatVector m1 = m0;
        FloatVector m2 = m0;
        FloatVector m3 = m0;
        int step = F.length();
        int i = 0;
        for (int bound = len - 4 * step; i <= bound; i += 4 * step) {
            FloatVector v0 = FloatVector.fromArray(F, a, off + i);
            FloatVector v1 = FloatVector.fromArray(F, a, off + i + step);
            FloatVector v2 = FloatVector.fromArray(F, a, off + i + 2 * step);
            FloatVector v3 = FloatVector.fromArray(F, a, off + i + 3 * step);
            m0 = m0.blend(v0, v0.compare(VectorOperators.GT, m0).or(v0.test(VectorOperators.IS_NAN)));
            m1 = m1.blend(v1, v1.compare(VectorOperators.GT, m1).or(v1.test(VectorOperators.IS_NAN)));
            m2 = m2.blend(v2, v2.compare(VectorOperators.GT, m2).or(v2.test(VectorOperators.IS_NAN)));
            m3 = m3.blend(v3, v3.compare(VectorOperators.GT, m3).or(v3.test(VectorOperators.IS_NAN)));
        }
        for (; i < len; i += step) {
            FloatVector v = i <= len - step ? FloatVector.fromArray(F, a, off + i)
                    : FloatVector.fromArray(F, a, off + i, F.indexInRange(i, len)).blend(Float.NEGATIVE_INFINITY,
                            F.indexInRange(i, len).not());
            m0 = m0.blend(v, v.compare(VectorOperators.GT, m0).or(v.test(VectorOperators.IS_NAN)));
        }
        FloatVector m = m0.blend(m1, m1.compare(VectorOperators.GT, m0).or(m1.test(VectorOperators.IS_NAN)));
        m = m.blend(m2, m2.compare(VectorOperators.GT, m).or(m2.test(VectorOperators.IS_NAN)));
        m = m.blend(m3, m3.compare(VectorOperators.GT, m).or(m3.test(VectorOperators.IS_NAN)));
        return m.reduceLanes(VectorOperators.MAX);
    }

    @Override
    public int indexOfNaNOrPositiveInfinity(float[] a, int off, int len) {
        return ArrayEnds.fits(a, off, len) ? indexOfNaNOrPositiveInfinityLoop(a, off, len)
                : indexOfNaNOrPositiveInfinityLoop(ArrayEnds.copy(0, a, off, len), 0, len);
    }

    private static int indexOfNaNOrPositiveInfinityLoop(float[] a, int off, int len) {
        for (int i = 0; i < len; i += F.length()) {
            VectorMask<Float> in = F.indexInRange(i, len);
            FloatVector v = FloatVector.fromArray(F, a, off + i, in);
            VectorMask<Float> bad = v.test(VectorOperators.IS_NAN).or(v.eq(Float.POSITIVE_INFINITY)).and(in);
            if (bad.anyTrue()) {
                return i + bad.firstTrue();
            }
        }
        return -1;
    }

    @Override
    public double expSum(float[] a, int off, int len, float scale, float shift, float[] dst, int dstOff) {
        return expSumAndMax(a, off, len, scale, shift, dst, dstOff, -1, null);
    }

    // The exponential's constants, as vectors: a scalar operand is broadcast inside each operation.
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

    /**
     * The exponentials {@code exp(fma(a[i], scale, -shift))} into {@code dst} (when not null; it may be
     * {@code a} itself) and their sum; and, when {@code nextOff >= 0}, the maximum of the {@code len}
     * values from {@code nextOff} into {@code maxOut[0]} (as {@link #max} computes it), so that the next
     * row of a batch is read while this one's exponentials are computed.
     *
     * <p>The exponential is {@link ScalarKernels#exp}'s, lane by lane, with the same bits: {@code x = n
     * ln 2 + r} (Cody and Waite's two-step reduction), the degree-6 polynomial of
     * {@link ScalarKernels#EXP_C2} in {@code r}, then {@code 2^n} through the exponent bits; within 0.9
     * ulp. Unlike {@code VectorOperators.EXP}, whose compiled and interpreted forms differ in the last
     * bit, it gives the same bits however the code runs. Arguments at or below -88 ({@code -Infinity}
     * included) give exactly 0; arguments must be {@code <= 88} (the kernels only take exponentials of
     * {@code x - max <= 0}).
     */
    @Override
    public double expSumAndMax(float[] a, int off, int len, float scale, float shift, float[] dst, int dstOff,
                               int nextOff, float[] maxOut) {
        int whole = F.loopBound(len);
        double sum = expSumAndMaxLoop(a, off, whole, scale, shift, dst, dstOff, nextOff, maxOut);
        if (whole == len) {
            return sum;
        }
        // The last, partial vector: padded with -Infinity (exponential 0, no maximum) in this thread's
        // buffer, where the same loop takes it as a whole vector; its sum is added after the others'.
        int rest = len - whole;
        float[] tail = TailBuffer.filled(a, off + whole, nextOff < 0 ? -1 : nextOff + whole, rest);
        float wholeMax = nextOff < 0 ? 0f : maxOut[0];
        sum += expSumAndMaxLoop(tail, 0, F.length(), scale, shift, dst == null ? null : tail, TailBuffer.OUT, nextOff < 0 ? -1
                : TailBuffer.NEXT, maxOut);
        if (nextOff >= 0) {
            maxOut[0] = Math.max(wholeMax, maxOut[0]);
        }
        if (dst != null) {
            System.arraycopy(tail, TailBuffer.OUT, dst, dstOff + whole, rest);
        }
        return sum;
    }

    /**
     * {@link #expSumAndMax} over whole vectors ({@code len} a multiple of the vector length): no mask,
     * so every access is one instruction and inside the array.
     */
    private static double expSumAndMaxLoop(float[] a, int off, int len, float scale, float shift, float[] dst, int dstOff,
                                           int nextOff, float[] maxOut) {
        FloatVector scales = FloatVector.broadcast(F, scale);
        FloatVector shifts = FloatVector.broadcast(F, -shift);
        DoubleVector low = DoubleVector.zero(D);
        DoubleVector high = DoubleVector.zero(D);
        FloatVector larger = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < len; i += F.length()) {
            if (nextOff >= 0) {
                FloatVector v = FloatVector.fromArray(F, a, nextOff + i);
                larger = larger.blend(v, v.compare(VectorOperators.GT, larger).or(v.test(VectorOperators.IS_NAN)));
            }
            FloatVector x = FloatVector.fromArray(F, a, off + i).fma(scales, shifts);
            // A compare and blend: the lane-wise max with Java's semantics compiles to a much longer sequence.
            x = x.blend(EXP_LOW, x.lt(EXP_LOW));
            FloatVector t = x.fma(LOG2E, ROUNDING);
            FloatVector n = t.sub(ROUNDING);
            // r = x - n ln 2 in two steps: LN2_HIGH has 9 significant bits, so n * LN2_HIGH is exact.
            FloatVector r = n.fma(NEG_LN2_HIGH, x);
            r = n.fma(NEG_LN2_LOW, r);
            FloatVector p = r.fma(C6, C5);
            p = p.fma(r, C4);
            p = p.fma(r, C3);
            p = p.fma(r, C2);
            p = p.fma(r, ONE);
            FloatVector y = p.fma(r, ONE);
            // At -88 (where every lower lane was set) n + 127 is 0: 2^n is exactly 0.
            FloatVector e = y.mul(t.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            if (dst != null) {
                e.intoArray(dst, dstOff + i);
            }
            low = low.add(e.convertShape(VectorOperators.F2D, D, 0));
            high = high.add(e.convertShape(VectorOperators.F2D, D, 1));
        }
        if (nextOff >= 0) {
            maxOut[0] = larger.reduceLanes(VectorOperators.MAX);
        }
        DoubleVector lanes = low.add(high);
        for (VectorShuffle<Double> swap : FOLD) {
            lanes = lanes.add(lanes.rearrange(swap));
        }
        return lanes.lane(0);
    }

    /**
     * Rows that fit one vector without class weights or label smoothing are a block of one row
     * ({@link CrossEntropyBlock}); the others take the generic row of three passes.
     */
    @Override
    public double softmaxCrossEntropyRow(CrossEntropyRow r) {
        if (r.len > F.length() || r.classWeights != null || r.eps != 0f) {
            return KernelSupport.super.softmaxCrossEntropyRow(r);
        }
        if (r.nextMaxOut != null) {
            r.nextMaxOut[0] = max(r.z, r.off + r.len, r.len);
        }
        return CrossEntropyBlock.row(this, r);
    }

    @Override
    public int crossEntropyBlockMaxClasses() {
        return F.length();
    }

    @Override
    public boolean softmaxCrossEntropyBlock(CrossEntropyRow r, int firstRow, int rows, float[] lseOut,
                                            double[] lossesOut) {
        return CrossEntropyBlock.block(this, r, firstRow, rows, lseOut, lossesOut);
    }

    @Override
    public double hingeSum(float[] z, int off, int len, float pivot, float margin, float[] active, int activeOff) {
        if (ArrayEnds.fits(z, off, len) && ArrayEnds.fits(active, activeOff, len)) {
            return hingeSumLoop(z, off, len, pivot, margin, active, activeOff);
        }
        float[] out = ArrayEnds.room(1, len);
        double sum = hingeSumLoop(ArrayEnds.copy(0, z, off, len), 0, len, pivot, margin, out, 0);
        System.arraycopy(out, 0, active, activeOff, len);
        return sum;
    }

    private static double hingeSumLoop(float[] z, int off, int len, float pivot, float margin, float[] active,
                                       int activeOff) {
        DoubleVector low = DoubleVector.zero(D);
        DoubleVector high = DoubleVector.zero(D);
        for (int i = 0; i < len; i += F.length()) {
            VectorMask<Float> in = F.indexInRange(i, len);
            FloatVector term = FloatVector.fromArray(F, z, off + i, in).sub(pivot).add(margin);
            VectorMask<Float> on = term.compare(VectorOperators.GT, 0f).and(in);
            FloatVector.zero(F).blend(1f, on).intoArray(active, activeOff + i, in);
            FloatVector kept = term.blend(0f, on.not());
            low = low.add(kept.convertShape(VectorOperators.F2D, D, 0));
            high = high.add(kept.convertShape(VectorOperators.F2D, D, 1));
        }
        DoubleVector lanes = low.add(high);
        for (VectorShuffle<Double> swap : FOLD) {
            lanes = lanes.add(lanes.rearrange(swap));
        }
        return lanes.lane(0);
    }

    @Override
    public void scaleAddInPlace(float[] a, int off, int len, float alpha, float beta) {
        if (ArrayEnds.fits(a, off, len)) {
            scaleAddInPlaceLoop(a, off, len, alpha, beta);
            return;
        }
        float[] row = ArrayEnds.copy(0, a, off, len);
        scaleAddInPlaceLoop(row, 0, len, alpha, beta);
        System.arraycopy(row, 0, a, off, len);
    }

    private static void scaleAddInPlaceLoop(float[] a, int off, int len, float alpha, float beta) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector.fromArray(F, a, off + i).mul(alpha).add(beta).intoArray(a, off + i);
        }
        if (i < len) {
            VectorMask<Float> in = F.indexInRange(i, len);
            FloatVector.fromArray(F, a, off + i, in).mul(alpha).add(beta).intoArray(a, off + i, in);
        }
    }

    @Override
    public void scaleAddScaledInPlace(float[] a, int off, int len, float alpha, float[] w, int wOff, float beta) {
        if (ArrayEnds.fits(a, off, len) && ArrayEnds.fits(w, wOff, len)) {
            scaleAddScaledInPlaceLoop(a, off, len, alpha, w, wOff, beta);
            return;
        }
        float[] row = ArrayEnds.copy(0, a, off, len);
        scaleAddScaledInPlaceLoop(row, 0, len, alpha, ArrayEnds.copy(1, w, wOff, len), 0, beta);
        System.arraycopy(row, 0, a, off, len);
    }

    private static void scaleAddScaledInPlaceLoop(float[] a, int off, int len, float alpha, float[] w, int wOff,
                                                  float beta) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector wv = FloatVector.fromArray(F, w, wOff + i).mul(beta);
            FloatVector.fromArray(F, a, off + i).mul(alpha).add(wv).intoArray(a, off + i);
        }
        if (i < len) {
            VectorMask<Float> in = F.indexInRange(i, len);
            FloatVector wv = FloatVector.fromArray(F, w, wOff + i, in).mul(beta);
            FloatVector.fromArray(F, a, off + i, in).mul(alpha).add(wv).intoArray(a, off + i, in);
        }
    }

    @Override
    public void scaleShift(float[] src, int srcOff, float[] dst, int dstOff, int len, float scale, float shift) {
        if (ArrayEnds.fits(src, srcOff, len) && ArrayEnds.fits(dst, dstOff, len)) {
            scaleShiftLoop(src, srcOff, dst, dstOff, len, scale, shift);
            return;
        }
        float[] out = ArrayEnds.room(1, len);
        scaleShiftLoop(ArrayEnds.copy(0, src, srcOff, len), 0, out, 0, len, scale, shift);
        System.arraycopy(out, 0, dst, dstOff, len);
    }

    private static void scaleShiftLoop(float[] src, int srcOff, float[] dst, int dstOff, int len, float scale,
                                       float shift) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector.fromArray(F, src, srcOff + i).mul(scale).add(shift).intoArray(dst, dstOff + i);
        }
        if (i < len) {
            VectorMask<Float> in = F.indexInRange(i, len);
            FloatVector.fromArray(F, src, srcOff + i, in).mul(scale).add(shift).intoArray(dst, dstOff + i, in);
        }
    }

    @Override
    public double sum(float[] a, int off, int len) {
        return ArrayEnds.fits(a, off, len) ? sumLoop(a, off, len) : sumLoop(ArrayEnds.copy(0, a, off, len), 0, len);
    }

    private static double sumLoop(float[] a, int off, int len) {
        DoubleVector low = DoubleVector.zero(D);
        DoubleVector high = DoubleVector.zero(D);
        int whole = F.loopBound(len);
        for (int i = 0; i < len; i += F.length()) {
            FloatVector v = i < whole ? FloatVector.fromArray(F, a, off + i)
                    : FloatVector.fromArray(F, a, off + i, F.indexInRange(i, len));
            low = low.add(v.convertShape(VectorOperators.F2D, D, 0));
            high = high.add(v.convertShape(VectorOperators.F2D, D, 1));
        }
        DoubleVector lanes = low.add(high);
        for (VectorShuffle<Double> swap : FOLD) {
            lanes = lanes.add(lanes.rearrange(swap));
        }
        return lanes.lane(0);
    }

    @Override
    public double dot(float[] a, int aOff, float[] b, int bOff, int len) {
        return ArrayEnds.fits(a, aOff, len) && ArrayEnds.fits(b, bOff, len) ? dotLoop(a, aOff, b, bOff, len)
                : dotLoop(ArrayEnds.copy(0, a, aOff, len), 0, ArrayEnds.copy(1, b, bOff, len), 0, len);
    }

    private static double dotLoop(float[] a, int aOff, float[] b, int bOff, int len) {
        DoubleVector low = DoubleVector.zero(D);
        DoubleVector high = DoubleVector.zero(D);
        int whole = F.loopBound(len);
        for (int i = 0; i < len; i += F.length()) {
            FloatVector va;
            FloatVector vb;
            if (i < whole) {
                va = FloatVector.fromArray(F, a, aOff + i);
                vb = FloatVector.fromArray(F, b, bOff + i);
            } else {
                VectorMask<Float> in = F.indexInRange(i, len);
                va = FloatVector.fromArray(F, a, aOff + i, in);
                vb = FloatVector.fromArray(F, b, bOff + i, in);
            }
            low = ((DoubleVector) va.convertShape(VectorOperators.F2D, D, 0))
                    .fma((DoubleVector) vb.convertShape(VectorOperators.F2D, D, 0), low);
            high = ((DoubleVector) va.convertShape(VectorOperators.F2D, D, 1))
                    .fma((DoubleVector) vb.convertShape(VectorOperators.F2D, D, 1), high);
        }
        DoubleVector lanes = low.add(high);
        for (VectorShuffle<Double> swap : FOLD) {
            lanes = lanes.add(lanes.rearrange(swap));
        }
        return lanes.lane(0);
    }
}
