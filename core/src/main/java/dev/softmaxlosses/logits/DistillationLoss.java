package dev.softmaxlosses.logits;

import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.kernel.KernelSupport;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Knowledge distillation with the soft softmax of Hinton, Vinyals and Dean 2015, "Distilling the
 * Knowledge in a Neural Network": the student matches the teacher's temperature-softened
 * distribution, and (with weight {@code 1 - alpha}) the hard labels.
 *
 * <pre>
 *   pt = softmax(teacher / T),  qs = softmax(student / T),  p = softmax(student)
 *   l_n = alpha T^2 KL(pt || qs) + (1 - alpha) CE(student, y)        (0 log 0 = 0)
 *   dl_n/dz = alpha T (qs - pt) + (1 - alpha) (p - one-hot(y))
 * </pre>
 *
 * The soft term is computed in double in a form that does not cancel, so it keeps float32 accuracy
 * at every temperature in {@code [2^-126, Float.MAX_VALUE]}: as T grows, {@code T^2 KL} tends to
 * half the teacher-weighted variance of {@code t - s}, and the gradient to {@code pt (mean - (t - s))}.
 * A class that only the teacher masks keeps {@code KL} away from 0, so that the loss grows like
 * {@code T^2} and is refused by the per-sample overflow rule once it passes the float32 range.
 *
 * <p>The {@code T^2} keeps the soft term's gradient on the scale of the hard term's as T changes. An
 * ignored label drops the hard term only: the soft term still counts, so unlabelled data can be
 * distilled. No gradient flows to the teacher. The final logits are {@code student / T}, so
 * {@code probabilities} are {@code qs}; {@link dev.softmaxlosses.Softmax#softmax} gives the soft
 * softmax of any logits.
 *
 * <p><b>Inputs:</b> {@code logits} (the student's, {@code N x C}), {@code teacher_logits} (same
 * shape), {@code labels} (needed when {@code alpha < 1}). <b>Parameters</b> (spec
 * {@code distillation}): {@code temperature} T in {@code [2^-126, Float.MAX_VALUE]} (4), {@code alpha}
 * in [0, 1] (0.9), {@code ignore_index} (-100), {@code reduction} (mean over all N samples). A class the student
 * masks ({@code -Infinity}) must be masked by the teacher too. Related: {@code softmax_cross_entropy}
 * with soft targets and {@code temperature}.
 *
 * @throws IllegalArgumentException for a bad input, naming array, row, column and value
 */
public final class DistillationLoss extends LabelLogitLoss {

    public static final String NAME = "distillation";

    private final float temperature;
    private final double alpha;

    private DistillationLoss(Builder b) {
        super(b.ignoreIndex, b.reduction);
        this.temperature = (float) b.temperature;
        this.alpha = b.alpha;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public double temperature() { return temperature; }

    public double alpha() { return alpha; }

    @Override
    String name() {
        return NAME;
    }

    @Override
    boolean takesTeacher() {
        return true;
    }

    @Override
    boolean trainsWithoutLabel() {
        return true;
    }

    @Override
    boolean labelsOptional() {
        return alpha == 1;
    }

    @Override
    double normaliser(int[] labels, int rows) {
        return rows;
    }

    @Override
    double gradientBound(int cols, float[] weights) {
        return alpha * temperature + (1 - alpha);
    }

    @Override
    String overflowCause(float[] z, float[] teacher, int n, int cols, int label, float[] weights, double loss) {
        for (int c = 0; c < cols; c++) {
            if (teacher[n * cols + c] == Float.NEGATIVE_INFINITY && z[n * cols + c] != Float.NEGATIVE_INFINITY) {
                return "teacher_logits[" + n + "][" + c + "] masks a class that logits[" + n + "] does not, so KL stays away "
                        + "from 0 and the soft term alpha T^2 KL grows like T^2: lower temperature = " + temperature
                        + " or mask the class in logits too";
            }
        }
        return "lower " + Checks.spreadOf("logits", z, cols, n) + ", " + Checks.spreadOf("teacher_logits", teacher, cols, n)
                + " or temperature = " + temperature + " (the soft term is alpha T^2 KL)";
    }

    @Override
    public LossSpec spec() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("temperature", show(temperature));
        p.put("alpha", show(alpha));
        p.put("ignore_index", Integer.toString(ignoreIndex));
        p.put("reduction", reduction.specName());
        return new LossSpec(NAME, p);
    }

    @Override
    void finalLogits(KernelSupport k, float[] z, int off, int cols, int label, float[] out) {
        k.scaleShift(z, off, out, off, cols, 1f / temperature, 0f);
    }

    @Override
    double row(KernelSupport k, float[] z, float[] teacher, int off, int cols, float rowMax, int label,
               float[] weights, float gradScale, float[] grad) {
        double loss = alpha > 0 ? softTerm(z, teacher, off, cols, gradScale, grad) : 0;
        if (alpha == 0) {
            java.util.Arrays.fill(grad, off, off + cols, 0f);
        }
        if (alpha < 1 && label != NO_LABEL) {
            double sum = k.expSum(z, off, cols, 1f, rowMax, null, 0);
            loss += (1 - alpha) * (((double) rowMax - z[off + label]) + Math.log(sum));
            double hard = (1 - alpha) * gradScale;
            k.addScaledExp(z, off, cols, 1f, rowMax, (float) (hard / sum), grad, off);
            grad[off + label] -= (float) hard;
        }
        return loss;
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
    private double softTerm(float[] z, float[] teacher, int off, int cols, float gradScale, float[] grad) {
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

    /** Builds a {@link DistillationLoss}; invalid values fail in {@link #build()}. */
    public static final class Builder {
        private double temperature = 4;
        private double alpha = 0.9;
        private int ignoreIndex = -100;
        private Reduction reduction = Reduction.MEAN;

        private Builder() {}

        /** The softening temperature T &gt; 0 (default 4). */
        public Builder temperature(double temperature) { this.temperature = temperature; return this; }

        /** The weight of the soft term, in [0, 1] (default 0.9); {@code 1 - alpha} weighs the labels. */
        public Builder alpha(double alpha) { this.alpha = alpha; return this; }

        public Builder ignoreIndex(int ignoreIndex) { this.ignoreIndex = ignoreIndex; return this; }

        public Builder reduction(Reduction reduction) { this.reduction = reduction; return this; }

        public DistillationLoss build() {
            Checks.requireTemperature("temperature", temperature);
            if (!(alpha >= 0 && alpha <= 1)) {
                throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
            }
            return new DistillationLoss(this);
        }
    }
}
