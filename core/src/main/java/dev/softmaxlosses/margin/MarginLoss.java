package dev.softmaxlosses.margin;

import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FeatureLoss;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.LossState;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.linalg.MatrixProducts;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * What every loss of the margin family is (as pytorch-metric-learning's {@code LargeMarginSoftmaxLoss}
 * is the base of its ArcFace and CosFace): features {@code x} and class weights {@code W}, normalised
 * or not, give {@code K_nj = A_n B_j cos_nj} ({@code A_n = ||x_n||} when the logits carry the feature's
 * norm, else 1; {@code B_j} likewise); the final logits are {@code f_nj = s K_nj} off the target and
 * {@code f_ny = s A_n B_y T(c)} for it, with {@code T} the paper's target transform (each subclass, one
 * file per paper) and {@code c} the target's cosine computed in double from the raw vectors; the loss is
 * the softmax cross-entropy of {@code f} with hard labels, {@code ignore_index}, {@code reduction},
 * {@code label_smoothing} and {@code class_weights}. The walk that computes it, forward and backward,
 * is one engine ({@link StreamingMarginHead}, {@link ClassShard}); {@link #compute} runs it with one
 * block of all classes and keeps the {@code N x C} outputs.
 *
 * <p>{@code 1 / sin(theta)} factors in {@code T'} are bounded by {@value #MIN_SIN} so that
 * {@code cos = +-1} gives finite gradients (there the cosine's own gradient is 0). The gradient with
 * respect to the scale is {@link LossResult#gradScale()}; {@link #inferenceLogits} gives the logits
 * without the margin.
 *
 * <p><b>Float32 range.</b> Every final logit must stay within half the float32 range
 * ({@link #LOGIT_LIMIT}). Parameters whose largest logit {@code s max|T(c)|} or target slope
 * {@code s max|T'(c)|} pass it are refused when the loss is built; norms that make the logits of the
 * losses that carry them pass it are refused before anything is computed, naming the rows; a feature
 * or weight gradient that still overflows is an error naming the row, its norm and the parameters,
 * after the buffers have been written.
 *
 * @throws IllegalArgumentException for a bad input, naming array, row, column and value
 */
public abstract sealed class MarginLoss implements FeatureLoss
        permits NormFaceLoss, AdditiveCosineMarginLoss, CombinedMarginLoss, MultiplicativeMarginLoss,
        L2SoftmaxLoss, ArcMarginLoss, AdaFaceLoss, MagFaceLoss, ElasticFaceLoss {

    /** The floor of a norm in the normalisation, as in PyTorch's {@code normalize}. */
    public static final double NORM_EPS = 1e-12;

    /** The floor of {@code sin(theta)} in the target transforms' derivatives. */
    public static final double MIN_SIN = 1e-6;

    /** The largest final logit: half the float32 range, so that a row's spread is a float32 number too. */
    public static final double LOGIT_LIMIT = Float.MAX_VALUE / 2;

    /** How the target logit's derivative is taken. */
    public enum Gradient {
        /** The derivative of the formula, through the norms and the cosines (the default). */
        EXACT,
        /** {@code dT/dc} taken as 1 (so {@code df_y/dc = s}), as InsightFace's current code does (arcface, combined_margin). */
        STRAIGHT_THROUGH,
        /** The original SphereFace Caffe layer's unit-normalised feature gradient of the target (sphereface). */
        SPHEREFACE_NORMALIZED,
        /**
         * Also through what the paper holds constant: adaface's feature norm in the margin and the
         * batch's norm statistics, curricularface's {@code t}, which the official code detaches.
         */
        FULL
    }

    private final float labelSmoothing;
    private final int ignoreIndex;
    private final Reduction reduction;
    private final Gradient gradient;
    /** The engine of {@link #compute}, made on its first call (it loads the BLAS); immutable, so a race only makes two. */
    private MarginEngine engine;

    MarginLoss(MarginLossBuilder<?> options) {
        requireOffered(options.gradient);
        if (options.reduction == null || options.gradient == null) {
            throw new IllegalArgumentException("reduction and gradient must not be null");
        }
        Checks.requireInRange("label_smoothing", options.labelSmoothing, 0, 1);
        this.labelSmoothing = (float) options.labelSmoothing;
        this.ignoreIndex = options.ignoreIndex;
        this.reduction = options.reduction;
        this.gradient = options.gradient;
    }

    /** The spec name. */
    abstract String name();

    /**
     * The gradient convention this loss offers besides {@link Gradient#EXACT}, or null for none. The
     * constructor asks for it before the subclass is initialised: return a constant.
     */
    Gradient offeredGradient() {
        return null;
    }

    /** A gradient convention the loss does not offer is an error, before any other parameter is checked. */
    private void requireOffered(Gradient chosen) {
        Gradient offered = offeredGradient();
        if (chosen == null || chosen == Gradient.EXACT || chosen == offered) {
            return;
        }
        throw new IllegalArgumentException("gradient=" + chosen.name().toLowerCase(Locale.ROOT)
                + " is not offered by " + name() + (offered == null ? "; it has only gradient=exact"
                : "; it offers exact and " + offered.name().toLowerCase(Locale.ROOT)));
    }

    /** The factor {@code s} (or alpha) of every logit; 1 for the losses that have none ({@link #hasScale}). */
    public abstract double scale();

    /** Whether the logits are multiplied by the feature's norm ({@code A_n = ||x_n||}). */
    abstract boolean scalesByFeatureNorm();

    /** Whether the logits are multiplied by the class weight's norm ({@code B_j = ||W_j||}). */
    abstract boolean scalesByWeightNorm();

    /** {@code T(c)}: the target's cosine after the margin. */
    abstract double target(double c);

    /** {@code dT/dc} of the formula. */
    abstract double targetSlope(double c);

    /** The rows of class weights each class has: 1, or sub-center ArcFace's {@code k}. */
    public int subCentres() {
        return 1;
    }

    /**
     * The classes of class weights of {@code weightRows} rows: {@code weightRows / k}.
     *
     * @throws IllegalArgumentException when {@code k} does not divide {@code weightRows}
     */
    public int classesOf(int weightRows) {
        return MarginChecks.classes(this, weightRows);
    }

    /**
     * Whether the loss has a scale whose gradient means something ({@link LossResult#gradScale()}), which a
     * model may learn: every loss but SphereFace and L-Softmax.
     */
    public boolean hasScale() {
        return true;
    }

    /** {@code T(c, q)} for a row whose parameter is {@code q} ({@link RowTerms}): {@link #target(double)} unless the margin depends on the row. */
    double target(double c, double q) {
        return target(c);
    }

    /** {@code dT/dc} at the row parameter {@code q}. */
    double targetSlope(double c, double q) {
        return targetSlope(c);
    }

    /** {@code dT/dq}: how the target moves with the row's parameter (0 unless a gradient flows into it). */
    double targetParamSlope(double c, double q) {
        return 0;
    }

    /** The state this loss starts a step with ({@link LossState#EMPTY} for one that keeps none). */
    public LossState state() {
        return LossState.EMPTY;
    }

    /**
     * This loss with {@code state} (the state after a step, {@link LossResult#lossState()}) as the state
     * it starts the next with.
     *
     * @throws IllegalArgumentException when the state names a value this loss does not keep, or a bad value
     */
    public MarginLoss withState(LossState state) {
        if (!state.isEmpty()) {
            throw new IllegalArgumentException(name() + " keeps no state across steps, got " + String.join(", ", state.names()));
        }
        return this;
    }

    /**
     * This loss with the state a spec string of it holds ({@code name:key=value,...}, e.g. one a
     * checkpoint saved after some steps): the values of its state's names that the spec gives, the
     * others kept; this loss itself when it keeps no state. Whether the spec is otherwise this loss's
     * is for the caller to check (compare the result's spec with it).
     *
     * @throws IllegalArgumentException for a state value that is not a number, or out of range
     */
    public MarginLoss withStateOf(String spec) {
        LossState state = state();
        if (state.isEmpty()) {
            return this;
        }
        int colon = spec.indexOf(':');
        for (String pair : colon < 0 ? new String[0] : spec.substring(colon + 1).split(",")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && state.has(pair.substring(0, eq))) {
                String value = pair.substring(eq + 1);
                try {
                    state = state.with(pair.substring(0, eq), Double.parseDouble(value));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("the state " + pair.substring(0, eq) + " = '" + value + "' is not a number");
                }
            }
        }
        return withState(state);
    }

    /** Whether fixing the row terms needs every row's target cosine, which a sharded head exchanges first. */
    boolean needsTargetCosines() {
        return false;
    }

    /** Fixes the batch's row terms (each row's parameter, the batch's, the state after): by default none. */
    void fixRowTerms(RowTerms terms) {
        terms.after = state();
    }

    /** Whether the logits off the target are {@code s N(K)} rather than {@code s K} ({@link #other}). */
    boolean transformsOthers() {
        return false;
    }

    /** {@code N(K)} of a logit off the target, for a row of parameter {@code q} in a batch of parameter {@code batch}. */
    double other(double k, double q, double batch) {
        return k;
    }

    /** {@code dN/dK}. */
    double otherSlope(double k, double q, double batch) {
        return 1;
    }

    /** {@code dN/d(batch)}: how a logit off the target moves with the batch parameter (0 unless a gradient flows into it). */
    double otherBatchSlope(double k, double q, double batch) {
        return 0;
    }

    /** {@code d(batch)/dc_r}: how the batch parameter moves with row {@code r}'s target cosine. */
    double batchSlope(RowTerms terms, int r) {
        return 0;
    }

    /** Whether a gradient flows through the batch parameter ({@link #otherBatchSlope}, {@link #batchSlope}). */
    boolean differentiatesBatchParam() {
        return false;
    }

    /** A per-sample term added to the cross-entropy (class weights multiply it too): MagFace's regulariser. */
    double penalty(double featureNorm) {
        return 0;
    }

    /** The penalty's derivative with respect to the feature norm. */
    double penaltySlope(double featureNorm) {
        return 0;
    }

    /**
     * Turns {@code dL/dq_r} (in {@code gradParam}, only the rows whose target this range holds) into
     * {@code dL/d||x_n||}, added to {@code gradNorm}; linear in {@code gradParam}, so that the shards'
     * shares add up. By default the parameter is a constant and nothing flows.
     */
    void paramGradient(RowTerms terms, double[] gradParam, double[] gradNorm) {
    }

    /** The largest {@code |T(c)|} over {@code c} in [-1, 1]: 1 unless a margin moves the target logit. */
    double targetBound() {
        return 1;
    }

    /** The largest {@code |T'(c)|} of the exact derivative: 1 unless the transform steepens it. */
    double targetSlopeBound() {
        return 1;
    }

    /**
     * A paper's own change to the target's feature gradient, after the exact one is in
     * {@code gradFeatures} (row {@code r}): none here; SphereFace's {@code gradient=sphereface_normalized}.
     * The target's weights are row {@code y} of {@code w}.
     */
    void adjustTargetFeatureGradient(double dLdf, double cosine, double featureNorm, float[] featuresHat, int r,
                                     float[] w, int y, double weightNorm, int d, float[] gradFeatures) {
    }

    public float labelSmoothing() { return labelSmoothing; }
    public int ignoreIndex() { return ignoreIndex; }
    public Reduction reduction() { return reduction; }
    public Gradient gradient() { return gradient; }

    /** Computes into new buffers, with the {@code N x C} outputs. */
    @Override
    public LossResult compute(FeatureBatch batch) {
        Objects.requireNonNull(batch, "batch");
        int n = batch.features().rows();
        int rows = batch.weights().rows();
        int c = MarginChecks.classes(this, rows);
        MarginChecks.requireLogitsFit(n, c, "; compute the loss with a StreamingMarginHead, which holds N x block values");
        LossResult result = LossResult.forFeatures(n, c, batch.weights().cols(), rows);
        compute(batch, result);
        return result;
    }

    /**
     * Computes into buffers from {@link LossResult#forFeatures}, the {@code N x C} outputs included.
     * The result keeps this call's scratch for the next ({@code 4 C D} bytes of normalised weights and
     * {@code 4 N D + 20 C + 72 N} more; the products and their gradient are computed in its logits and
     * their gradient): pass the same result again (one per thread) and a call allocates nothing.
     */
    @Override
    public void compute(FeatureBatch batch, LossResult out) {
        Objects.requireNonNull(out, "out");
        MarginWorkspace ws = MarginWorkspace.of(out);
        try {
            MarginChecks.validate(this, batch, out, ws);
            if (!out.hasPerClassOutputs()) {
                throw new IllegalArgumentException("the result buffers hold no logits: allocate them with LossResult.forFeatures("
                        + ws.features.n + ", " + ws.classes.width + ", " + ws.features.d + "), or compute with a StreamingMarginHead");
            }
            engine().run(ws, out);
        } finally {
            ws.release();
        }
    }

    /** One block of all classes (which keeps its products for the backward), with netlib's products. */
    private MarginEngine engine() {
        MarginEngine made = engine;
        if (made == null) {
            made = new MarginEngine(this, MatrixProducts.standard(), Integer.MAX_VALUE, 0);
            engine = made;
        }
        return made;
    }

    /**
     * The logits a trained model predicts with: {@code s A_n B_j cos_nj} for every class, no margin.
     *
     * @throws IllegalArgumentException for mismatched columns, a value that is not finite, or
     *                                  {@code N x C} logits that are more than a Java array holds
     */
    public FloatMatrix inferenceLogits(FloatMatrix features, FloatMatrix weights) {
        Objects.requireNonNull(weights, "weights");
        return new StreamingMarginHead(this, Math.max(1, weights.rows())).inferenceLogits(features, weights);
    }

    /** The loss's own parameters as a spec writes them, in the spec's order (not the common ones). */
    abstract void putOwnParameters(Map<String, String> p);

    @Override
    public final LossSpec spec() {
        Map<String, String> p = new LinkedHashMap<>();
        putOwnParameters(p);
        putCommon(p);
        return new LossSpec(name(), p);
    }

    /** The loss's own parameters, for messages: {@code s = 64.0, m = 0.35}. */
    String ownParameters() {
        Map<String, String> own = new LinkedHashMap<>();
        putOwnParameters(own);
        StringJoiner joined = new StringJoiner(", ");
        own.forEach((key, value) -> joined.add(key + " = " + value));
        return joined.toString();
    }

    /** The common parameters as a spec writes them. */
    void putCommon(Map<String, String> p) {
        p.put("label_smoothing", Float.toString(labelSmoothing));
        p.put("ignore_index", Integer.toString(ignoreIndex));
        p.put("reduction", reduction.specName());
        if (gradient != Gradient.EXACT) {
            p.put("gradient", gradient.name().toLowerCase(Locale.ROOT));
        }
    }
}
