package dev.softmaxlosses.margin;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.FeatureLoss;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.kernel.KernelProvider;
import dev.softmaxlosses.kernel.KernelSupport;
import dev.softmaxlosses.logits.SoftmaxCrossEntropyLoss;

import java.util.Locale;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * The path every loss of the margin family shares (as pytorch-metric-learning's
 * {@code LargeMarginSoftmaxLoss} is the base of its ArcFace and CosFace):
 *
 * <ol>
 *   <li>normalise: {@code x_hat = x / max(||x||, 1e-12)}, {@code W_hat} likewise;</li>
 *   <li>one matrix product {@code K = X' W'^T}, where {@code X'} is {@code x_hat}, or {@code x} itself
 *       when the logits carry the feature's norm ({@code A_n = ||x_n||}), and {@code W'} likewise
 *       ({@code B_j = ||W_j||}); so {@code K_nj = A_n B_j cos_nj}, exactly linear where the paper's
 *       logit is (L-Softmax's {@code W_j . x}, L2-softmax's {@code alpha x_hat . W_j}), also at a zero
 *       vector; for two normalised operands it is the cosine, clamped to [-1, 1];</li>
 *   <li>final logits {@code f_nj = s K_nj} for {@code j != y}, and for the target
 *       {@code f_ny = s A_n B_y T(c)}, with {@code T} the paper's target transform and the target's
 *       cosine {@code c} computed in double from the raw vectors: a float cosine of a feature lying
 *       on its class weight is 0.99999994, an angle of 3.5e-4, which moves ArcFace's logit by 0.01;</li>
 *   <li>the softmax cross-entropy of {@code f} with hard labels, so {@code ignore_index},
 *       {@code reduction}, {@code label_smoothing} and {@code class_weights} work as there;</li>
 *   <li>back through the same steps exactly: {@code dL/dK}, then two matrix products, then the
 *       Jacobians of the normalisations {@code (I - v_hat v_hat^T) / ||v||} and of the norms.</li>
 * </ol>
 *
 * {@code 1 / sin(theta)} factors in {@code T'} are bounded by {@value #MIN_SIN} so that
 * {@code cos = +-1} (a feature lying on its class weight, or opposite to it) gives finite
 * gradients; there the cosine's own gradient is 0, so nothing is lost. The clamp of the cosine passes
 * the gradient through (it only removes rounding). The gradient with respect to the scale is
 * {@link LossResult#gradScale()}; {@link #inferenceLogits} gives the logits without the margin.
 *
 * <p>Inputs: {@code features} ({@code N x D}), {@code weights} ({@code C x D}), {@code labels},
 * optional {@code class_weights}. Every value must be finite.
 *
 * <p><b>Float32 range.</b> Every final logit must stay within half the float32 range
 * ({@link #LOGIT_LIMIT}), so that a row's spread, and with it the unweighted loss, is a float32
 * number too. Parameters whose largest logit {@code s max|T(c)|}, or whose largest target slope
 * {@code s max|T'(c)|}, pass it are refused when the loss is built, naming them; norms of features or
 * weights that make the logits of the losses that carry them ({@code s ||x|| ||W|| max|T(c)|})
 * pass it are refused before anything is computed, naming the rows and their norms. A feature or
 * weight gradient that still overflows (a tiny norm with a large scale) is an error naming the row,
 * its norm and the parameters, after the buffers have been written.
 *
 * @throws IllegalArgumentException for a bad input, naming array, row, column and value
 */
public abstract sealed class MarginLoss implements FeatureLoss
        permits NormFaceLoss, AdditiveCosineMarginLoss, ArcFaceLoss, CombinedMarginLoss, MultiplicativeMarginLoss,
        L2SoftmaxLoss {

    /** The floor of a norm in the normalisation, as in PyTorch's {@code normalize}. */
    public static final double NORM_EPS = 1e-12;

    /** The floor of {@code sin(theta)} in the target transforms' derivatives. */
    public static final double MIN_SIN = 1e-6;

    /**
     * The largest final logit: half the float32 range, so that a row's spread (the most its loss can
     * be, less the log of C, without class weights) is a float32 number too.
     */
    public static final double LOGIT_LIMIT = Float.MAX_VALUE / 2;

    /** How the target logit's derivative is taken. */
    public enum Gradient {
        /** The derivative of the formula, through the norms and the cosines (the default). */
        EXACT,
        /** {@code dT/dc} taken as 1 (so {@code df_y/dc = s}), as InsightFace's current code does (arcface, combined_margin). */
        STRAIGHT_THROUGH,
        /** The original SphereFace Caffe layer's unit-normalised feature gradient of the target (sphereface). */
        SPHEREFACE_NORMALIZED
    }

    /** The spec parameters every margin loss takes, besides its own. */
    static final java.util.List<String> COMMON_PARAMETERS = java.util.List.of("label_smoothing", "ignore_index", "reduction");

    private final SoftmaxCrossEntropyLoss crossEntropy;
    final Gradient gradient;

    MarginLoss(Options options) {
        requireOffered(options.gradient);
        this.crossEntropy = SoftmaxCrossEntropyLoss.builder().labelSmoothing(options.labelSmoothing)
                .ignoreIndex(options.ignoreIndex).reduction(options.reduction).build();
        this.gradient = options.gradient;
        if (gradient == null) {
            throw new IllegalArgumentException("gradient must not be null");
        }
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

    /** The factor {@code s} (or alpha) of every logit; 1 for the losses that have none. */
    abstract double scale();

    /** Whether the logits are multiplied by the feature's norm ({@code A_n = ||x_n||}). */
    abstract boolean scalesByFeatureNorm();

    /** Whether the logits are multiplied by the class weight's norm ({@code B_j = ||W_j||}). */
    abstract boolean scalesByWeightNorm();

    /** {@code T(c)}: the target's cosine after the margin. */
    abstract double target(double c);

    /** {@code dT/dc} under the chosen {@link Gradient}. */
    abstract double targetSlope(double c);

    /** Whether the loss has a scale whose gradient means something. */
    boolean hasScale() {
        return true;
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
     * Refuses parameters whose final logits ({@code s max|T(c)|}) or target slope ({@code s max|T'(c)|},
     * under the chosen gradient) pass {@link #LOGIT_LIMIT} whatever the input; each loss's
     * constructor calls it last.
     */
    final void requireParametersInRange() {
        double logit = scale() * targetBound();
        if (logit > LOGIT_LIMIT) {
            throw new IllegalArgumentException(name() + " with " + ownParameters() + " has final logits up to "
                    + "s max|T(c)| = " + Checks.show(logit) + ", more than half the float32 range (" + Checks.show(LOGIT_LIMIT)
                    + "), past which a row's spread and loss overflow; choose smaller parameters");
        }
        double slope = scale() * (gradient == Gradient.STRAIGHT_THROUGH ? 1 : targetSlopeBound());
        if (slope > LOGIT_LIMIT) {
            throw new IllegalArgumentException(name() + " with " + ownParameters() + " gives the target logit a slope "
                    + "up to s max|T'(c)| = " + Checks.show(slope) + ", more than half the float32 range ("
                    + Checks.show(LOGIT_LIMIT) + "), and its gradients overflow; choose smaller parameters");
        }
    }

    /** The loss's own parameters, for messages: {@code s = 64.0, m = 0.35}. */
    String ownParameters() {
        StringJoiner joined = new StringJoiner(", ");
        spec().parameters().forEach((key, value) -> {
            if (!COMMON_PARAMETERS.contains(key) && !key.equals("gradient")) {
                joined.add(key + " = " + value);
            }
        });
        return joined.toString();
    }

    /**
     * Refuses norms that make a final logit pass {@link #LOGIT_LIMIT}: the logits carry
     * {@code s ||x_n|| ||W_j|| T}, so the bound is the scale times the largest norms the loss carries
     * times {@code max|T(c)|}. The message names the rows with those norms.
     */
    void requireLogitsInRange(double[] featureNorms, double[] weightNorms) {
        int r = scalesByFeatureNorm() ? largest(featureNorms) : -1;
        int j = scalesByWeightNorm() ? largest(weightNorms) : -1;
        double a = r < 0 ? 1 : featureNorms[r];
        double b = j < 0 ? 1 : weightNorms[j];
        double bound = scale() * a * b * targetBound();
        if (featureNorms.length > 0 && bound > LOGIT_LIMIT) {
            throw new IllegalArgumentException(name() + "'s final logits can reach " + Checks.show(bound)
                    + " (the scale times the norms it carries times max|T(c)|), more than half the float32 range ("
                    + Checks.show(LOGIT_LIMIT) + "): " + (r < 0 ? "" : "features[" + r + "] has norm " + Checks.show(a))
                    + (r >= 0 && j >= 0 ? " and " : "") + (j < 0 ? "" : "weights[" + j + "] has norm " + Checks.show(b))
                    + "; scale them down");
        }
    }

    /** The index of the largest value (the first of equals), or -1 for none. */
    private static int largest(double[] values) {
        int best = -1;
        for (int i = 0; i < values.length; i++) {
            if (best < 0 || values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * The feature and weight gradients, and the scale's, must be finite: an overflow (a norm far below
     * 1 divides the gradient of a normalised vector) names the row, its norm and the parameters.
     */
    void requireFiniteGradients(LossResult out, double[] featureNorms, double[] weightNorms, int d) {
        requireFiniteGradient("features", out.gradFeatures(), featureNorms, d);
        requireFiniteGradient("weights", out.gradWeights(), weightNorms, d);
        if (!Double.isFinite(out.gradScale())) {
            throw new IllegalArgumentException("the gradient with respect to the scale is " + out.gradScale() + " with "
                    + ownParameters() + "; choose smaller parameters");
        }
    }

    private void requireFiniteGradient(String name, float[] grad, double[] norms, int d) {
        for (int i = 0; i < grad.length; i++) {
            if (!Float.isFinite(grad[i])) {
                int r = i / d;
                throw new IllegalArgumentException("the gradient of " + name + "[" + r + "] is not a float32 number ("
                        + Checks.show(grad[i]) + " at column " + i % d + "): " + name + "[" + r + "] has norm "
                        + Checks.show(norms[r]) + (norms[r] < NORM_EPS ? " (divided as if it were " + NORM_EPS + ")" : "")
                        + " and " + name() + " has " + ownParameters()
                        + "; a larger norm or smaller parameters keep it finite");
            }
        }
    }

    public float labelSmoothing() { return crossEntropy.labelSmoothing(); }
    public int ignoreIndex() { return crossEntropy.ignoreIndex(); }
    public Reduction reduction() { return crossEntropy.reduction(); }
    public Gradient gradient() { return gradient; }

    /** The common parameters as a spec writes them. */
    void putCommon(java.util.Map<String, String> p) {
        p.put("label_smoothing", Float.toString(crossEntropy.labelSmoothing()));
        p.put("ignore_index", Integer.toString(crossEntropy.ignoreIndex()));
        p.put("reduction", crossEntropy.reduction().specName());
        if (gradient != Gradient.EXACT) {
            p.put("gradient", gradient.name().toLowerCase(Locale.ROOT));
        }
    }

    @Override
    public LossResult compute(LossInput input) {
        Objects.requireNonNull(input, "input");
        FloatMatrix x = Checks.require(name(), "features", input.features());
        FloatMatrix w = Checks.require(name(), "weights", input.weights());
        requireLogitsFit(x.rows(), w.rows(), "; compute the loss with a StreamingMarginHead, which holds N x block values");
        LossResult result = LossResult.forFeatures(x.rows(), w.rows(), w.cols());
        compute(input, result);
        return result;
    }

    @Override
    public void compute(LossInput input, LossResult out) {
        Batch batch = validate(input, out);
        if (!out.hasPerClassOutputs()) {
            throw new IllegalArgumentException("the result buffers hold no logits: allocate them with LossResult.forFeatures("
                    + batch.n() + ", " + batch.c() + ", " + batch.d() + "), or compute with a StreamingMarginHead");
        }
        run(batch, out);
        requireFiniteGradients(out, batch.featureNorms(), batch.weightNorms(), batch.d());
    }

    /** A validated batch: the arrays and their shapes, and the norms of their rows. */
    record Batch(float[] features, float[] weights, int n, int c, int d, int[] labels, float[] classWeights,
                 double[] featureNorms, double[] weightNorms) {}

    /** Every check of the margin family's input, before anything is computed. */
    Batch validate(LossInput input, LossResult out) {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(out, "out");
        FloatMatrix x = Checks.require(name(), "features", input.features());
        FloatMatrix w = Checks.require(name(), "weights", input.weights());
        int[] labels = Checks.require(name(), "labels", input.labels());
        Checks.forbid(name(), "logits", input.logits());
        Checks.forbid(name(), "targets", input.targets());
        Checks.forbid(name(), "teacher_logits", input.teacherLogits());
        int n = x.rows();
        int c = w.rows();
        int d = w.cols();
        if (c == 0) {
            throw new IllegalArgumentException("weights has no rows; there must be at least one class");
        }
        if (d == 0) {
            throw new IllegalArgumentException("weights has rows of 0 values; the feature dimension must be at least 1");
        }
        if (n > 0 && x.cols() != d) {
            throw new IllegalArgumentException("features has " + x.cols() + " columns, expected " + d
                    + " (the columns of weights)");
        }
        Checks.requireFinite("features", x);
        Checks.requireFinite("weights", w);
        Checks.requireLabels(labels, n, c, ignoreIndex(), "features");
        if (input.classWeights() != null) {
            Checks.requireClassWeights(input.classWeights(), c);
        }
        if (!out.fits(n, c, d)) {
            throw new IllegalArgumentException("the result buffers are not for " + n + " features of dimension " + d
                    + " and " + c + " classes: allocate them with LossResult.forFeatures(" + n + ", " + c + ", " + d + ")");
        }
        float[] features = n == 0 ? new float[0] : x.data();
        double[] featureNorms = norms(features, n, d);
        double[] weightNorms = norms(w.data(), c, d);
        requireLogitsInRange(featureNorms, weightNorms);
        return new Batch(features, w.data(), n, c, d, labels, input.classWeights(), featureNorms, weightNorms);
    }

    /**
     * The logits a trained model predicts with: {@code s A_n B_j cos_nj} for every class, no margin.
     *
     * @throws IllegalArgumentException for mismatched columns, a value that is not finite, or
     *                                  {@code N x C} logits that are more than a Java array holds
     */
    public FloatMatrix inferenceLogits(FloatMatrix features, FloatMatrix weights) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(weights, "weights");
        int n = features.rows();
        int c = weights.rows();
        int d = weights.cols();
        if (n > 0 && features.cols() != d) {
            throw new IllegalArgumentException("features has " + features.cols() + " columns, expected " + d
                    + " (the columns of weights)");
        }
        Checks.requireFinite("features", features);
        Checks.requireFinite("weights", weights);
        requireLogitsFit(n, c, "; compute the logits of fewer features at a time");
        double[] featureNorms = norms(features.data(), n, d);
        double[] weightNorms = norms(weights.data(), c, d);
        requireLogitsInRange(featureNorms, weightNorms);
        Geometry g = new Geometry(this, features.data(), weights.data(), n, c, d, null, ignoreIndex(), featureNorms,
                weightNorms);
        float[] f = new float[n * c];
        KernelProvider.get().scaleShift(g.products, 0, f, 0, n * c, (float) scale(), 0f);
        return new FloatMatrix(f, n, c);
    }

    private void run(Batch batch, LossResult out) {
        int n = batch.n();
        int c = batch.c();
        int[] labels = batch.labels();
        Geometry g = new Geometry(this, batch.features(), batch.weights(), n, c, batch.d(), labels, ignoreIndex(),
                batch.featureNorms(), batch.weightNorms());
        double s = scale();
        int ignore = ignoreIndex();
        float[] f = out.logits();
        KernelProvider.get().scaleShift(g.products, 0, f, 0, n * c, (float) s, 0f);
        for (int r = 0; r < n; r++) {
            int y = labels[r];
            if (y != ignore) {
                f[r * c + y] = (float) targetLogit(g.targetCos[r], g.featureNorms[r], g.weightNorms[y]);
            }
        }
        // The softmax cross-entropy reads f from out.logits() and writes its outputs into out: its
        // final logits are f itself (temperature 1), written in place.
        crossEntropy.compute(LossInput.builder().logits(new FloatMatrix(f, n, c)).labels(labels)
                .classWeights(batch.classWeights()).build(), out);
        backward(g, labels, out);
    }

    /** {@code N x C} logits must fit one array; {@code advice} says what to do instead. */
    static void requireLogitsFit(int n, int c, String advice) {
        Checks.requireArrayLength(n + " features and " + c + " classes make " + n + "x" + c + " logits: that",
                (long) n * c, advice);
    }

    /** {@code f_y = s A B T(c)}. */
    double targetLogit(double c, double featureNorm, double weightNorm) {
        return scale() * (scalesByFeatureNorm() ? featureNorm : 1) * (scalesByWeightNorm() ? weightNorm : 1) * target(c);
    }

    /**
     * The target's share of the backward pass for {@code G = dL/df_y}: into {@code out[0]}
     * {@code dL/dK_ny} (the target's {@code K} is {@code A B c}), into
     * {@code out[1]} and {@code out[2]} the gradients of the norms {@code A} and {@code B} (0 when the
     * logit does not carry them), into {@code out[3]} the gradient of the scale.
     */
    void targetBackward(double dLdf, double c, double featureNorm, double weightNorm, double[] out) {
        boolean byFeature = scalesByFeatureNorm();
        boolean byWeight = scalesByWeightNorm();
        double a = byFeature ? featureNorm : 1;
        double b = byWeight ? weightNorm : 1;
        double s = scale();
        double t = target(c);
        double slope = slopeOfTarget(c);
        // f_y = s A B T(K / (A B)): df_y/dK = s T'(c). At a zero vector (below the floor) the same value
        // is taken, which is the exact derivative wherever the paper's logit is linear there (m = 1).
        out[0] = dLdf * s * slope;
        // d/dA of s A B T(K / (A B)) with K fixed; below the floor c does not depend on A.
        out[1] = byFeature ? dLdf * s * b * (t - (featureNorm >= NORM_EPS ? c * slope : 0)) : 0;
        out[2] = byWeight ? dLdf * s * a * (t - (weightNorm >= NORM_EPS ? c * slope : 0)) : 0;
        out[3] = dLdf * a * b * t;
    }

    /** {@code dL/df} (in {@code out.gradLogits()}) back to the features, the class weights and the scale. */
    private void backward(Geometry g, int[] labels, LossResult out) {
        int n = g.n;
        int c = g.c;
        int d = g.d;
        double s = scale();
        int ignore = ignoreIndex();
        float[] grad = out.gradLogits();
        float[] gradProducts = new float[n * c];
        double[] gradFeatureNorm = new double[n];
        double[] gradWeightNorm = new double[c];
        double[] target = new double[4];
        double gradScale = 0;
        // With both operands normalised, T' can be huge near c = +-1 (1 / sin(theta)): only dT/dc = 1 goes
        // through the products, the excess is added along the cosine's own gradient (see addExcess).
        boolean normalised = !scalesByFeatureNorm() && !scalesByWeightNorm();
        double[] excess = new double[n];
        KernelSupport k = KernelProvider.get();
        for (int r = 0; r < n; r++) {
            int off = r * c;
            // Off the target f = s K: dL/dK is dL/df times s, and dL/ds is sum_j dL/df_j K_j.
            k.scaleShift(grad, off, gradProducts, off, c, (float) s, 0f);
            gradScale += k.dot(grad, off, g.products, off, c);
            int y = labels[r];
            if (y == ignore) {
                continue;
            }
            targetBackward(grad[off + y], g.targetCos[r], g.featureNorms[r], g.weightNorms[y], target);
            gradProducts[off + y] = (float) (normalised ? grad[off + y] * s : target[0]);
            excess[r] = normalised ? target[0] - grad[off + y] * s : 0;
            gradFeatureNorm[r] += target[1];
            gradWeightNorm[y] += target[2];
            gradScale += target[3] - grad[off + y] * g.products[off + y];
        }
        out.setGradScale(hasScale() ? gradScale : 0);
        float[] gradFeatures = out.gradFeatures();
        float[] gradWeights = out.gradWeights();
        MatrixProducts.netlib().times(gradProducts, n, c, g.weightOperand, d, gradFeatures);
        MatrixProducts.netlib().transposedTimes(gradProducts, n, c, g.featureOperand, d, gradWeights);
        finishOperandGradient(gradFeatures, g.featuresHat, g.featureNorms, 0, gradFeatureNorm, n, d, scalesByFeatureNorm());
        finishOperandGradient(gradWeights, g.weightsHat, g.weightNorms, 0, gradWeightNorm, c, d, scalesByWeightNorm());
        for (int r = 0; normalised && r < n; r++) {
            if (excess[r] != 0) {
                addExcess(excess[r], g.rawFeatures, r, g.featureNorms[r], g.rawWeights, labels[r], g.weightNorms[labels[r]],
                        g.targetCos[r], d, gradFeatures, r * d, gradWeights, labels[r] * d);
            }
        }
        if (gradient == Gradient.SPHEREFACE_NORMALIZED) {
            SphereFaceLoss.normaliseTargetFeatureGradients(this, g, labels, ignore, grad, out.gradFeatures());
        }
    }

    /**
     * Adds {@code e dc/dx} and {@code e dc/dw} for the target's cosine {@code c = x_hat . w_hat}:
     * {@code (w_hat - c x_hat) / ||x||} and {@code (x_hat - c w_hat) / ||w||}, computed in double from
     * the raw vectors so that they are exactly 0 for a feature on its class weight however large
     * {@code e} is (below the norm floor the normalisation is {@code v / eps}, whose Jacobian is
     * {@code I / eps}).
     */
    static void addExcess(double e, float[] x, int r, double featureNorm, float[] w, int y, double weightNorm, double c,
                          int d, float[] gradFeatures, int featureOff, float[] gradWeights, int weightOff) {
        double fx = Math.max(featureNorm, NORM_EPS);
        double fw = Math.max(weightNorm, NORM_EPS);
        boolean projectX = featureNorm >= NORM_EPS;
        boolean projectW = weightNorm >= NORM_EPS;
        for (int k = 0; k < d; k++) {
            double xHat = x[r * d + k] / fx;
            double wHat = w[y * d + k] / fw;
            gradFeatures[featureOff + k] += (float) (e * (wHat - (projectX ? c * xHat : 0)) / fx);
            gradWeights[weightOff + k] += (float) (e * (xHat - (projectW ? c * wHat : 0)) / fw);
        }
    }

    /**
     * Turns the gradient of an operand of {@code K} into that of the raw vectors: through the
     * normalisation when the operand was normalised, plus {@code dL/d||v|| * v_hat} when it was the raw
     * vector whose norm the logits carry.
     */
    static void finishOperandGradient(float[] grad, float[] hat, double[] norms, int normOffset, double[] gradNorm,
                                      int rows, int d, boolean raw) {
        if (!raw) {
            throughNormalisation(grad, hat, norms, normOffset, null, rows, d);
            return;
        }
        KernelSupport k = KernelProvider.get();
        for (int r = 0; r < rows; r++) {
            k.scaleAddScaledInPlace(grad, r * d, d, 1f, hat, r * d, (float) gradNorm[r]);
        }
    }

    /** {@code T'} at a target, under the chosen gradient convention. */
    double slopeOfTarget(double cosine) {
        return gradient == Gradient.STRAIGHT_THROUGH ? 1.0 : targetSlope(cosine);
    }

    /**
     * Turns {@code dL/dv_hat} (in {@code grad}, row by row) into {@code dL/dv}: the Jacobian of
     * {@code v / max(||v||, eps)} is {@code (I - v_hat v_hat^T) / ||v||}, or {@code I / eps} below the
     * floor; plus {@code dL/d||v|| * v_hat} when the logits also carry the norm. Row {@code r} has the
     * norm {@code norms[normOffset + r]}.
     */
    static void throughNormalisation(float[] grad, float[] hat, double[] norms, int normOffset, double[] gradNorm,
                                     int rows, int d) {
        KernelSupport k = KernelProvider.get();
        for (int r = 0; r < rows; r++) {
            int off = r * d;
            double norm = norms[normOffset + r];
            double along = norm >= NORM_EPS ? k.dot(grad, off, hat, off, d) : 0;
            double inverse = 1.0 / Math.max(norm, NORM_EPS);
            double normTerm = gradNorm == null ? 0 : gradNorm[r];
            // (g - along hat) / norm + normTerm hat, the difference first: g and along hat nearly cancel
            // when g points along hat (exactly, in one dimension), and must do so before the scaling.
            k.scaleAddScaledInPlace(grad, off, d, 1f, hat, off, (float) -along);
            k.scaleAddScaledInPlace(grad, off, d, (float) inverse, hat, off, (float) normTerm);
        }
    }

    /** Norms, normalised rows, the operands and product {@code K} of one batch, and the target cosines. */
    static final class Geometry {
        final int n;
        final int c;
        final int d;
        final double[] featureNorms;
        final double[] weightNorms;
        final float[] featuresHat;
        final float[] weightsHat;
        final float[] featureOperand;
        final float[] weightOperand;
        final float[] products;
        final double[] targetCos;
        final float[] rawFeatures;
        final float[] rawWeights;

        Geometry(MarginLoss loss, float[] x, float[] w, int n, int c, int d, int[] labels, int ignore,
                 double[] featureNorms, double[] weightNorms) {
            this.n = n;
            this.c = c;
            this.d = d;
            this.rawFeatures = x;
            this.rawWeights = w;
            this.featureNorms = featureNorms;
            this.weightNorms = weightNorms;
            this.featuresHat = MarginLoss.normalise(x, n, d, featureNorms);
            this.weightsHat = MarginLoss.normalise(w, c, d, weightNorms);
            this.featureOperand = loss.scalesByFeatureNorm() ? x : featuresHat;
            this.weightOperand = loss.scalesByWeightNorm() ? w : weightsHat;
            this.products = new float[n * c];
            MatrixProducts.netlib().timesTransposed(featureOperand, n, d, weightOperand, c, products);
            if (!loss.scalesByFeatureNorm() && !loss.scalesByWeightNorm()) {
                for (int i = 0; i < products.length; i++) {
                    products[i] = Math.max(-1f, Math.min(1f, products[i]));
                }
            }
            this.targetCos = new double[n];
            for (int r = 0; labels != null && r < n; r++) {
                if (labels[r] != ignore) {
                    targetCos[r] = cosine(x, r, featureNorms[r], w, labels[r], weightNorms[labels[r]], d);
                }
            }
        }
    }

    /** The cosine of two raw rows in double, clamped to [-1, 1]; 0 when either is below the norm floor. */
    static double cosine(float[] x, int r, double featureNorm, float[] w, int j, double weightNorm, int d) {
        double dot = 0;
        for (int k = 0; k < d; k++) {
            dot += (double) x[r * d + k] * w[j * d + k];
        }
        double cos = dot / (Math.max(featureNorm, NORM_EPS) * Math.max(weightNorm, NORM_EPS));
        return Math.max(-1, Math.min(1, cos));
    }

    /** The rows of {@code v} divided by their {@code norms} (floored at {@link #NORM_EPS}). */
    static float[] normalise(float[] v, int rows, int d, double[] norms) {
        float[] hat = new float[rows * d];
        for (int r = 0; r < rows; r++) {
            normaliseRow(v, r * d, hat, r * d, d, norms[r]);
        }
        return hat;
    }

    /** The Euclidean norm of each row of {@code v}. */
    static double[] norms(float[] v, int rows, int d) {
        double[] norms = new double[rows];
        for (int r = 0; r < rows; r++) {
            norms[r] = norm(v, r, d);
        }
        return norms;
    }

    /**
     * One row divided by its norm, in double and rounded once: a float reciprocal would round twice,
     * and then even a one-dimensional unit vector is not exactly +-1.
     */
    static void normaliseRow(float[] v, int from, float[] hat, int to, int d, double norm) {
        double inverse = 1.0 / Math.max(norm, NORM_EPS);
        for (int k = 0; k < d; k++) {
            hat[to + k] = (float) (v[from + k] * inverse);
        }
    }

    /** The Euclidean norm of row {@code r}, accumulated in double. */
    static double norm(float[] v, int r, int d) {
        return Math.sqrt(KernelProvider.get().dot(v, r * d, v, r * d, d));
    }

    /** {@code sin(theta)} of a cosine, bounded below by {@link #MIN_SIN}. */
    static double boundedSin(double c) {
        return Math.max(Math.sqrt(Math.max(0, 1 - c * c)), MIN_SIN);
    }

    /** The options every margin loss shares. */
    public static final class Options {
        double labelSmoothing = 0;
        int ignoreIndex = -100;
        Reduction reduction = Reduction.MEAN;
        Gradient gradient = Gradient.EXACT;

        Options() {}
    }

    /** Setters every margin loss's builder shares. */
    @SuppressWarnings("unchecked")
    public abstract static class Builder<B extends Builder<B>> {
        final Options options = new Options();

        /** Mixes eps in [0, 1) of the uniform distribution into the target (default 0). */
        public B labelSmoothing(double labelSmoothing) { options.labelSmoothing = labelSmoothing; return (B) this; }

        /** The label that marks a sample to ignore (default -100). */
        public B ignoreIndex(int ignoreIndex) { options.ignoreIndex = ignoreIndex; return (B) this; }

        public B reduction(Reduction reduction) { options.reduction = reduction; return (B) this; }

        /** How the target logit's derivative is taken (default {@link Gradient#EXACT}). */
        public B gradient(Gradient gradient) { options.gradient = gradient; return (B) this; }
    }
}
