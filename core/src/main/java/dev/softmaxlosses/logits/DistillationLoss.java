package dev.softmaxlosses.logits;

import dev.softmaxlosses.LogitBatch;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.kernel.KernelSupport;

import java.util.List;
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
public final class DistillationLoss extends LogitLossBase {

    public static final String NAME = "distillation";

    private final float temperature;
    private final double alpha;
    private final SoftSoftmaxTerm softTerm;

    private DistillationLoss(Builder b) {
        super(b.ignoreIndex, b.reduction);
        this.temperature = (float) b.temperature;
        this.alpha = b.alpha;
        this.softTerm = new SoftSoftmaxTerm(alpha, temperature);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public double temperature() { return temperature; }

    public double alpha() { return alpha; }

    @Override String name() { return NAME; }

    @Override public boolean takes(Class<? extends LogitBatch.Target> kind) { return kind == LogitBatch.Teacher.class; }

    @Override boolean trainsWithoutLabel(RowPass p) { return true; }

    @Override boolean labelsOptional() { return alpha == 1; }

    @Override double normaliser(RowPass p) { return p.rows; }

    @Override double gradientBound(RowPass p) { return alpha * temperature + (1 - alpha); }

    @Override
    String overflowCause(RowPass p, int n, int label, double loss) {
        float[] z = p.z;
        float[] teacher = p.teacher;
        int cols = p.cols;
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
    void putOwnParameters(Map<String, String> p) {
        p.put("temperature", show(temperature));
        p.put("alpha", show(alpha));
    }

    @Override
    void finalLogits(KernelSupport k, float[] z, int off, int cols, int label, float[] out, int outOff) {
        k.scaleShift(z, off, out, outOff, cols, 1f / temperature, 0f);
    }

    @Override
    double row(RowPass p, KernelSupport k, int n, float rowMax, int label, float[] carried) {
        handOn(p, k, n, carried);
        int off = n * p.cols;
        double loss = alpha > 0 ? softTerm.apply(p.z, p.teacher, off, p.cols, p.gradScale, p.grad) : 0;
        if (alpha == 0) {
            java.util.Arrays.fill(p.grad, off, off + p.cols, 0f);
        }
        if (alpha < 1 && label != NO_LABEL) {
            float[] exps = Scratch.row(p.cols);
            double sum = k.expSum(p.z, off, p.cols, 1f, rowMax, exps, 0);
            loss += (1 - alpha) * (((double) rowMax - p.z[off + label]) + Math.log(sum));
            double hard = (1 - alpha) * p.gradScale;
            k.scaleAddScaledInPlace(p.grad, off, p.cols, 1f, exps, 0, (float) (hard / sum));
            p.grad[off + label] -= (float) hard;
        }
        return loss;
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
