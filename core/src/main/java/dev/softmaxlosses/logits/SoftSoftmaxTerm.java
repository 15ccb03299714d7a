package dev.softmaxlosses.logits;

/**
 * The soft term of {@link DistillationLoss}: {@code alpha T^2 KL(pt || qs)} of one row and its
 * gradient, in double and in a form that does not cancel at any temperature.
 */
final class SoftSoftmaxTerm {

    private final double alpha;
    private final float temperature;

    SoftSoftmaxTerm(double alpha, float temperature) {
        this.alpha = alpha;
        this.temperature = temperature;
    }

    /**
     * The soft term {@code alpha T^2 KL(pt || qs)} of one row, and its gradient
     * {@code alpha T (qs - pt)} times {@code gradScale} into {@code grad}, in double and in a form that
     * does not cancel at any temperature. With {@code a = t / T}, {@code b = s / T},
     * {@code delta = a - b}, {@code pt = softmax(a)}, {@code mu = sum pt delta} and
     * {@code eps = delta - mu}:
     *
     * <pre>
     *   KL = log(sum_c pt_c e^(-eps_c) + R e^mu) = log1p(sum_c pt_c (e^(-eps_c) - 1 + eps_c) + R e^mu)
     *   qs_c - pt_c = pt_c expm1(-eps_c - KL)
     * </pre>
     *
     * since {@code log qs_c = log pt_c - eps_c - KL}, {@code sum pt = 1} and {@code sum pt eps = 0}.
     * Every term of the sum is {@code >= 0}, so a KL of order {@code (delta / T)^2} keeps its digits
     * where the plain {@code sum pt (log pt - log qs)} of float terms cancels to noise. {@code eps} is
     * taken from the teacher's most likely class j, {@code eps_c = (delta_c - delta_j) - nu} with
     * {@code nu = sum_k pt_k (delta_k - delta_j)}: {@code delta_c - mu} would cancel where
     * {@code pt_c} is near 1, and with it the gradient of a nearly settled row. {@code R}
     * collects the classes whose {@code pt} is 0 (underflowed, or masked by the teacher) but not
     * {@code qs}: {@code R = sum exp(b_c - LSE(a))}; there {@code qs_c = exp(b_c - LSE(a) + mu - KL)}.
     * Classes both mask contribute nothing. A student equal to its teacher has {@code delta = 0}: a
     * KL and a gradient of exactly 0.
     */
    double apply(float[] z, float[] teacher, int off, int cols, float gradScale, float[] grad) {
        double t = temperature;
        // Logits enter only as differences from the teacher's most likely class j (and the student's
        // largest logit), divided by T: a / T of the size of the logits never meets another to cancel.
        int j = off;
        int top = off;
        for (int c = off; c < off + cols; c++) {
            j = teacher[c] > teacher[j] ? c : j;
            top = z[c] > z[top] ? c : top;
        }
        double dj = (double) teacher[j] - z[j];
        double sumA = 0;
        for (int c = off; c < off + cols; c++) {
            sumA += Math.exp(((double) teacher[c] - teacher[j]) / t);
        }
        double logSumA = Math.log(sumA);
        double nu = 0;
        for (int c = off; c < off + cols; c++) {
            double pt = Math.exp(((double) teacher[c] - teacher[j]) / t - logSumA);
            if (pt > 0) {
                nu += pt * ((((double) teacher[c] - z[c]) - dj) / t);
            }
        }
        // log(pt_c e^(-eps_c)) = b_c - LSE(a) + mu = (s_c - s_j) / T + nu - log sumA; the KL is at least
        // its largest, at the student's largest logit.
        double largest = ((double) z[top] - z[j]) / t + nu - logSumA;
        double kl;
        if (largest <= 680) {
            // No term can overflow (C e^680 < Double.MAX_VALUE for any int C).
            double sum = 0;
            for (int c = off; c < off + cols; c++) {
                if (z[c] == Float.NEGATIVE_INFINITY) {
                    continue;
                }
                double logPt = ((double) teacher[c] - teacher[j]) / t - logSumA;
                double pt = Math.exp(logPt);
                if (pt > 0) {
                    double eps = (((double) teacher[c] - z[c]) - dj) / t - nu;
                    // pt (e^(-eps) - 1 + eps); for eps <= -1 the exponential as exp(log pt - eps), which is <= e^680.
                    sum += eps > -1 ? pt * expm1PlusIdentity(eps) : Math.exp(logPt - eps) - pt * (1 - eps);
                } else {
                    sum += Math.exp(((double) z[c] - z[j]) / t + nu - logSumA);
                }
            }
            kl = Math.log1p(sum);
        } else {
            // KL >= 680: log sum_c exp(b_c - LSE(a) + mu) directly, whose rounding is small beside it.
            double sumB = 0;
            for (int c = off; c < off + cols; c++) {
                sumB += Math.exp(((double) z[c] - z[top]) / t);
            }
            kl = largest + Math.log(sumB);
        }
        double coefficient = alpha * t * gradScale;
        for (int c = off; c < off + cols; c++) {
            double difference = 0;
            if (z[c] != Float.NEGATIVE_INFINITY) {
                double logPt = ((double) teacher[c] - teacher[j]) / t - logSumA;
                double pt = Math.exp(logPt);
                if (pt > 0) {
                    double x = -((((double) teacher[c] - z[c]) - dj) / t - nu) - kl;
                    // qs - pt = pt expm1(x); for x > 1 as qs - pt with qs = exp(log pt + x) <= 1, which cannot overflow.
                    difference = x > 1 ? Math.exp(logPt + x) - pt : pt * Math.expm1(x);
                } else {
                    difference = Math.exp(((double) z[c] - z[j]) / t + nu - logSumA - kl);
                }
            }
            // + 0f: a gradient of -0.0 reads as 0.
            grad[c] = (float) (coefficient * difference) + 0f;
        }
        return alpha * t * t * kl;
    }

    /**
     * {@code e^(-e) - 1 + e >= 0}, by its series where {@code expm1(-e) + e} would cancel: for
     * {@code |e| < 0.01} the terms up to {@code e^8} leave a relative error below {@code 1e-19}.
     */
    static double expm1PlusIdentity(double e) {
        if (Math.abs(e) >= 0.01) {
            return Math.expm1(-e) + e;
        }
        return e * e * (1.0 / 2 + e * (-1.0 / 6 + e * (1.0 / 24 + e * (-1.0 / 120 + e * (1.0 / 720
                + e * (-1.0 / 5040 + e / 40320))))));
    }
}
