package dev.softmaxlosses.simd;

import static dev.softmaxlosses.simd.Lanes.D;
import static dev.softmaxlosses.simd.Lanes.F;

import dev.softmaxlosses.kernel.ScalarKernels;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The vector math functions of the SIMD kernels: the exponential (float lanes, the scalar twin's bits)
 * and the logarithm (double lanes, within 1 ulp of {@code Math.log}), from plain IEEE operations.
 */
final class VectorMath {

    private VectorMath() {}

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
}
