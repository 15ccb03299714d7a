package dev.softmaxlosses.simd;

import dev.softmaxlosses.kernel.KernelSupport;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API twin of {@link dev.softmaxlosses.kernel.ScalarKernels}: the same kernels on the
 * platform's preferred vector width, each a main loop over whole vectors and one masked step for the
 * tail. Sums are kept per lane in {@code float} and folded into a {@code double} every
 * {@value #FLUSH} vectors, so that long rows lose no more precision than the scalar twin's.
 *
 * <p>Loaded by name by {@link dev.softmaxlosses.kernel.KernelProvider}; needs
 * {@code --add-modules jdk.incubator.vector}.
 */
public final class PanamaKernels implements KernelSupport {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int FLUSH = 64;

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
        FloatVector acc = FloatVector.zero(F);
        double total = 0;
        int i = 0;
        int pending = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector e = FloatVector.fromArray(F, a, off + i).mul(scale).sub(shift).lanewise(VectorOperators.EXP);
            if (dst != null) {
                e.intoArray(dst, dstOff + i);
            }
            acc = acc.add(e);
            if (++pending == FLUSH) {
                total += acc.reduceLanes(VectorOperators.ADD);
                acc = FloatVector.zero(F);
                pending = 0;
            }
        }
        if (i < len) {
            VectorMask<Float> m = F.indexInRange(i, len);
            FloatVector e = FloatVector.fromArray(F, a, off + i, m).mul(scale).sub(shift).lanewise(VectorOperators.EXP);
            if (dst != null) {
                e.intoArray(dst, dstOff + i, m);
            }
            acc = acc.add(e, m);
        }
        return total + acc.reduceLanes(VectorOperators.ADD);
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
        FloatVector acc = FloatVector.zero(F);
        double total = 0;
        int i = 0;
        int pending = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            acc = acc.add(FloatVector.fromArray(F, a, off + i));
            if (++pending == FLUSH) {
                total += acc.reduceLanes(VectorOperators.ADD);
                acc = FloatVector.zero(F);
                pending = 0;
            }
        }
        if (i < len) {
            VectorMask<Float> m = F.indexInRange(i, len);
            acc = acc.add(FloatVector.fromArray(F, a, off + i, m), m);
        }
        return total + acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public double dot(float[] a, int aOff, float[] b, int bOff, int len) {
        FloatVector acc = FloatVector.zero(F);
        double total = 0;
        int i = 0;
        int pending = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
            if (++pending == FLUSH) {
                total += acc.reduceLanes(VectorOperators.ADD);
                acc = FloatVector.zero(F);
                pending = 0;
            }
        }
        if (i < len) {
            VectorMask<Float> m = F.indexInRange(i, len);
            FloatVector prod = FloatVector.fromArray(F, a, aOff + i, m).mul(FloatVector.fromArray(F, b, bOff + i, m));
            acc = acc.add(prod, m);
        }
        return total + acc.reduceLanes(VectorOperators.ADD);
    }
}
