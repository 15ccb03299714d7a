package dev.softmaxlosses.simd;

import dev.softmaxlosses.kernel.KernelSupport;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API twin of {@link dev.softmaxlosses.kernel.ScalarKernels}: the same kernels on the
 * platform's preferred vector width, each a main loop over whole vectors and one masked step for the
 * tail. Sums are accumulated in {@code double} lanes and folded in lane order, and the exponential
 * is computed from plain IEEE operations, so that a result has the same bits on every thread and
 * whether or not the JIT has compiled the loop.
 *
 * <p>Loaded by name by {@link dev.softmaxlosses.kernel.KernelProvider}; needs
 * {@code --add-modules jdk.incubator.vector}.
 */
public final class PanamaKernels implements KernelSupport {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Doubles in a vector of the same size: a float vector widens into two of them. */
    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());
    private static final FloatVector ZERO = FloatVector.zero(F);

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HIGH = 0.693359375f;
    private static final float LN2_LOW = -2.12194440e-4f;
    /** 1.5 * 2^23: adding it rounds a float of magnitude below 2^22 to an integer. */
    private static final float ROUNDING = 12582912f;
    private static final int ROUNDING_BITS = 0x4B400000;
    private static final float EXP_LOW = -87.33654f;
    private static final float EXP_HIGH = 88.3f;
    private static final float EXP_P0 = 1.9875691500E-4f;
    private static final float EXP_P1 = 1.3981999507E-3f;
    private static final FloatVector P2 = FloatVector.broadcast(F, 8.3334519073E-3f);
    private static final FloatVector P3 = FloatVector.broadcast(F, 4.1665795894E-2f);
    private static final FloatVector P4 = FloatVector.broadcast(F, 1.6666665459E-1f);
    private static final FloatVector P5 = FloatVector.broadcast(F, 5.0000001201E-1f);

    private PanamaKernels() {}

    /** The kernels, or an {@link UnsupportedOperationException} saying why SIMD does not pay here. */
    public static PanamaKernels create() {
        if (F.vectorBitSize() < 128) {
            throw new UnsupportedOperationException("the preferred vector is only " + F.vectorBitSize() + " bits");
        }
        return new PanamaKernels();
    }

    @Override
    public String description() {
        return "simd (" + F.vectorBitSize() + "-bit)";
    }

    @Override
    public float max(float[] a, int off, int len) {
        FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            acc = acc.max(FloatVector.fromArray(F, a, off + i));
        }
        if (i < len) {
            VectorMask<Float> m = F.indexInRange(i, len);
            acc = acc.lanewise(VectorOperators.MAX, FloatVector.fromArray(F, a, off + i, m), m);
        }
        return acc.reduceLanes(VectorOperators.MAX);
    }

    @Override
    public int indexOfNaNOrPositiveInfinity(float[] a, int off, int len) {
        for (int i = 0; i < len; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, len);
            FloatVector v = FloatVector.fromArray(F, a, off + i, m);
            VectorMask<Float> bad = v.test(VectorOperators.IS_NAN).or(v.eq(Float.POSITIVE_INFINITY)).and(m);
            if (bad.anyTrue()) {
                return i + bad.firstTrue();
            }
        }
        return -1;
    }

    @Override
    public double expSum(float[] a, int off, int len, float scale, float shift, float[] dst, int dstOff) {
        DoubleVector low = DoubleVector.zero(D);
        DoubleVector high = DoubleVector.zero(D);
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector e = exp(FloatVector.fromArray(F, a, off + i).mul(scale).sub(shift));
            if (dst != null) {
                e.intoArray(dst, dstOff + i);
            }
            low = low.add(e.convertShape(VectorOperators.F2D, D, 0));
            high = high.add(e.convertShape(VectorOperators.F2D, D, 1));
        }
        DoubleVector lanes = low.add(high);
        double total = 0;
        for (int lane = 0; lane < lanes.length(); lane++) {
            total += lanes.lane(lane);
        }
        return i < len ? total + expSumTail(a, off + i, len - i, scale, shift, dst, dstOff + i) : total;
    }

    /**
     * The masked last step of {@link #expSum}, kept apart so that the JIT inlines each whole: one
     * method holding both would pass its vectors boxed (an allocation per call).
     */
    private static double expSumTail(float[] a, int off, int len, float scale, float shift, float[] dst, int dstOff) {
        VectorMask<Float> m = F.indexInRange(0, len);
        FloatVector e = ZERO.blend(exp(FloatVector.fromArray(F, a, off, m).mul(scale).sub(shift)), m);
        if (dst != null) {
            e.intoArray(dst, dstOff, m);
        }
        DoubleVector lanes = ((DoubleVector) e.convertShape(VectorOperators.F2D, D, 0))
                .add(e.convertShape(VectorOperators.F2D, D, 1));
        double total = 0;
        for (int lane = 0; lane < lanes.length(); lane++) {
            total += lanes.lane(lane);
        }
        return total;
    }

    /**
     * {@code exp(x)} from plain IEEE operations (Cephes' expf: {@code x = n ln 2 + r}, a degree-6
     * polynomial in {@code r}, then {@code 2^n} through the exponent bits), accurate to about 1 ulp.
     * Unlike {@code VectorOperators.EXP}, whose JIT-compiled and interpreted forms differ in the last
     * bit, it gives the same bits however the code runs, which keeps results independent of the
     * thread count. Inputs below {@code ln(Float.MIN_NORMAL)} ({@code -Infinity} included) give 0;
     * inputs are assumed {@code <= 88.3} (the kernels only take exponentials of {@code x - max}).
     */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> underflow = x.lt(EXP_LOW);
        x = x.max(EXP_LOW).min(EXP_HIGH);
        FloatVector t = x.fma(LOG2E, ROUNDING);
        FloatVector n = t.sub(ROUNDING);
        // LN2_HIGH has 9 significant bits and |n| <= 127, so n * LN2_HIGH is exact.
        FloatVector r = x.sub(n.mul(LN2_HIGH)).sub(n.mul(LN2_LOW));
        FloatVector p = r.fma(EXP_P0, EXP_P1);
        p = p.fma(r, P2);
        p = p.fma(r, P3);
        p = p.fma(r, P4);
        p = p.fma(r, P5);
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        // t holds ROUNDING + n exactly, so its low bits are n: move n + 127 into the exponent field.
        FloatVector scale = t.reinterpretAsInts().sub(ROUNDING_BITS - 127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return y.mul(scale).blend(0f, underflow);
    }

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

    /** The masked last step of {@link #addScaledExp}, apart for the reason {@link #expSumTail} is. */
    private static void addScaledExpTail(float[] a, int off, int len, float scale, float shift, float coef,
                                         float[] dst, int dstOff) {
        VectorMask<Float> m = F.indexInRange(0, len);
        FloatVector e = exp(FloatVector.fromArray(F, a, off, m).mul(scale).sub(shift));
        e.mul(coef).add(FloatVector.fromArray(F, dst, dstOff, m)).intoArray(dst, dstOff, m);
    }

    @Override
    public double hingeSum(float[] z, int off, int len, float pivot, float margin, float[] active, int activeOff) {
        DoubleVector low = DoubleVector.zero(D);
        DoubleVector high = DoubleVector.zero(D);
        for (int i = 0; i < len; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, len);
            FloatVector term = FloatVector.fromArray(F, z, off + i, m).sub(pivot).add(margin);
            VectorMask<Float> on = term.compare(VectorOperators.GT, 0f).and(m);
            ZERO.blend(1f, on).intoArray(active, activeOff + i, m);
            FloatVector kept = ZERO.blend(term, on);
            low = low.add(kept.convertShape(VectorOperators.F2D, D, 0));
            high = high.add(kept.convertShape(VectorOperators.F2D, D, 1));
        }
        DoubleVector lanes = low.add(high);
        double total = 0;
        for (int lane = 0; lane < lanes.length(); lane++) {
            total += lanes.lane(lane);
        }
        return total;
    }

    @Override
    public void scaleAddInPlace(float[] a, int off, int len, float alpha, float beta) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector.fromArray(F, a, off + i).mul(alpha).add(beta).intoArray(a, off + i);
        }
        if (i < len) {
            VectorMask<Float> m = F.indexInRange(i, len);
            FloatVector.fromArray(F, a, off + i, m).mul(alpha).add(beta).intoArray(a, off + i, m);
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
            VectorMask<Float> m = F.indexInRange(i, len);
            FloatVector wv = FloatVector.fromArray(F, w, wOff + i, m).mul(beta);
            FloatVector.fromArray(F, a, off + i, m).mul(alpha).add(wv).intoArray(a, off + i, m);
        }
    }

    @Override
    public void scaleShift(float[] src, int srcOff, float[] dst, int dstOff, int len, float scale, float shift) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector.fromArray(F, src, srcOff + i).mul(scale).add(shift).intoArray(dst, dstOff + i);
        }
        if (i < len) {
            VectorMask<Float> m = F.indexInRange(i, len);
            FloatVector.fromArray(F, src, srcOff + i, m).mul(scale).add(shift).intoArray(dst, dstOff + i, m);
        }
    }

    @Override
    public double sum(float[] a, int off, int len) {
        DoubleVector low = DoubleVector.zero(D);
        DoubleVector high = DoubleVector.zero(D);
        for (int i = 0; i < len; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, len);
            FloatVector v = FloatVector.fromArray(F, a, off + i, m);
            low = low.add(v.convertShape(VectorOperators.F2D, D, 0));
            high = high.add(v.convertShape(VectorOperators.F2D, D, 1));
        }
        // Lanes are folded in lane order, here rather than in a helper that would receive a boxed vector.
        DoubleVector lanes = low.add(high);
        double total = 0;
        for (int lane = 0; lane < lanes.length(); lane++) {
            total += lanes.lane(lane);
        }
        return total;
    }

    @Override
    public double dot(float[] a, int aOff, float[] b, int bOff, int len) {
        DoubleVector low = DoubleVector.zero(D);
        DoubleVector high = DoubleVector.zero(D);
        for (int i = 0; i < len; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, len);
            FloatVector va = FloatVector.fromArray(F, a, aOff + i, m);
            FloatVector vb = FloatVector.fromArray(F, b, bOff + i, m);
            DoubleVector da = (DoubleVector) va.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector db = (DoubleVector) vb.convertShape(VectorOperators.F2D, D, 0);
            low = da.fma(db, low);
            da = (DoubleVector) va.convertShape(VectorOperators.F2D, D, 1);
            db = (DoubleVector) vb.convertShape(VectorOperators.F2D, D, 1);
            high = da.fma(db, high);
        }
        // Lanes are folded in lane order, here rather than in a helper that would receive a boxed vector.
        DoubleVector lanes = low.add(high);
        double total = 0;
        for (int lane = 0; lane < lanes.length(); lane++) {
            total += lanes.lane(lane);
        }
        return total;
    }
}
