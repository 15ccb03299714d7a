package dev.softmaxlosses.logits;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.kernel.KernelProvider;
import dev.softmaxlosses.kernel.KernelSupport;
import dev.softmaxlosses.kernel.RowParallel;

import java.util.Arrays;
import java.util.Objects;

/**
 * What the losses on logits with hard labels share: validation, the ignore label, the reductions
 * (the normaliser of {@code mean} is the count of non-ignored samples), rows in parallel with a
 * fixed reduction order, and the outputs (final logits, their softmax and log-sum-exp). A subclass
 * writes one row's loss and gradient.
 *
 * <p>The per-sample overflow rule lives here, once: a row's loss that is not a float32 number is an
 * error naming the sample, the value and what to lower ({@link #overflowCause}), checked in O(1) per
 * row. Gradient rows are scanned for overflow only when the parameters' bound on their entries
 * ({@link #gradientBound}) times the reduction's scale exceeds {@link Checks#SAFE_GRADIENT}, which
 * sensible parameters never do.
 */
abstract sealed class LabelLogitLoss implements LogitLoss
        permits FocalLoss, DistillationLoss, HingeLoss {

    /** The label a row gets when it has none (ignored, or no labels given). */
    static final int NO_LABEL = -1;

    final int ignoreIndex;
    final Reduction reduction;

    LabelLogitLoss(int ignoreIndex, Reduction reduction) {
        if (reduction == null) {
            throw new IllegalArgumentException("reduction must not be null");
        }
        this.ignoreIndex = ignoreIndex;
        this.reduction = reduction;
    }

    public int ignoreIndex() { return ignoreIndex; }
    public Reduction reduction() { return reduction; }

    /** The spec name, for messages. */
    abstract String name();

    /**
     * One row's loss, and its gradient times {@code gradScale} into {@code grad[off, off + cols)}.
     *
     * @param teacher the teacher's logits (distillation), else null
     * @param rowMax  the row's largest logit, already computed for its validation
     * @param label   the class, or {@link #NO_LABEL}
     * @param weights per-class weights, or null
     */
    abstract double row(KernelSupport k, float[] z, float[] teacher, int off, int cols, float rowMax, int label,
                        float[] weights, float gradScale, float[] grad);

    /**
     * {@link #row}, and the maximum of the next row (at {@code nextOff}, as {@link KernelSupport#max}
     * gives it) into {@code nextMaxOut[0]}, for long rows ({@link CarriedMax}). A loss overrides it to
     * read that maximum inside one of this row's passes; here it is a pass of its own.
     */
    double row(KernelSupport k, float[] z, float[] teacher, int off, int cols, float rowMax, int label,
               float[] weights, float gradScale, float[] grad, int nextOff, float[] nextMaxOut) {
        nextMaxOut[0] = k.max(z, nextOff, cols);
        return row(k, z, teacher, off, cols, rowMax, label, weights, gradScale, grad);
    }

    /**
     * An upper bound on {@code |dl_n/dz_c|} for one sample, before the reduction's scale, from the
     * parameters, the class weights and the number of classes alone (never the logits).
     */
    abstract double gradientBound(int cols, float[] weights);

    /**
     * What to lower when the loss of row {@code n} is not a float32 number, for the error: by
     * default the row's spread. A loss whose parameter multiplies the loss names it instead when that
     * parameter, not the input, is the cause.
     */
    String overflowCause(float[] z, float[] teacher, int n, int cols, int label, float[] weights, double loss) {
        return "lower " + Checks.spreadOf("logits", z, cols, n);
    }

    /** The fewest classes the loss is defined for. */
    int minClasses() {
        return 1;
    }

    /** Whether a row without a label still has a loss (distillation's soft term). */
    boolean trainsWithoutLabel() {
        return false;
    }

    /** Whether labels may be left out. */
    boolean labelsOptional() {
        return false;
    }

    /** Class weights given to the builder; null when the loss takes none or none were given. */
    float[] builderClassWeights() {
        return null;
    }

    /** Whether the input may carry {@code class_weights}. */
    boolean takesClassWeights() {
        return false;
    }

    /** Whether the input must carry {@code teacher_logits}. */
    boolean takesTeacher() {
        return false;
    }

    /** The temperature that divides the logits before any exponential, checked against overflow. */
    double temperature() {
        return 1.0;
    }

    /** The logits that go into the row's softmax; by default the logits themselves. */
    void finalLogits(KernelSupport k, float[] z, int off, int cols, int label, float[] out) {
        System.arraycopy(z, off, out, off, cols);
    }

    /** The sum whose reciprocal scales {@code mean}: the count of non-ignored samples. */
    double normaliser(int[] labels, int rows) {
        int count = 0;
        for (int n = 0; n < rows; n++) {
            if (labels[n] != ignoreIndex) {
                count++;
            }
        }
        return count;
    }

    /**
     * The hot path: hard labels, gradient into a caller-owned buffer, nothing allocated below the
     * parallel threshold. Each row's values are checked on its maximum as it is reached, so after
     * such an error the gradient rows before the bad one have been written.
     *
     * @return the reduced loss (for {@link Reduction#NONE}, the sum of the per-sample losses)
     */
    public double forwardBackward(float[] logits, int[] labels, int rows, int cols, float[] gradOut) {
        FloatMatrix.checkShape(Objects.requireNonNull(logits, "logits"), rows, cols);
        validate(logits, rows, cols, labels, null, builderClassWeights());
        if (gradOut == null || gradOut.length != logits.length) {
            throw new IllegalArgumentException("gradOut must have " + logits.length + " values, got "
                    + (gradOut == null ? "null" : Integer.toString(gradOut.length)));
        }
        return run(logits, null, rows, cols, labels, builderClassWeights(), gradOut, null);
    }

    @Override
    public void compute(LossInput input, LossResult out) {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(out, "out");
        FloatMatrix z = Checks.require(name(), "logits", input.logits());
        Checks.forbid(name(), "targets", input.targets());
        Checks.forbid(name(), "features", input.features());
        Checks.forbid(name(), "weights", input.weights());
        if (!takesTeacher()) {
            Checks.forbid(name(), "teacher_logits", input.teacherLogits());
        }
        if (!takesClassWeights()) {
            Checks.forbid(name(), "class_weights", input.classWeights());
        } else if (input.classWeights() != null && builderClassWeights() != null) {
            throw new IllegalArgumentException("class_weights are given both to the loss and in the input; give them once");
        }
        float[] weights = input.classWeights() != null ? input.classWeights() : builderClassWeights();
        FloatMatrix teacher = null;
        if (takesTeacher()) {
            teacher = Checks.require(name(), "teacher_logits", input.teacherLogits());
            Checks.requireShape("teacher_logits", teacher, z.rows(), z.cols(), "the shape of logits");
        }
        validate(z.data(), z.rows(), z.cols(), input.labels(), teacher, weights);
        Checks.requireLogitBuffers(out, z);
        double loss = run(z.data(), teacher == null ? null : teacher.data(), z.rows(), z.cols(), input.labels(),
                weights, out.gradLogits(), out);
        out.setLoss(reduction, loss);
    }

    private void validate(float[] z, int rows, int cols, int[] labels, FloatMatrix teacher, float[] weights) {
        if (rows > 0 && cols < minClasses()) {
            throw new IllegalArgumentException(name() + " needs at least " + minClasses() + " classes, got " + cols);
        }
        Checks.requireClasses("logits", rows, cols);
        if (labels == null && !labelsOptional()) {
            throw new IllegalArgumentException(name() + " needs labels");
        }
        if (weights != null) {
            Checks.requireClassWeights(weights, cols);
        }
        Checks.requireNoOverflow("logits", z, cols, temperature());
        if (teacher != null) {
            Checks.requireNoNaNOrPositiveInfinity("teacher_logits", teacher);
            Checks.requireNoOverflow("teacher_logits", teacher, temperature());
        }
        if (labels != null) {
            Checks.requireLabels(labels, rows, cols, ignoreIndex, "logits");
        }
        // The logits' NaN, +Infinity and mask checks ride on each row's maximum as the row is reached.
        for (int n = 0; teacher != null && n < rows; n++) {
            Checks.requireUnmaskedClass("teacher_logits", teacher, n);
            for (int c = 0; c < cols; c++) {
                if (z[n * cols + c] == Float.NEGATIVE_INFINITY && teacher.get(n, c) != Float.NEGATIVE_INFINITY) {
                    throw Checks.maskedTarget("logits", n, c, "teacher_logits[" + n + "][" + c + "] = "
                            + Checks.show(teacher.get(n, c)) + " gives it probability");
                }
            }
        }
    }

    /** Computes every row; {@code out} (final logits, probabilities, log-sum-exp, losses) may be null. */
    private double run(float[] z, float[] teacher, int rows, int cols, int[] labels, float[] weights, float[] grad,
                       LossResult out) {
        double normaliser = labels == null ? rows : normaliser(labels, rows);
        double scale = reduction != Reduction.MEAN ? 1.0 : normaliser > 0 ? 1.0 / normaliser : 0.0;
        float gradScale = (float) scale;
        double gradientBound = gradientBound(cols, weights) * scale;
        boolean scan = gradientBound > Checks.SAFE_GRADIENT;
        double total;
        if (RowParallel.parallel(rows, cols)) {
            total = RowParallel.sum(rows, n -> sample(n, z, teacher, rows, cols, labels, weights, gradScale, grad, out,
                    scan ? gradientBound : 0), true);
        } else {
            // The same chunked order as RowParallel.sum, without a lambda: the hot path allocates nothing.
            total = 0;
            for (int start = 0; start < rows; start += RowParallel.CHUNK_ROWS) {
                double part = 0;
                for (int n = start, end = Math.min(rows, start + RowParallel.CHUNK_ROWS); n < end; n++) {
                    part += sample(n, z, teacher, rows, cols, labels, weights, gradScale, grad, out,
                            scan ? gradientBound : 0);
                }
                total += part;
            }
        }
        return reduction == Reduction.MEAN ? total * scale : total;
    }

    /** One row; {@code scanBound} is the bound on its gradient entries when they are to be scanned, else 0. */
    private double sample(int n, float[] z, float[] teacher, int rows, int cols, int[] labels, float[] weights,
                          float gradScale, float[] grad, LossResult out, double scanBound) {
        KernelSupport k = KernelProvider.get();
        int off = n * cols;
        int label = labels == null || labels[n] == ignoreIndex ? NO_LABEL : labels[n];
        float[] slot = CarriedMax.slot(cols);
        float rowMax = CarriedMax.rowMax(k, slot, z, n, cols);
        float[] carried = CarriedMax.handOn(slot, n, rows);
        Checks.requireValidRow("logits", z, cols, n, rowMax);
        if (label != NO_LABEL && z[off + label] == Float.NEGATIVE_INFINITY) {
            throw Checks.maskedTarget("logits", n, label, "it is the target class of sample " + n);
        }
        double loss;
        if (label == NO_LABEL && !trainsWithoutLabel()) {
            Arrays.fill(grad, off, off + cols, 0f);
            if (carried != null) {
                carried[0] = k.max(z, off + cols, cols);
            }
            loss = 0;
        } else if (carried != null) {
            loss = row(k, z, teacher, off, cols, rowMax, label, weights, gradScale, grad, off + cols, carried);
        } else {
            loss = row(k, z, teacher, off, cols, rowMax, label, weights, gradScale, grad);
        }
        if (!Checks.isFloat32(loss)) {
            throw Checks.lossOverflow(n, loss, overflowCause(z, teacher, n, cols, label, weights, loss));
        }
        int bad = scanBound > 0 ? Checks.indexOfNonFinite(grad, off, cols) : -1;
        if (bad >= 0) {
            throw Checks.gradientOverflow(n, bad, grad[off + bad], "with " + spec()
                    + (weights == null ? "" : " and class weights up to " + Checks.show(Checks.maxWeight(weights)))
                    + " its entries can reach " + Checks.show(scanBound) + "; lower the parameters");
        }
        if (out != null) {
            out.losses()[n] = (float) loss;
            finalLogits(k, z, off, cols, label, out.logits());
            out.logSumExp()[n] = (float) k.softmax(out.logits(), off, out.probabilities(), off, cols, 1f);
        }
        return loss;
    }

    /** The value of a parameter as a spec string writes it. */
    static String show(double value) {
        return Float.toString((float) value);
    }
}
