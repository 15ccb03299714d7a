package dev.softmaxlosses.simd;

import static dev.softmaxlosses.simd.Lanes.D;
import static dev.softmaxlosses.simd.Lanes.F;
import static dev.softmaxlosses.simd.Lanes.NEG_INF;
import static dev.softmaxlosses.simd.Lanes.TAIL;
import static dev.softmaxlosses.simd.Lanes.ZERO;
import static dev.softmaxlosses.simd.Lanes.foldLanes;
import static dev.softmaxlosses.simd.Lanes.tail;
import static dev.softmaxlosses.simd.VectorMath.exp;

import dev.softmaxlosses.kernel.CrossEntropyRow;
import dev.softmaxlosses.kernel.KernelSupport;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The Vector API twin of {@link dev.softmaxlosses.kernel.ScalarKernels}: the same primitives on the
 * platform's preferred vector width, each a main loop over whole vectors and one step for the tail
 * ({@link Lanes}); the exponential and logarithm are {@link VectorMath}'s, the cross-entropy of rows
 * that fit one vector {@link CrossEntropyBlock}'s. Sums are accumulated
 * in {@code double} lanes and folded in lane order, and the exponential is computed from plain IEEE
 * operations, so that a result has the same bits on every thread and whether or not the JIT has
 * compiled the loop.
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

    /**
     * Rows that fit one vector without class weights take {@link CrossEntropyBlock#row}; the others
     * the generic row of three passes.
     */
    @Override
    public double softmaxCrossEntropyRow(CrossEntropyRow r) {
        if (r.len > F.length() || r.classWeights != null) {
            return KernelSupport.super.softmaxCrossEntropyRow(r);
        }
        if (r.nextMaxOut != null) {
            r.nextMaxOut[0] = max(r.z, r.off + r.len, r.len);
        }
        return CrossEntropyBlock.row(r);
    }

    @Override
    public int crossEntropyBlockMaxClasses() {
        return F.length();
    }

    @Override
    public boolean softmaxCrossEntropyBlock(CrossEntropyRow r, int firstRow, int rows, float[] lseOut,
                                            double[] lossesOut) {
        return CrossEntropyBlock.block(r, firstRow, rows, lseOut, lossesOut);
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
}
