package dev.softmaxlosses.simd;

import static dev.softmaxlosses.simd.Lanes.D;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The logarithm of the SIMD kernels (double lanes, within 1 ulp of {@code Math.log}), from plain IEEE
 * operations, on an array. (The exponential is in {@link PanamaKernels#expSumAndMax}, the one loop
 * that computes exponentials.)
 */
final class VectorMath {

    private VectorMath() {}

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
     * which positive normal inputs never reach (a {@code Math.log} per row stalls a block of short
     * rows). With {@code inverse} not null, {@code inverse[i] = 1 / a[i]} from the values before, in the
     * same pass. It works on arrays, so that no vector crosses the call.
     */
    static void logInPlace(double[] a, double[] inverse, int len) {
        for (int i = 0; i < len; i += D.length()) {
            DoubleVector x = DoubleVector.fromArray(D, a, i);
            if (inverse != null) {
                DoubleVector.broadcast(D, 1.0).div(x).intoArray(inverse, i);
            }
            LongVector bits = x.reinterpretAsLongs();
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
