package dev.softmaxlosses.logits;

import dev.softmaxlosses.LossRegistry.LossDefinition;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.kernel.KernelSupport;

import java.util.LinkedHashMap;
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
 * The {@code T^2} keeps the soft term's gradient on the scale of the hard term's as T changes. An
 * ignored label drops the hard term only: the soft term still counts, so unlabelled data can be
 * distilled. No gradient flows to the teacher. The final logits are {@code student / T}, so
 * {@code probabilities} are {@code qs}; {@link dev.softmaxlosses.Softmax#softmax} gives the soft
 * softmax of any logits.
 *
 * <p><b>Inputs:</b> {@code logits} (the student's, {@code N x C}), {@code teacher_logits} (same
 * shape), {@code labels} (needed when {@code alpha < 1}). <b>Parameters</b> (spec
 * {@code distillation}): {@code temperature} T &gt; 0 (4), {@code alpha} in [0, 1] (0.9),
 * {@code ignore_index} (-100), {@code reduction} (mean over all N samples). A class the student
 * masks ({@code -Infinity}) must be masked by the teacher too. Related: {@code softmax_cross_entropy}
 * with soft targets and {@code temperature}.
 *
 * @throws IllegalArgumentException for a bad input, naming array, row, column and value
 */
public final class DistillationLoss extends LabelLogitLoss {

    public static final String NAME = "distillation";

    public static final LossDefinition DEFINITION = new LossDefinition(NAME,
            "knowledge distillation: alpha T^2 KL(teacher || student at temperature T) + (1 - alpha) CE",
            List.of("temperature", "alpha", "ignore_index", "reduction"),
            p -> builder()
                    .temperature(p.getDouble("temperature", 4))
                    .alpha(p.getDouble("alpha", 0.9))
                    .ignoreIndex(p.getInt("ignore_index", -100))
                    .reduction(p.getEnum("reduction", Reduction.class, Reduction.MEAN))
                    .build());

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
        float invT = 1f / temperature;
        double loss = 0;
        if (alpha > 0) {
            // pt and qs as exp(x / T - max / T) / S, shifted by the row maximum (exact) rather than by a
            // rounded log-sum-exp, and built the same way so that a student equal to its teacher gets a
            // gradient of exactly 0. grad <- the teacher's exponentials first, for
            // KL(pt || qs) = sum_c pt_c (log pt_c - log qs_c), where pt_c = 0 contributes nothing.
            float teacherShift = k.max(teacher, off, cols) * invT;
            double teacherSum = k.expSum(teacher, off, cols, invT, teacherShift, grad, off);
            float studentShift = rowMax * invT;
            double studentSum = k.expSum(z, off, cols, invT, studentShift, null, 0);
            double logRatio = Math.log(studentSum) - Math.log(teacherSum);
            double kl = 0;
            for (int c = off; c < off + cols; c++) {
                if (grad[c] > 0) {
                    double logPt = (double) (teacher[c] * invT) - teacherShift;
                    double logQs = (double) (z[c] * invT) - studentShift;
                    kl += grad[c] / teacherSum * (logPt - logQs + logRatio);
                }
            }
            loss += alpha * temperature * temperature * kl;
            double soft = alpha * temperature * gradScale;
            k.scaleAddInPlace(grad, off, cols, (float) (-soft / teacherSum), 0f);
            k.addScaledExp(z, off, cols, invT, studentShift, (float) (soft / studentSum), grad, off);
        } else {
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
