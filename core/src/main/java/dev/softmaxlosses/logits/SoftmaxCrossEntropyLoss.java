package dev.softmaxlosses.logits;

import dev.softmaxlosses.LogitBatch;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;

import java.util.Map;

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
 * or the ignore index; {@link LogitBatch#of}) or {@code targets} ({@code N x C}, non-negative; they need
 * not sum to 1, as in PyTorch; {@link LogitBatch#softTargets}); optional {@code class_weights}
 * ({@code C}, non-negative), given either to the builder or with the batch. The rows run on the logit
 * family's row driver; the row's formulas are {@link SoftmaxCrossEntropyRows}'. {@code -Infinity} logits mask a class: a masked class that the target gives weight to
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
public final class SoftmaxCrossEntropyLoss extends LogitLossBase {

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
    private final float[] classWeights;

    private SoftmaxCrossEntropyLoss(Builder b) {
        super(b.ignoreIndex, b.reduction);
        this.temperature = (float) b.temperature;
        this.labelSmoothing = (float) b.labelSmoothing;
        this.classBalance = b.classBalance;
        this.classWeights = b.classWeights;
    }

    /** The plain softmax loss: {@code T = 1}, no smoothing, no weights, mean over the batch. */
    public static SoftmaxCrossEntropyLoss create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override public double temperature() { return temperature; }
    @Override public float labelSmoothing() { return labelSmoothing; }
    public ClassBalance classBalance() { return classBalance; }

    @Override
    void putOwnParameters(Map<String, String> p) {
        p.put("temperature", Float.toString(temperature));
        p.put("label_smoothing", Float.toString(labelSmoothing));
        p.put("class_balance", classBalance.name().toLowerCase(java.util.Locale.ROOT));
    }

    @Override String name() { return NAME; }

    @Override
    public boolean takes(Class<? extends LogitBatch.Target> kind) {
        return kind == LogitBatch.Labels.class || kind == LogitBatch.SoftTargets.class;
    }

    @Override public boolean takesClassWeights() { return true; }
    @Override float[] builderClassWeights() { return classWeights; }
    @Override boolean namesMinClasses() { return false; }
    @Override boolean trainsWithoutLabel(RowPass p) { return p.targets != null; }

    @Override
    void checkSoftTargets() {
        if (classBalance == ClassBalance.BATCH) {
            throw new IllegalArgumentException("class_balance=batch needs hard labels, not soft targets");
        }
    }

    @Override
    IllegalArgumentException maskedTarget(int n, int c, String why) {
        return super.maskedTarget(n, c, labelSmoothing > 0
                ? "label_smoothing = " + labelSmoothing + " gives every class a share of the target" : why);
    }

    @Override
    float[] effectiveWeights(int[] labels, int cols, float[] weights) {
        return classBalance == ClassBalance.BATCH ? SoftmaxCrossEntropyRows.balancedWeights(labels, ignoreIndex, cols,
                weights) : weights;
    }

    /** With hard labels the sum of the labels' class weights, as in PyTorch; with soft targets N. */
    @Override
    double normaliser(RowPass p) { return SoftmaxCrossEntropyRows.normaliser(p, ignoreIndex); }

    @Override float gradScale(double scale) { return (float) (scale / temperature); }

    /** |gradient entry| <= 2 max(w) / T with hard labels; soft targets are not bounded, so their rows are scanned. */
    @Override
    double gradientBound(RowPass p) {
        return p.targets != null ? Double.POSITIVE_INFINITY : 2 * Checks.maxWeight(p.weights) / temperature;
    }

    @Override
    void prepare(RowPass p) {
        p.frame.batch(p.cols, 1f / temperature, labelSmoothing, p.weights, p.weightSum, p.gradScale, p.labels,
                ignoreIndex);
    }

    @Override
    double row(RowPass p, dev.softmaxlosses.kernel.KernelSupport k, int n, float rowMax, int label, float[] carried) {
        return p.targets != null ? SoftmaxCrossEntropyRows.softTargetRow(p, k, n, rowMax, carried)
                : SoftmaxCrossEntropyRows.hardLabelRow(p, k, n, rowMax, label, carried);
    }

    @Override
    double block(RowPass p, int start, int end) {
        return p.targets == null && p.weights == null && labelSmoothing == 0 ? SoftmaxCrossEntropyRows.block(this, p,
                start, end) : Double.NaN;
    }

    @Override
    void outputs(RowPass p, dev.softmaxlosses.kernel.KernelSupport k, int n, int label) {
        SoftmaxCrossEntropyRows.outputs(p, k, n);
    }

    @Override
    String overflowCause(RowPass p, int n, int label, double loss) {
        return SoftmaxCrossEntropyRows.overflowCause(p, n, loss, temperature);
    }

    @Override
    String gradientCause(RowPass p, int n) {
        return SoftmaxCrossEntropyRows.gradientCause(p, n, temperature, reduction);
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
