package dev.softmaxlosses;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * Everything a loss computes for one batch: the reduced loss, the per-sample losses, the final
 * logits (what goes into the softmax after scaling, temperature and margins), their probabilities,
 * each row's log-sum-exp, and the gradient of the reduced loss with respect to the logits.
 *
 * <p>For a {@link LogitLoss} the {@code N x C} diagnostics (final logits and probabilities) are
 * opt-in: {@link #forLogits(int, int)} holds the gradient, the per-sample losses and the log-sum-exps,
 * all from the fused pass; {@link #withDiagnostics(int, int)} also the final logits and probabilities,
 * which cost a second pass over the batch.
 *
 * <p>The margin family also fills {@link #gradFeatures()}, {@link #gradWeights()} and
 * {@link #gradScale()}; for them {@link #gradLogits()} is the gradient with respect to the final
 * logits.
 *
 * <p>A result is a set of output buffers: allocate one with {@link #forLogits(int, int)} (or
 * {@link #forFeatures(int, int, int)}) and pass it again and again to
 * {@link LogitLoss#compute(LogitBatch, LossResult)} (or {@link FeatureLoss#compute(FeatureBatch, LossResult)})
 * to compute without allocating: a result also keeps the scratch its loss needs between calls
 * ({@link #scratch}; the margin family's is described by its heads). A result is the buffers of one
 * call at a time.
 */
public final class LossResult {
    private final int rows;
    private final int cols;
    private final float[] losses;
    private final float[] logits;
    private final float[] probabilities;
    private final float[] logSumExp;
    private final float[] gradLogits;
    private final int dim;
    private final float[] gradFeatures;
    private final float[] gradWeights;
    private Reduction reduction = Reduction.MEAN;
    private double loss;
    private double gradScale;
    private LossState lossState = LossState.EMPTY;

    private final boolean perClassOutputs;
    /** What the loss that fills these buffers keeps between calls. */
    private Object scratch;

    /**
     * With {@code logitGradient} the {@code N x C} gradient, with {@code perClassOutputs} the final
     * logits and probabilities too; the weight gradient has {@code weightRows} rows.
     */
    private LossResult(int rows, int cols, int dim, int weightRows, boolean logitGradient, boolean perClassOutputs) {
        this.rows = rows;
        this.cols = cols;
        this.dim = dim;
        this.perClassOutputs = logitGradient && perClassOutputs;
        this.gradFeatures = dim < 0 ? null : new float[Math.multiplyExact(rows, dim)];
        this.gradWeights = dim < 0 ? null : new float[Math.multiplyExact(weightRows, dim)];
        int size = logitGradient ? Math.multiplyExact(rows, cols) : 0;
        this.losses = new float[rows];
        this.logits = new float[this.perClassOutputs ? size : 0];
        this.probabilities = new float[this.perClassOutputs ? size : 0];
        this.logSumExp = new float[rows];
        this.gradLogits = new float[size];
    }

    /**
     * Buffers for a batch of {@code rows} samples and {@code cols} classes: the gradient, the
     * per-sample losses and the log-sum-exps, which a {@link LogitLoss} fills from its fused pass;
     * {@link #logits()} and {@link #probabilities()} are empty.
     *
     * @throws IllegalArgumentException for a negative shape, or one whose {@code rows x cols} values
     *                                  are more than a Java array holds
     */
    public static LossResult forLogits(int rows, int cols) {
        requireLogitShape(rows, cols);
        return new LossResult(rows, cols, -1, cols, true, false);
    }

    /**
     * As {@link #forLogits(int, int)}, and also the {@code N x C} final logits and probabilities,
     * which a {@link LogitLoss} then computes in a second pass.
     */
    public static LossResult withDiagnostics(int rows, int cols) {
        requireLogitShape(rows, cols);
        return new LossResult(rows, cols, -1, cols, true, true);
    }

    private static void requireLogitShape(int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("a result cannot have a negative shape: " + rows + "x" + cols);
        }
        FloatMatrix.requireLength("a result of " + rows + "x" + cols + " logits", (long) rows * cols, "");
    }

    /**
     * Buffers for the margin family: {@code rows} features of dimension {@code dim}, {@code cols} classes.
     *
     * @throws IllegalArgumentException for a negative shape, or one whose logits ({@code rows x cols}),
     *                                  feature or weight gradients are more than a Java array holds
     */
    public static LossResult forFeatures(int rows, int cols, int dim) {
        return forFeatures(rows, cols, dim, cols);
    }

    /**
     * Buffers for the margin family whose class weights have {@code weightRows} rows: sub-center
     * ArcFace's {@code C K} sub-centres for {@code cols = C} classes.
     */
    public static LossResult forFeatures(int rows, int cols, int dim, int weightRows) {
        if (rows < 0 || cols < 0 || dim < 0 || weightRows < 0) {
            throw new IllegalArgumentException("a result cannot have a negative shape: " + rows + "x" + cols + "x" + dim);
        }
        FloatMatrix.requireLength("a result of " + rows + "x" + cols + " logits", (long) rows * cols,
                "; a StreamingMarginHead holds no N x C array");
        requireGradientLengths(rows, weightRows, dim);
        return new LossResult(rows, cols, dim, weightRows, true, true);
    }

    /**
     * Buffers for the margin family's streaming mode, which never holds an {@code N x C} matrix: the
     * per-sample losses, log-sum-exps and the feature, weight and scale gradients; {@link #logits()},
     * {@link #probabilities()} and {@link #gradLogits()} are empty.
     */
    public static LossResult forStreaming(int rows, int cols, int dim) {
        return forStreaming(rows, cols, dim, cols);
    }

    /** {@link #forStreaming(int, int, int)} for class weights of {@code weightRows} rows (sub-centres). */
    public static LossResult forStreaming(int rows, int cols, int dim, int weightRows) {
        if (rows < 0 || cols < 0 || dim < 0 || weightRows < 0) {
            throw new IllegalArgumentException("a result cannot have a negative shape: " + rows + "x" + cols + "x" + dim);
        }
        requireGradientLengths(rows, weightRows, dim);
        return new LossResult(rows, cols, dim, weightRows, false, false);
    }

    private static void requireGradientLengths(int rows, int cols, int dim) {
        FloatMatrix.requireLength("a feature gradient of " + rows + "x" + dim, (long) rows * dim, "");
        FloatMatrix.requireLength("a weight gradient of " + cols + "x" + dim, (long) cols * dim, "");
    }

    /**
     * Whether the {@code N x C} final logits and probabilities are held and filled (and their gradient):
     * buffers from {@link #withDiagnostics} or {@link #forFeatures}.
     */
    public boolean hasPerClassOutputs() {
        return perClassOutputs;
    }

    /** Whether {@link #gradLogits()} is held ({@code N x C}): false for a streaming head's buffers. */
    public boolean hasLogitGradient() {
        return gradLogits.length == (long) rows * cols;
    }

    /** Whether these buffers fit a batch of this shape. */
    public boolean fits(int rows, int cols) {
        return this.rows == rows && this.cols == cols;
    }

    /** Whether these buffers fit a margin-family batch of this shape. */
    public boolean fits(int rows, int cols, int dim) {
        return fits(rows, cols, dim, cols);
    }

    /** Whether these buffers fit a margin-family batch of this shape whose class weights have {@code weightRows} rows. */
    public boolean fits(int rows, int cols, int dim, int weightRows) {
        return fits(rows, cols) && this.dim == dim && gradFeatures != null && gradWeights.length == (long) weightRows * dim;
    }

    /** Whether the loss that fills these buffers writes gradients for features and class weights. */
    public boolean hasFeatureGradients() {
        return gradFeatures != null;
    }

    /**
     * The scratch a loss keeps with these buffers between calls, so that a call that passes them
     * again allocates nothing (the margin family keeps its workspace here): the one of type
     * {@code type} these buffers hold, or one made by {@code create} and kept (in place of another
     * loss's). For implementations of a loss; a result holds one scratch at a time.
     */
    public <T> T scratch(Class<T> type, Supplier<T> create) {
        if (type.isInstance(scratch)) {
            return type.cast(scratch);
        }
        T made = create.get();
        scratch = made;
        return made;
    }

    /** Records the gradient with respect to the scale {@code s}; called by the margin family. */
    public void setGradScale(double gradScale) {
        this.gradScale = gradScale;
    }

    /**
     * The state the loss keeps after this step ({@link LossState#EMPTY} for a loss that keeps none):
     * the next step's loss is the loss {@code withState} this one.
     */
    public LossState lossState() { return lossState; }

    /** Records the state after the step; called by the loss that filled the buffers. */
    public void setLossState(LossState state) {
        this.lossState = Objects.requireNonNull(state, "state");
    }

    /** The feature dimension {@code D} ({@code -1} for a logit loss). */
    public int dim() { return dim; }

    /** Gradient of the reduced loss with respect to the features, {@code N x D}; null for logit losses. */
    public float[] gradFeatures() { return gradFeatures; }

    /**
     * Gradient of the reduced loss with respect to the class weights, {@code C x D} ({@code C K x D} for
     * sub-centres); null for logit losses.
     */
    public float[] gradWeights() { return gradWeights; }

    /**
     * Gradient of the reduced loss with respect to the scale (s, or alpha for L2-softmax), so that it can
     * be learned as NormFace does; 0 for losses without one.
     */
    public double gradScale() { return gradScale; }

    /** Records the reduced value; called by the loss that filled the buffers. */
    public void setLoss(Reduction reduction, double loss) {
        this.reduction = reduction;
        this.loss = loss;
    }

    /** The reduction that produced {@link #loss()}. */
    public Reduction reduction() { return reduction; }

    /**
     * The reduced loss. With {@link Reduction#NONE} there is none: this returns the sum of the
     * per-sample losses, which is the quantity whose gradient {@link #gradLogits()} holds.
     */
    public double loss() { return loss; }

    public int rows() { return rows; }
    public int cols() { return cols; }

    /** Per-sample losses, before reduction ({@code 0} for an ignored sample). */
    public float[] losses() { return losses; }

    /** Final logits, {@code N x C} row-major; empty unless {@link #hasPerClassOutputs()}. */
    public float[] logits() { return logits; }

    /** {@code softmax} of the final logits, {@code N x C} row-major; empty unless {@link #hasPerClassOutputs()}. */
    public float[] probabilities() { return probabilities; }

    /** Log-sum-exp of each row of the final logits. */
    public float[] logSumExp() { return logSumExp; }

    /** Gradient of the reduced loss with respect to the input logits, {@code N x C} row-major. */
    public float[] gradLogits() { return gradLogits; }
}
