package dev.softmaxlosses.margin;

/**
 * ArcFace's target transform for an additive angular margin {@code m}, shared by the losses that put
 * it on the target with a margin of their own (ArcFace's fixed one, MagFace's {@code m(a)},
 * CurricularFace's, the sub-centres'):
 *
 * <pre>
 *   T(c) = cos(theta + m) = c cos m - sin(theta) sin m   where c &gt; cos(pi - m)
 *   T(c) = c - m sin(pi - m)                             elsewhere (keeps T decreasing in theta)
 * </pre>
 *
 * With {@code easy}, {@code cos(theta + m)} where {@code c > 0} and {@code c} elsewhere.
 */
final class AngularMargin {

    private AngularMargin() {}

    /** The cosine below which the fallback applies. */
    static double threshold(double m, boolean easy) {
        return easy ? 0 : Math.cos(Math.PI - m);
    }

    /** What the fallback subtracts from {@code c}. */
    static double fallbackShift(double m, boolean easy) {
        return easy ? 0 : m * Math.sin(Math.PI - m);
    }

    static double target(double c, double m, boolean easy) {
        return target(c, Math.cos(m), Math.sin(m), threshold(m, easy), fallbackShift(m, easy));
    }

    /** {@link #target(double, double, boolean)} with the margin's cosine, sine, threshold and shift computed once. */
    static double target(double c, double cosM, double sinM, double threshold, double shift) {
        if (c > threshold) {
            return c * cosM - Math.sqrt(Math.max(0, 1 - c * c)) * sinM;
        }
        return c - shift;
    }

    /** {@code dT/dc}, its {@code 1 / sin(theta)} bounded. */
    static double slope(double c, double cosM, double sinM, double threshold) {
        return c > threshold ? cosM + c * sinM / Normalisation.boundedSin(c) : 1;
    }

    static double slope(double c, double m, boolean easy) {
        return slope(c, Math.cos(m), Math.sin(m), threshold(m, easy));
    }

    /** {@code dT/dm}: {@code -sin(theta + m)} on the arc, {@code -(sin m + m cos m)} on the fallback, 0 for easy's {@code c}. */
    static double marginSlope(double c, double m, boolean easy) {
        if (c > threshold(m, easy)) {
            return -c * Math.sin(m) - Math.sqrt(Math.max(0, 1 - c * c)) * Math.cos(m);
        }
        return easy ? 0 : -(Math.sin(Math.PI - m) - m * Math.cos(Math.PI - m));
    }
}
