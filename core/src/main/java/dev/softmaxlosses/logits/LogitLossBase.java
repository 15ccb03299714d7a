package dev.softmaxlosses.logits;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LogitBatch;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.kernel.KernelProvider;
import dev.softmaxlosses.kernel.KernelSupport;
import dev.softmaxlosses.kernel.RowParallel;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The row driver every loss on logits runs on: validation, the ignore label, the reductions, rows in
 * parallel with a fixed reduction order (chunks of {@link RowParallel#CHUNK_ROWS}), the hand-over of
 * a long row's maximum ({@link CarriedMax}), the per-sample overflow rule and the optional outputs. A
 * loss writes one row's loss and gradient ({@link #row}), and may take a chunk of short rows at once
 * ({@link #block}).
 *
 * <p>The per-sample overflow rule lives here, once: a row's loss that is not a float32 number is an
 * error naming the sample, the value and what to lower ({@link #overflowCause}), checked in O(1) per
 * row. Gradient rows are scanned for overflow only when the parameters' bound on their entries
 * ({@link #gradientBound}) times the reduction's scale exceeds {@link Checks#SAFE_GRADIENT}, which
 * sensible parameters never do.
 */
abstract sealed class LogitLossBase implements LogitLoss
        permits SoftmaxCrossEntropyLoss, FocalLoss, DistillationLoss, HingeLoss {

    /** The label a row gets when it has none (ignored, or no labels given). */
    static final int NO_LABEL = -1;

    final int ignoreIndex;
    final Reduction reduction;

    LogitLossBase(int ignoreIndex, Reduction reduction) {
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

    /** The loss's own parameters as a spec writes them, in order, before {@code ignore_index} and {@code reduction}. */
    abstract void putOwnParameters(Map<String, String> p);

    @Override
    public final LossSpec spec() {
        Map<String, String> p = new LinkedHashMap<>();
        putOwnParameters(p);
        p.put("ignore_index", Integer.toString(ignoreIndex));
        p.put("reduction", reduction.specName());
        return new LossSpec(name(), p);
    }

    /**
     * Row n's loss, and its gradient times {@code p.gradScale} into {@code p.grad}. When {@code carried}
     * is not null the row also writes the next row's maximum (as {@link KernelSupport#max} gives it)
     * into {@code carried[0]}, inside one of its passes where it can ({@link #handOn} otherwise).
     *
     * @param rowMax the row's largest logit, already computed for its validation
     * @param label  the class, or {@link #NO_LABEL}
     */
    abstract double row(RowPass p, KernelSupport k, int n, float rowMax, int label, float[] carried);

    /** The chunk of rows {@code start .. end - 1} at once, or NaN, with nothing written, to go row by row. */
    double block(RowPass p, int start, int end) {
        return Double.NaN;
    }

    /** An upper bound on {@code |dl_n/dz_c|} for one sample, before the reduction's scale, from the parameters alone. */
    abstract double gradientBound(RowPass p);

    /** What to lower when the loss of row {@code n} is not a float32 number: by default the row's spread. */
    String overflowCause(RowPass p, int n, int label, double loss) {
        return "lower " + Checks.spreadOf("logits", p.z, p.cols, n);
    }

    /** What makes row n's gradient overflow, for the error. */
    String gradientCause(RowPass p, int n) {
        return "with " + spec() + (p.weights == null ? "" : " and class weights up to "
                + Checks.show(Checks.maxWeight(p.weights))) + " its entries can reach " + Checks.show(p.scanBound)
                + "; lower the parameters";
    }

    /** Whether a row without a label still has a loss (distillation's soft term, soft targets). */
    boolean trainsWithoutLabel(RowPass p) {
        return false;
    }

    /** Whether labels may be left out of a teacher's batch. */
    boolean labelsOptional() {
        return false;
    }

    /** Class weights given to the builder; null when the loss takes none or none were given. */
    float[] builderClassWeights() {
        return null;
    }

    @Override public boolean takesClassWeights() { return false; }

    @Override public boolean takes(Class<? extends LogitBatch.Target> kind) { return kind == LogitBatch.Labels.class; }

    /** The temperature that divides the logits before any exponential, checked against overflow. */
    double temperature() {
        return 1.0;
    }

    /** Whether a batch with too few classes is refused by name ({@link #minClasses}) rather than as empty rows. */
    boolean namesMinClasses() {
        return true;
    }

    /** The class weights in effect for a batch (class balancing adapts them); by default those given. */
    float[] effectiveWeights(int[] labels, int cols, float[] weights) {
        return weights;
    }

    /** What {@code p.gradScale} is, from the reduction's scale. */
    float gradScale(double scale) {
        return (float) scale;
    }

    /** The sum whose reciprocal scales {@code mean}: by default the count of non-ignored samples, or N. */
    double normaliser(RowPass p) {
        if (p.labels == null) {
            return p.rows;
        }
        int count = 0;
        for (int n = 0; n < p.rows; n++) {
            count += p.labels[n] != ignoreIndex ? 1 : 0;
        }
        return count;
    }

    /** Checks on soft targets beyond their shape (a loss that takes them); none by default. */
    void checkSoftTargets() {}

    /** The error for a masked class {@code c} of row n that the target gives weight to. */
    IllegalArgumentException maskedTarget(int n, int c, String why) {
        return Checks.maskedTarget("logits", n, c, why);
    }

    /** The logits that go into the row's softmax, into {@code out[outOff ..]}; by default the logits themselves. */
    void finalLogits(KernelSupport k, float[] z, int off, int cols, int label, float[] out, int outOff) {
        System.arraycopy(z, off, out, outOff, cols);
    }

    /**
     * Row n's optional outputs besides its loss: final logits, probabilities and log-sum-exp of the final
     * logits (the last also in the lean result, from a scratch row).
     */
    void outputs(RowPass p, KernelSupport k, int n, int label) {
        int off = n * p.cols;
        float[] rowOut = p.finalLogits != null ? p.finalLogits : Scratch.row(p.cols);
        int outOff = p.finalLogits != null ? off : 0;
        finalLogits(k, p.z, off, p.cols, label, rowOut, outOff);
        double lse = p.probabilities != null ? k.softmax(rowOut, outOff, p.probabilities, off, p.cols, 1f)
                : k.logSumExp(rowOut, outOff, p.cols, 1f);
        p.logSumExp[n] = (float) lse;
    }

    /** Writes the next row's maximum into {@code carried[0]} in a pass of its own, when there is a hand-over. */
    static void handOn(RowPass p, KernelSupport k, int n, float[] carried) {
        if (carried != null) {
            carried[0] = k.max(p.z, (n + 1) * p.cols, p.cols);
        }
    }

    @Override
    public double forwardBackward(float[] logits, int[] labels, int rows, int cols, float[] gradOut) {
        FloatMatrix.checkShape(Objects.requireNonNull(logits, "logits"), rows, cols);
        if (!takes(LogitBatch.Labels.class)) {
            throw new IllegalArgumentException(name() + " needs teacher_logits");
        }
        float[] weights = builderClassWeights();
        validate(logits, rows, cols, labels, null, null, weights);
        requireLength("gradOut", gradOut, logits.length);
        RowPass p = RowPass.own();
        try {
            p.z = logits;
            p.labels = labels;
            p.grad = gradOut;
            return run(p, rows, cols, weights);
        } finally {
            p.clear();
        }
    }

    @Override
    public void compute(LogitBatch batch, LossResult out) {
        Objects.requireNonNull(batch, "batch");
        Objects.requireNonNull(out, "out");
        FloatMatrix z = batch.logits();
        LogitBatch.Target target = batch.target();
        if (!takes(target.getClass())) {
            throw new IllegalArgumentException(takes(LogitBatch.Teacher.class) ? name() + " needs teacher_logits"
                    : name() + " does not take " + target.field());
        }
        if (batch.classWeights() != null && !takesClassWeights()) {
            throw new IllegalArgumentException(name() + " does not take class_weights");
        }
        if (batch.classWeights() != null && builderClassWeights() != null) {
            throw new IllegalArgumentException("class_weights are given both to the loss and in the input; give them once");
        }
        float[] weights = batch.classWeights() != null ? batch.classWeights() : builderClassWeights();
        FloatMatrix teacher = target instanceof LogitBatch.Teacher t ? t.logits() : null;
        FloatMatrix targets = target instanceof LogitBatch.SoftTargets t ? t.targets() : null;
        if (teacher != null) {
            Checks.requireShape("teacher_logits", teacher, z.rows(), z.cols(), "the shape of logits");
        }
        validate(z.data(), z.rows(), z.cols(), target.labelsOrNull(), teacher, targets, weights);
        Checks.requireLogitBuffers(out, z);
        RowPass p = RowPass.own();
        try {
            p.z = z.data();
            p.teacher = teacher == null ? null : teacher.data();
            p.targets = targets == null ? null : targets.data();
            p.labels = target.labelsOrNull();
            p.grad = out.gradLogits();
            p.losses = out.losses();
            p.logSumExp = out.logSumExp();
            p.finalLogits = out.hasPerClassOutputs() ? out.logits() : null;
            p.probabilities = out.hasPerClassOutputs() ? out.probabilities() : null;
            out.setLoss(reduction, run(p, z.rows(), z.cols(), weights));
        } finally {
            p.clear();
        }
    }

    private void validate(float[] z, int rows, int cols, int[] labels, FloatMatrix teacher, FloatMatrix targets,
                          float[] weights) {
        if (namesMinClasses() && rows > 0 && cols < minClasses()) {
            throw new IllegalArgumentException(name() + " needs at least " + minClasses() + " classes, got " + cols);
        }
        Checks.requireClasses("logits", rows, cols);
        if (labels == null && targets == null && !labelsOptional()) {
            throw new IllegalArgumentException(name() + " needs labels");
        }
        if (targets != null) {
            Checks.requireShape("targets", targets, rows, cols, "the shape of logits");
            checkSoftTargets();
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
        // The logits' NaN, +Infinity and mask checks ride on each row's maximum as the row is reached;
        // a teacher's or soft targets' masks are checked here, against the logits.
        if (targets != null) {
            Checks.requireNoNaNOrPositiveInfinity("logits", z, rows, cols);
            Checks.requireNonNegative("targets", targets);
        }
        for (int n = 0; (teacher != null || targets != null) && n < rows; n++) {
            if (teacher != null) {
                Checks.requireUnmaskedClass("teacher_logits", teacher, n);
            } else {
                Checks.requireUnmaskedClass("logits", z, cols, n);
            }
            for (int c = 0; c < cols; c++) {
                if (z[n * cols + c] == Float.NEGATIVE_INFINITY) {
                    requireNoMass(n, c, teacher, targets);
                }
            }
        }
    }

    private void requireNoMass(int n, int c, FloatMatrix teacher, FloatMatrix targets) {
        if (teacher != null && teacher.get(n, c) != Float.NEGATIVE_INFINITY) {
            throw maskedTarget(n, c, "teacher_logits[" + n + "][" + c + "] = " + Checks.show(teacher.get(n, c))
                    + " gives it probability");
        }
        if (targets != null && (targets.get(n, c) > 0 || labelSmoothing() > 0)) {
            throw maskedTarget(n, c, "targets[" + n + "][" + c + "] = " + Checks.show(targets.get(n, c)) + " gives it weight");
        }
    }

    /** The label smoothing, which gives every class a share of the target; 0 by default. */
    float labelSmoothing() {
        return 0f;
    }

    static void requireLength(String name, float[] buffer, int length) {
        if (buffer == null || buffer.length != length) {
            throw new IllegalArgumentException(name + " must have " + length + " values, got "
                    + (buffer == null ? "null" : Integer.toString(buffer.length)));
        }
    }

    /** Computes every row of the pass, whose arrays are set; returns the reduced loss. */
    private double run(RowPass p, int rows, int cols, float[] givenWeights) {
        p.rows = rows;
        p.cols = cols;
        p.weights = p.labels == null ? givenWeights : effectiveWeights(p.labels, cols, givenWeights);
        p.weightSum = p.weights == null ? cols : sum(p.weights);
        double normaliser = normaliser(p);
        p.scale = reduction != Reduction.MEAN ? 1.0 : normaliser > 0 ? 1.0 / normaliser : 0.0;
        p.gradScale = gradScale(p.scale);
        double bound = gradientBound(p) * p.scale;
        p.scanBound = bound > Checks.SAFE_GRADIENT || Float.isInfinite(p.gradScale) ? bound : 0;
        prepare(p);
        double total;
        if (RowParallel.parallel(rows, cols)) {
            total = RowParallel.sumChunks(rows, (start, end) -> chunk(p.copy(), start, end), true);
        } else {
            // The same chunked order as RowParallel, without a lambda: the hot path allocates nothing.
            total = 0;
            for (int start = 0; start < rows; start += RowParallel.CHUNK_ROWS) {
                total += chunk(p, start, Math.min(rows, start + RowParallel.CHUNK_ROWS));
            }
        }
        return reduction == Reduction.MEAN ? total * p.scale : total;
    }

    /** Sets what a loss's rows need beyond the pass's arrays and scales (its kernel frame); nothing by default. */
    void prepare(RowPass p) {}

    private double chunk(RowPass p, int start, int end) {
        double part = block(p, start, end);
        if (part == part) {
            return part;
        }
        part = 0;
        for (int n = start; n < end; n++) {
            part += sample(p, n);
        }
        return part;
    }

    /** One row: its checks, its loss and gradient, the overflow rule and the optional outputs. */
    private double sample(RowPass p, int n) {
        KernelSupport k = KernelProvider.get();
        int cols = p.cols;
        int off = n * cols;
        int label = p.labels == null || p.labels[n] == ignoreIndex ? NO_LABEL : p.labels[n];
        float[] slot = CarriedMax.slot(cols);
        float rowMax = CarriedMax.rowMax(k, slot, p.z, n, cols);
        float[] carried = CarriedMax.handOn(slot, n, p.rows);
        Checks.requireValidRow("logits", p.z, cols, n, rowMax);
        if (label != NO_LABEL && p.z[off + label] == Float.NEGATIVE_INFINITY) {
            throw maskedTarget(n, label, "it is the target class of sample " + n);
        }
        double loss;
        p.lseWritten = false;
        if (label == NO_LABEL && !trainsWithoutLabel(p)) {
            Arrays.fill(p.grad, off, off + cols, 0f);
            handOn(p, k, n, carried);
            loss = 0;
        } else {
            loss = row(p, k, n, rowMax, label, carried);
        }
        finish(p, k, n, label, loss);
        return loss;
    }

    /** Row n after its loss and gradient are written: the overflow rule, then the optional outputs. */
    final void finish(RowPass p, KernelSupport k, int n, int label, double loss) {
        if (!Checks.isFloat32(loss)) {
            throw Checks.lossOverflow(n, loss, overflowCause(p, n, label, loss));
        }
        int bad = p.scanBound > 0 ? Checks.indexOfNonFinite(p.grad, n * p.cols, p.cols) : -1;
        if (bad >= 0) {
            throw Checks.gradientOverflow(n, bad, p.grad[n * p.cols + bad], gradientCause(p, n));
        }
        if (p.losses != null) {
            p.losses[n] = (float) loss;
            outputs(p, k, n, label);
        }
    }

    static double sum(float[] values) {
        return sum(values, 0, values.length);
    }

    static double sum(float[] values, int off, int len) {
        double s = 0;
        for (int i = off; i < off + len; i++) {
            s += values[i];
        }
        return s;
    }

    /** The value of a parameter as a spec string writes it. */
    static String show(double value) {
        return Float.toString((float) value);
    }
}
