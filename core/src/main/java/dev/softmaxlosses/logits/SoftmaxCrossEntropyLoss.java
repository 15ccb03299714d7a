package dev.softmaxlosses.logits;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.LossInput;
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
 * The softmax loss (softmax cross-entropy), fused forward and backward, with temperature, label
 * smoothing, class weights, batch class balancing, soft targets and an ignore label.
 *
 * <pre>
 *   z' = z / T                       (the final logits)
 *   p  = softmax(z')
 *   q  = (1 - eps) t + eps / C       (t = one-hot(y), or the soft targets)
 *   l_n = - sum_c w_c q_c log p_c
 *   dl_n/dz_c = (p_c sum_k w_k q_k - w_c q_c) / T
 * </pre>
 *
 * With {@code eps = 0}, no weights and {@code T = 1} the gradient is {@code p - y}. Softmax and
 * cross-entropy are computed together, from the row maximum, so that nothing overflows for logits of
 * any magnitude (Caffe's SoftmaxWithLoss layer does the same for the same reason).
 *
 * <p><b>Inputs.</b> {@code logits} ({@code N x C}) with {@code labels} ({@code N}, in {@code [0, C)}
 * or the ignore index) or {@code targets} ({@code N x C}, non-negative; they need not sum to 1, as in
 * PyTorch); optional {@code class_weights} ({@code C}, non-negative), given either to the builder or
 * in the input. {@code -Infinity} logits mask a class: a masked class that the target gives weight to
 * (the label, a soft target, or every class under label smoothing) is an error, as is a row whose
 * every class is masked.
 *
 * <p><b>Parameters</b> (spec name {@code softmax_cross_entropy}): {@code temperature} T &gt; 0 (1),
 * {@code label_smoothing} eps in [0, 1) (0), {@code class_balance} {@code none} | {@code batch}
 * ({@code none}; HED-style: multiplies {@code w_c} by {@code 1 - n_c / n_valid}, the share of the
 * batch's valid samples not of class c; needs hard labels), {@code ignore_index} (-100),
 * {@code reduction} (mean).
 *
 * <p><b>Mean.</b> With hard labels the normaliser is the sum of the (balanced) weights of the
 * non-ignored samples' labels, as in PyTorch; with soft targets it is {@code N}. A normaliser of 0
 * gives a loss of 0 and an all-zero gradient.
 *
 * <p><b>Overflow.</b> A per-sample loss beyond the float32 range is an error naming the sample, its
 * value and what to lower (the row's spread, a class weight, the temperature or the soft targets);
 * it is checked in O(1) per row. The gradient rows are scanned for overflow only when
 * {@code 2 max(w) scale / T} exceeds half the float32 range (and with soft targets, which are not
 * bounded), so the hot path makes no extra pass over the logits.
 *
 * <p>References: Bridle 1990 (softmax); Szegedy et al. 2016, "Rethinking the Inception
 * Architecture" (label smoothing); Xie and Tu 2015, "Holistically-Nested Edge Detection" (class
 * balancing); Hinton et al. 2015 (temperature). Related: {@code focal}, {@code distillation},
 * {@code softplus_lse}, and every margin loss, which end in this loss.
 *
 * @throws IllegalArgumentException from every method, for a bad input, naming array, row, column and value
 */
public final class SoftmaxCrossEntropyLoss implements LogitLoss {

    /** The spec name. */
    public static final String NAME = "softmax_cross_entropy";

    /** How the per-class weights adapt to the batch. */
    public enum ClassBalance {
        /** The weights as given. */
        NONE,
        /** HED-style: each class's weight times the share of the batch's valid samples not of that class. */
        BATCH
    }

    private final float temperature;
    private final float labelSmoothing;
    private final ClassBalance classBalance;
    private final int ignoreIndex;
    private final Reduction reduction;
    private final float[] classWeights;

    /** A row of final logits per thread, for the rows that {@link KernelSupport#needsFinalLogits need them}. */
    private static final ThreadLocal<float[][]> FINAL_ROW = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    /** The per-row losses of a block of short rows, per thread. */
    private static final ThreadLocal<double[]> BLOCK_LOSSES =
            ThreadLocal.withInitial(() -> new double[RowParallel.CHUNK_ROWS]);

    private SoftmaxCrossEntropyLoss(Builder b) {
        this.temperature = (float) b.temperature;
        this.labelSmoothing = (float) b.labelSmoothing;
        this.classBalance = b.classBalance;
        this.ignoreIndex = b.ignoreIndex;
        this.reduction = b.reduction;
        this.classWeights = b.classWeights;
    }

    /** The plain softmax loss: {@code T = 1}, no smoothing, no weights, mean over the batch. */
    public static SoftmaxCrossEntropyLoss create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public float temperature() { return temperature; }
    public float labelSmoothing() { return labelSmoothing; }
    public ClassBalance classBalance() { return classBalance; }
    public int ignoreIndex() { return ignoreIndex; }
    public Reduction reduction() { return reduction; }

    @Override
    public LossSpec spec() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("temperature", Float.toString(temperature));
        p.put("label_smoothing", Float.toString(labelSmoothing));
        p.put("class_balance", classBalance.name().toLowerCase(java.util.Locale.ROOT));
        p.put("ignore_index", Integer.toString(ignoreIndex));
        p.put("reduction", reduction.specName());
        return new LossSpec(NAME, p);
    }

    /**
     * The hot path: hard labels, gradient into a caller-owned buffer, nothing allocated (below the
     * parallel threshold). Shapes, parameters and labels are checked before anything is computed; each
     * row's values (NaN, {@code +Infinity}, masks) are checked on the row's own maximum as it is
     * reached, so after such an error the gradient rows before the bad one have been written.
     *
     * @param logits  {@code rows x cols} row-major logits
     * @param labels  {@code rows} labels
     * @param gradOut receives the gradient of the returned value, {@code rows x cols}
     * @return the reduced loss (for {@link Reduction#NONE}, the sum of the per-sample losses)
     */
    public double forwardBackward(float[] logits, int[] labels, int rows, int cols, float[] gradOut) {
        return forwardBackward(logits, labels, rows, cols, null, gradOut);
    }

    /**
     * As {@link #forwardBackward(float[], int[], int, int, float[])}, also writing the per-sample
     * losses into {@code lossesOut} ({@code rows} values; may be null).
     */
    public double forwardBackward(float[] logits, int[] labels, int rows, int cols, float[] lossesOut, float[] gradOut) {
        FloatMatrix.checkShape(Objects.requireNonNull(logits, "logits"), rows, cols);
        validate(logits, rows, cols, labels, null, classWeights);
        requireLength("gradOut", gradOut, logits.length);
        if (lossesOut != null) {
            requireLength("lossesOut", lossesOut, rows);
        }
        return run(logits, rows, cols, labels, null, classWeights, lossesOut, gradOut, null, null, null);
    }

    @Override
    public void compute(LossInput input, LossResult out) {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(out, "out");
        FloatMatrix z = Checks.require(NAME, "logits", input.logits());
        Checks.forbid(NAME, "teacher_logits", input.teacherLogits());
        Checks.forbid(NAME, "features", input.features());
        Checks.forbid(NAME, "weights", input.weights());
        if (input.classWeights() != null && classWeights != null) {
            throw new IllegalArgumentException("class_weights are given both to the loss and in the input; give them once");
        }
        float[] weights = input.classWeights() != null ? input.classWeights() : classWeights;
        validate(z.data(), z.rows(), z.cols(), input.labels(), input.targets(), weights);
        Checks.requireLogitBuffers(out, z);
        double loss = run(z.data(), z.rows(), z.cols(), input.labels(), input.targets(), weights,
                out.losses(), out.gradLogits(), out.logits(), out.probabilities(), out.logSumExp());
        out.setLoss(reduction, loss);
    }

    private void validate(float[] z, int rows, int cols, int[] labels, FloatMatrix targets, float[] weights) {
        Checks.requireClasses("logits", rows, cols);
        if (labels == null && targets == null) {
            throw new IllegalArgumentException(NAME + " needs labels or targets");
        }
        if (labels != null && targets != null) {
            throw new IllegalArgumentException(NAME + " takes labels or targets, not both");
        }
        if (targets != null) {
            Checks.requireShape("targets", targets, rows, cols, "the shape of logits");
            if (classBalance == ClassBalance.BATCH) {
                throw new IllegalArgumentException("class_balance=batch needs hard labels, not soft targets");
            }
        }
        if (weights != null) {
            Checks.requireClassWeights(weights, cols);
        }
        Checks.requireNoOverflow("logits", z, cols, temperature);
        if (targets == null) {
            // Hard labels: each row's NaN, +Infinity and mask checks ride on its maximum in the kernel pass.
            Checks.requireLabels(labels, rows, cols, ignoreIndex, "logits");
            return;
        }
        Checks.requireNoNaNOrPositiveInfinity("logits", z, rows, cols);
        Checks.requireNonNegative("targets", targets);
        for (int n = 0; n < rows; n++) {
            Checks.requireUnmaskedClass("logits", z, cols, n);
            for (int c = 0; c < cols; c++) {
                if (z[n * cols + c] == Float.NEGATIVE_INFINITY) {
                    requireNoTargetMass(n, c, labels, targets);
                }
            }
        }
    }

    /** A masked class must get no share of the target, or the loss would be infinite. */
    private void requireNoTargetMass(int n, int c, int[] labels, FloatMatrix targets) {
        if (labelSmoothing > 0) {
            throw Checks.maskedTarget("logits", n, c, "label_smoothing = " + labelSmoothing
                    + " gives every class a share of the target");
        }
        if (targets == null && labels[n] == c) {
            throw Checks.maskedTarget("logits", n, c, "it is the target class of sample " + n);
        }
        if (targets != null && targets.get(n, c) > 0) {
            throw Checks.maskedTarget("logits", n, c, "targets[" + n + "][" + c + "] = "
                    + Checks.show(targets.get(n, c)) + " gives it weight");
        }
    }

    private static void requireLength(String name, float[] buffer, int length) {
        if (buffer == null || buffer.length != length) {
            throw new IllegalArgumentException(name + " must have " + length + " values, got "
                    + (buffer == null ? "null" : Integer.toString(buffer.length)));
        }
    }

    private double run(float[] z, int rows, int cols, int[] labels, FloatMatrix targets, float[] givenWeights,
                       float[] losses, float[] grad, float[] finalLogits, float[] probabilities, float[] lse) {
        float[] weights = classBalance == ClassBalance.BATCH ? balancedWeights(labels, cols, givenWeights) : givenWeights;
        double normaliser = targets != null ? rows : labelWeightSum(labels, weights);
        double scale = reduction != Reduction.MEAN ? 1.0 : normaliser > 0 ? 1.0 / normaliser : 0.0;
        float gradScale = (float) (scale / temperature);
        double weightSum = weights == null ? cols : sum(weights);
        float[] t = targets == null ? null : targets.data();
        // |gradient entry| <= (p_c sum_k w_k q_k + w_c q_c) scale / T <= 2 max(w) scale / T with hard labels;
        // the kernels take scale / T as a float, which tiny weights (a tiny mean's normaliser) can overflow.
        double bound = 2 * Checks.maxWeight(weights) * (scale / temperature);
        boolean scan = targets != null || bound > Checks.SAFE_GRADIENT || Float.isInfinite(gradScale);
        // What makes a gradient overflow, for the error; built only for the calls whose rows are scanned.
        String gradientCause = !scan ? null : "temperature = " + temperature
                + (weights == null ? "" : ", class weights up to " + Checks.show(Checks.maxWeight(weights)))
                + " and the reduction's scale " + Checks.show(scale) + (reduction != Reduction.MEAN ? ""
                : targets != null ? " (1 / N)" : weights == null ? " (1 / the count of labelled samples)"
                : " (1 / the sum of the labels' class weights)") + " make it overflow; lower them";
        // Short rows with hard labels go a chunk at a time through the kernels' block path, when they have one.
        boolean blocks = targets == null && weights == null && labelSmoothing == 0
                && cols <= KernelProvider.get().crossEntropyBlockMaxClasses();
        double total;
        if (RowParallel.parallel(rows, cols)) {
            total = blocks
                    ? RowParallel.sumChunks(rows, (start, end) -> block(start, end, z, rows, cols, labels, gradScale,
                            gradientCause, losses, grad, finalLogits, probabilities, lse), true)
                    : RowParallel.sum(rows, n -> row(n, z, rows, cols, labels, t, weights, weightSum, gradScale,
                            gradientCause, losses, grad, finalLogits, probabilities, lse), true);
        } else {
            // The same chunked order as RowParallel, without a lambda: the hot path allocates nothing.
            total = 0;
            for (int start = 0; start < rows; start += RowParallel.CHUNK_ROWS) {
                int end = Math.min(rows, start + RowParallel.CHUNK_ROWS);
                double part = 0;
                if (blocks) {
                    part = block(start, end, z, rows, cols, labels, gradScale, gradientCause, losses, grad, finalLogits,
                            probabilities, lse);
                } else {
                    for (int n = start; n < end; n++) {
                        part += row(n, z, rows, cols, labels, t, weights, weightSum, gradScale,
                                gradientCause, losses, grad, finalLogits, probabilities, lse);
                    }
                }
                total += part;
            }
        }
        return reduction == Reduction.MEAN ? total * scale : total;
    }

    /**
     * One sample: its loss, its gradient row (scanned for overflow when {@code gradientCause}, what
     * makes it overflow, is not null), and the optional outputs. With hard labels and long rows, the
     * row's maximum comes from the row before ({@link CarriedMax}).
     */
    private double row(int n, float[] z, int rows, int cols, int[] labels, float[] targets, float[] weights,
                       double weightSum, float gradScale, String gradientCause, float[] losses, float[] grad,
                       float[] finalLogits, float[] probabilities, float[] lse) {
        KernelSupport k = KernelProvider.get();
        float invT = 1f / temperature;
        int off = n * cols;
        double loss;
        boolean lseWritten = false;
        if (targets != null) {
            loss = softTargetRow(k, z, off, cols, invT, targets, weights, gradScale, grad);
        } else {
            float[] slot = CarriedMax.slot(cols);
            float max = CarriedMax.rowMax(k, slot, z, n, cols);
            float[] carried = CarriedMax.handOn(slot, n, rows);
            Checks.requireValidRow("logits", z, cols, n, max);
            int label = labels[n];
            if (label == ignoreIndex) {
                Arrays.fill(grad, off, off + cols, 0f);
                if (carried != null) {
                    carried[0] = k.max(z, off + cols, cols);
                }
                loss = 0;
            } else {
                if (z[off + label] == Float.NEGATIVE_INFINITY) {
                    requireNoTargetMass(n, label, labels, null);
                }
                float[] rowZ = z;
                int rowOff = off;
                float rowScale = invT;
                if (KernelSupport.needsFinalLogits(max, invT)) {
                    rowZ = finalRow(k, z, off, cols, invT);
                    rowOff = 0;
                    rowScale = 1f;
                    max *= invT;
                    if (carried != null) {
                        carried[0] = k.max(z, off + cols, cols);
                        carried = null;
                    }
                }
                double weightedLogitSum = 0;
                if (labelSmoothing > 0) {
                    weightedLogitSum = weights == null ? k.sum(rowZ, rowOff, cols) : k.dot(weights, 0, rowZ, rowOff, cols);
                    if (!Double.isFinite(weightedLogitSum)) {
                        requireNoTargetMass(n, Checks.firstMasked(z, cols, n), labels, null);
                    }
                }
                loss = k.softmaxCrossEntropyRow(rowZ, rowOff, cols, max, rowScale, label, weights, weightSum, labelSmoothing,
                        weightedLogitSum, gradScale, grad, off, lse, n, off + cols, carried);
                lseWritten = true;
            }
        }
        requireFloat32(n, loss, z, cols, targets, weights, gradientCause, grad);
        otherOutputs(k, n, z, cols, invT, loss, losses, finalLogits, probabilities, lseWritten ? null : lse);
        return loss;
    }

    /**
     * The rows {@code start .. end - 1} of one chunk, together ({@link KernelSupport#softmaxCrossEntropyBlock});
     * row by row when the block path does not take them, which then reports the bad row.
     */
    private double block(int start, int end, float[] z, int rows, int cols, int[] labels, float gradScale,
                         String gradientCause, float[] losses, float[] grad, float[] finalLogits, float[] probabilities,
                         float[] lse) {
        KernelSupport k = KernelProvider.get();
        float invT = 1f / temperature;
        double[] blockLosses = BLOCK_LOSSES.get();
        double part = 0;
        if (!k.softmaxCrossEntropyBlock(z, start, end - start, cols, invT, labels, ignoreIndex, gradScale, grad,
                lse, blockLosses)) {
            for (int n = start; n < end; n++) {
                part += row(n, z, rows, cols, labels, null, null, cols, gradScale, gradientCause, losses, grad, finalLogits,
                        probabilities, lse);
            }
            return part;
        }
        for (int n = start; n < end; n++) {
            double loss = blockLosses[n - start];
            requireFloat32(n, loss, z, cols, null, null, gradientCause, grad);
            part += loss;
            otherOutputs(k, n, z, cols, invT, loss, losses, finalLogits, probabilities, null);
        }
        return part;
    }

    /**
     * The per-sample overflow rule, and the gradient row's when {@code gradientCause} is not null: a
     * loss or gradient entry that is not a float32 number is an error naming the sample and what to lower.
     */
    private void requireFloat32(int n, double loss, float[] z, int cols, float[] targets, float[] weights,
                                String gradientCause, float[] grad) {
        if (!Checks.isFloat32(loss)) {
            throw Checks.lossOverflow(n, loss, overflowCause(n, loss, z, cols, targets, weights));
        }
        int bad = gradientCause != null ? Checks.indexOfNonFinite(grad, n * cols, cols) : -1;
        if (bad >= 0) {
            throw Checks.gradientOverflow(n, bad, grad[n * cols + bad], (targets == null ? ""
                    : "targets[" + n + "] summing to " + Checks.show(sum(targets, n * cols, cols)) + ", ") + gradientCause);
        }
    }

    /** The class weights or soft targets that multiply the loss when they, not the logits, make it overflow. */
    private String overflowCause(int n, double loss, float[] z, int cols, float[] targets, float[] weights) {
        double mass = targets == null ? 1 : sum(targets, n * cols, cols);
        double factor = Checks.maxWeight(weights) * mass;
        if (factor > 1 && Checks.isFloat32(loss / factor)) {
            return "lower " + (weights == null ? "" : "class_weights (up to " + Checks.show(Checks.maxWeight(weights)) + ")")
                    + (weights != null && targets != null ? " or " : "")
                    + (targets == null ? "" : "targets[" + n + "] (summing to " + Checks.show(mass) + ")")
                    + ", which multiply it";
        }
        if (temperature < 1 && Checks.isFloat32(loss * temperature)) {
            return "raise temperature = " + temperature + ", which divides the logits";
        }
        return "lower " + Checks.spreadOf("logits", z, cols, n);
    }

    /** Row n's float32 final logits {@code z * invT}, in this thread's scratch row. */
    private static float[] finalRow(KernelSupport k, float[] z, int off, int cols, float invT) {
        float[][] holder = FINAL_ROW.get();
        if (holder[0].length < cols) {
            holder[0] = new float[cols];
        }
        k.scaleShift(z, off, holder[0], 0, cols, invT, 0f);
        return holder[0];
    }

    /** The per-sample loss and the optional outputs of row n; {@code lse} is null when it is written already. */
    private static void otherOutputs(KernelSupport k, int n, float[] z, int cols, float invT, double loss,
                                     float[] losses, float[] finalLogits, float[] probabilities, float[] lse) {
        int off = n * cols;
        if (losses != null) {
            losses[n] = (float) loss;
        }
        if (finalLogits != null) {
            k.scaleShift(z, off, finalLogits, off, cols, invT, 0f);
        }
        if (probabilities != null) {
            double rowLse = k.softmax(z, off, probabilities, off, cols, invT);
            if (lse != null) {
                lse[n] = (float) rowLse;
            }
        } else if (lse != null) {
            lse[n] = (float) k.logSumExp(z, off, cols, invT);
        }
    }

    /** One row with soft targets: the exponentials go into the gradient row and become the gradient. */
    private double softTargetRow(KernelSupport k, float[] z, int off, int cols, float invT, float[] targets,
                                 float[] weights, float gradScale, float[] grad) {
        float rowMax = k.max(z, off, cols);
        int zOff = off;
        if (KernelSupport.needsFinalLogits(rowMax, invT)) {
            z = finalRow(k, z, off, cols, invT);
            zOff = 0;
            rowMax *= invT;
            invT = 1f;
        }
        float shift = rowMax * invT;
        double sum = k.expSum(z, zOff, cols, invT, shift, grad, off);
        double lse = shift + Math.log(sum);
        double uniform = (double) labelSmoothing / cols;
        double weightedMass = 0;
        for (int c = 0; c < cols; c++) {
            double w = weights == null ? 1.0 : weights[c];
            weightedMass += w * ((1.0 - labelSmoothing) * targets[off + c] + uniform);
        }
        double loss = 0;
        for (int c = 0; c < cols; c++) {
            double w = weights == null ? 1.0 : weights[c];
            double wq = w * ((1.0 - labelSmoothing) * targets[off + c] + uniform);
            // A masked class with no target weight contributes 0 log 0 = 0, not 0 * Infinity.
            if (wq > 0) {
                loss += wq * (lse - z[zOff + c] * invT);
            }
            grad[off + c] = (float) ((grad[off + c] / sum * weightedMass - wq) * gradScale);
        }
        return loss;
    }

    private double labelWeightSum(int[] labels, float[] weights) {
        double s = 0;
        for (int y : labels) {
            if (y != ignoreIndex) {
                s += weights == null ? 1.0 : weights[y];
            }
        }
        return s;
    }

    /** {@code w_c (1 - n_c / n_valid)} over the batch's non-ignored labels. */
    private float[] balancedWeights(int[] labels, int cols, float[] givenWeights) {
        int[] counts = new int[cols];
        int valid = 0;
        for (int y : labels) {
            if (y != ignoreIndex) {
                counts[y]++;
                valid++;
            }
        }
        float[] balanced = new float[cols];
        for (int c = 0; c < cols; c++) {
            double share = valid == 0 ? 0 : (double) counts[c] / valid;
            balanced[c] = (float) ((givenWeights == null ? 1.0 : givenWeights[c]) * (1.0 - share));
        }
        return balanced;
    }

    private static double sum(float[] values) {
        return sum(values, 0, values.length);
    }

    private static double sum(float[] values, int off, int len) {
        double s = 0;
        for (int i = off; i < off + len; i++) {
            s += values[i];
        }
        return s;
    }

    /** Builds a {@link SoftmaxCrossEntropyLoss}; invalid values fail in {@link #build()}. */
    public static final class Builder {
        private double temperature = 1;
        private double labelSmoothing = 0;
        private ClassBalance classBalance = ClassBalance.NONE;
        private int ignoreIndex = -100;
        private Reduction reduction = Reduction.MEAN;
        private float[] classWeights;

        private Builder() {}

        /** Divides the logits by T &gt; 0 before the softmax (default 1). */
        public Builder temperature(double temperature) { this.temperature = temperature; return this; }

        /** Mixes eps in [0, 1) of the uniform distribution into the target (default 0). */
        public Builder labelSmoothing(double labelSmoothing) { this.labelSmoothing = labelSmoothing; return this; }

        public Builder classBalance(ClassBalance classBalance) { this.classBalance = classBalance; return this; }

        /** The label that marks a sample to ignore (default -100, as in PyTorch). */
        public Builder ignoreIndex(int ignoreIndex) { this.ignoreIndex = ignoreIndex; return this; }

        public Builder reduction(Reduction reduction) { this.reduction = reduction; return this; }

        /** Per-class weights, copied; each finite and {@code >= 0}. */
        public Builder classWeights(float... classWeights) {
            this.classWeights = classWeights == null ? null : classWeights.clone();
            return this;
        }

        public SoftmaxCrossEntropyLoss build() {
            Checks.requireTemperature("temperature", temperature);
            Checks.requireInRange("label_smoothing", labelSmoothing, 0, 1);
            if (classBalance == null || reduction == null) {
                throw new IllegalArgumentException("class_balance and reduction must not be null");
            }
            if (classWeights != null) {
                Checks.requireWeights("class_weights", classWeights);
            }
            return new SoftmaxCrossEntropyLoss(this);
        }
    }
}
