package dev.softmaxlosses.margin;

/**
 * The multiplicative angular margin of L-Softmax and A-Softmax:
 * {@code psi(theta) = (-1)^k cos(m theta) - 2k} for {@code theta} in {@code [k pi / m, (k + 1) pi / m]},
 * a monotone continuation of {@code cos(m theta)} over the whole of {@code [0, pi]}.
 *
 * <p>No {@code acos}: {@code cos(m theta)} is the Chebyshev polynomial {@code T_m(c)}, its derivative
 * {@code m U_{m-1}(c)}, and the sector {@code k} comes from comparing {@code c} with
 * {@code cos(j pi / m)}. Both {@code psi} and its derivative are continuous at the sector boundaries.
 */
final class MultiplicativeAngle {

    /**
     * The largest margin m (the papers use 1 to 4). Up to it, psi's slope at {@code c = +-1},
     * {@code m U_{m-1}(+-1) = +-m^2}, is at most {@code 2^24}, below which float32 holds every integer,
     * and the narrowest sector, {@code pi / m >= 7.7e-4} radians, is still wider than the smallest angle a
     * float32 cosine tells from 0 ({@code acos(1 - 2^-24) = 3.5e-4}): past it the sectors are finer than
     * the angles float32 features resolve, and the table of boundaries grows with m for nothing.
     */
    static final int MAX_M = 4096;

    private final int m;
    private final double[] boundaries;

    MultiplicativeAngle(int m) {
        if (m < 1 || m > MAX_M) {
            throw new IllegalArgumentException("m must be an integer >= 1 and <= " + MAX_M + ", got " + m);
        }
        this.m = m;
        this.boundaries = new double[m - 1];
        for (int j = 1; j < m; j++) {
            boundaries[j - 1] = Math.cos(j * Math.PI / m);
        }
    }

    int m() {
        return m;
    }

    /** The sector {@code k}: how many of {@code cos(j pi / m)}, {@code j = 1 .. m - 1}, are {@code >= c}. */
    int sector(double c) {
        int k = 0;
        for (double boundary : boundaries) {
            if (c <= boundary) {
                k++;
            }
        }
        return k;
    }

    double psi(double c) {
        int k = sector(c);
        return ((k & 1) == 0 ? 1 : -1) * chebyshevT(c) - 2.0 * k;
    }

    double psiSlope(double c) {
        int k = sector(c);
        return ((k & 1) == 0 ? 1 : -1) * m * chebyshevU(c, m - 1);
    }

    /** {@code T_m(c) = cos(m acos c)} by its recurrence. */
    private double chebyshevT(double c) {
        double previous = 1;
        double current = c;
        for (int i = 1; i < m; i++) {
            double next = 2 * c * current - previous;
            previous = current;
            current = next;
        }
        return m == 0 ? 1 : current;
    }

    /** {@code U_n(c)}, with {@code T_m'(c) = m U_{m-1}(c)}. */
    private static double chebyshevU(double c, int n) {
        double previous = 1;
        double current = 2 * c;
        if (n == 0) {
            return 1;
        }
        for (int i = 1; i < n; i++) {
            double next = 2 * c * current - previous;
            previous = current;
            current = next;
        }
        return current;
    }
}
