package dev.softmaxlosses.margin;

/**
 * ArcFace's target transform for an additive angular margin {@code m}, shared by the losses that put
 * it on the target (ArcFace, sub-center ArcFace and CurricularFace with their fixed margin, MagFace with
 * a margin per row):
 *
 * <pre>
 *   T(c) = cos(theta + m) = c cos m - sin(theta) sin m   where c &gt; cos(pi - m)
 *   T(c) = c - m sin(pi - m)                             elsewhere (keeps T decreasing in theta)
 * </pre>
 *
 * With {@code easy}, {@code cos(theta + m)} where {@code c > 0} and {@code c} elsewhere. An instance
 * holds one margin with its cosine, sine, threshold and shift computed once; the static methods take
 * a margin per call.
 */
final class AngularMargin {

    private final double cosM;
    private final double sinM;
    private final double threshold;
    private final double shift;

    /**
     * The transform of margin {@code m}.
     *
     * @throws IllegalArgumentException unless {@code m} is in [0, pi)
     */
    AngularMargin(double m, boolean easy) {
        if (!(m >= 0 && m < Math.PI)) {
            throw new IllegalArgumentException("m must be in [0, pi), got " + m);
        }
        this.cosM = Math.cos(m);
        this.sinM = Math.sin(m);
        this.threshold = threshold(m, easy);
        this.shift = fallbackShift(m, easy);
    }

    double target(double c) {
        return target(c, cosM, sinM, threshold, shift);
    }

    /** {@code cos(theta + m)} itself, without the fallback (CurricularFace's bar of a hard negative). */
    double onArc(double c) {
        return onArc(c, cosM, sinM);
    }

    /** {@code dT/dc}, its {@code 1 / sin(theta)} bounded. */
    double slope(double c) {
        return slope(c, cosM, sinM, threshold);
    }

    /** The largest {@code |T|}: {@code cos(theta + m)} and {@code c} lie in [-1, 1]; the fallback reaches {@code -1 - m sin(pi - m)}. */
    double bound() {
        return 1 + shift;
    }

    /** The largest {@code |dT/dc|} with {@code 1 / sin(theta)} bounded by {@link MarginLoss#MIN_SIN}. */
    double slopeBound() {
        return Math.abs(cosM) + sinM / MarginLoss.MIN_SIN;
    }

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

    static double slope(double c, double m, boolean easy) {
        return slope(c, Math.cos(m), Math.sin(m), threshold(m, easy));
    }

    private static double target(double c, double cosM, double sinM, double threshold, double shift) {
        return c > threshold ? onArc(c, cosM, sinM) : c - shift;
    }

    private static double onArc(double c, double cosM, double sinM) {
        return c * cosM - Math.sqrt(Math.max(0, 1 - c * c)) * sinM;
    }

    private static double slope(double c, double cosM, double sinM, double threshold) {
        return c > threshold ? cosM + c * sinM / Normalisation.boundedSin(c) : 1;
    }

    /** {@code dT/dm}: {@code -sin(theta + m)} on the arc, {@code -(sin m + m cos m)} on the fallback, 0 for easy's {@code c}. */
    static double marginSlope(double c, double m, boolean easy) {
        if (c > threshold(m, easy)) {
            return -c * Math.sin(m) - Math.sqrt(Math.max(0, 1 - c * c)) * Math.cos(m);
        }
        return easy ? 0 : -(Math.sin(Math.PI - m) - m * Math.cos(Math.PI - m));
    }
}
