package dev.softmaxlosses.margin;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.Loss;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossParameters;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.logits.SoftmaxCrossEntropyLoss;

import java.util.Locale;

/**
 * The path every loss of the margin family shares (as pytorch-metric-learning's
 * {@code LargeMarginSoftmaxLoss} is the base of its ArcFace and CosFace):
 *
 * <ol>
 *   <li>normalise: {@code x_hat = x / max(||x||, 1e-12)}, {@code W_hat} likewise;</li>
 *   <li>cosines by one matrix product: {@code cos = x_hat W_hat^T}, clamped to [-1, 1];</li>
 *   <li>final logits {@code f_nj = s A_n B_j cos_nj} for {@code j != y}, and for the target
 *       {@code f_ny = s A_n B_y T(cos_ny)}, where {@code A_n} is {@code ||x_n||} or 1, {@code B_j} is
 *       {@code ||W_j||} or 1, and {@code T} is the paper's target transform;</li>
 *   <li>the softmax cross-entropy of {@code f} with hard labels, so {@code ignore_index},
 *       {@code reduction}, {@code label_smoothing} and {@code class_weights} work as there;</li>
 *   <li>back through the same steps exactly: {@code dL/dcos}, then two matrix products, then the
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
 */
public abstract sealed class MarginLoss implements Loss
        permits NormFaceLoss, CosFaceLoss, AmSoftmaxLoss, ArcFaceLoss, CombinedMarginLoss, SphereFaceLoss,
        LSoftmaxLoss, L2SoftmaxLoss {

    /** The floor of a norm in the normalisation, as in PyTorch's {@code normalize}. */
    public static final double NORM_EPS = 1e-12;

    /** The floor of {@code sin(theta)} in the target transforms' derivatives. */
    public static final double MIN_SIN = 1e-6;

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
        this.crossEntropy = SoftmaxCrossEntropyLoss.builder().labelSmoothing(options.labelSmoothing)
                .ignoreIndex(options.ignoreIndex).reduction(options.reduction).build();
        this.gradient = options.gradient;
        if (gradient == null) {
            throw new IllegalArgumentException("gradient must not be null");
        }
    }

    /** The spec name. */
    abstract String name();

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
        FloatMatrix x = Checks.require(name(), "features", input.features());
        FloatMatrix w = Checks.require(name(), "weights", input.weights());
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
        run(batch.features(), batch.weights(), batch.n(), batch.c(), batch.d(), batch.labels(), batch.classWeights(), out);
    }

    /** A validated batch: the arrays and their shapes. */
    record Batch(float[] features, float[] weights, int n, int c, int d, int[] labels, float[] classWeights) {}

    /** Every check of the margin family's input, before anything is computed. */
    Batch validate(LossInput input, LossResult out) {
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
        return new Batch(n == 0 ? new float[0] : x.data(), w.data(), n, c, d, labels, input.classWeights());
    }

    /** The logits a trained model predicts with: {@code s A_n B_j cos_nj} for every class, no margin. */
    public FloatMatrix inferenceLogits(FloatMatrix features, FloatMatrix weights) {
        int n = features.rows();
        int c = weights.rows();
        int d = weights.cols();
        if (n > 0 && features.cols() != d) {
            throw new IllegalArgumentException("features has " + features.cols() + " columns, expected " + d
                    + " (the columns of weights)");
        }
        Checks.requireFinite("features", features);
        Checks.requireFinite("weights", weights);
        Geometry g = new Geometry(features.data(), weights.data(), n, c, d);
        float[] f = new float[n * c];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < c; j++) {
                f[r * c + j] = (float) (scale() * rowFactor(g, r) * columnFactor(g, j) * g.cos[r * c + j]);
            }
        }
        return new FloatMatrix(f, n, c);
    }

    private double rowFactor(Geometry g, int r) {
        return scalesByFeatureNorm() ? g.featureNorms[r] : 1.0;
    }

    private double columnFactor(Geometry g, int j) {
        return scalesByWeightNorm() ? g.weightNorms[j] : 1.0;
    }

    private void run(float[] x, float[] w, int n, int c, int d, int[] labels, float[] classWeights, LossResult out) {
        Geometry g = new Geometry(x, w, n, c, d);
        double s = scale();
        int ignore = ignoreIndex();
        float[] f = out.logits();
        for (int r = 0; r < n; r++) {
            double rowFactor = s * rowFactor(g, r);
            for (int j = 0; j < c; j++) {
                f[r * c + j] = (float) (rowFactor * columnFactor(g, j) * g.cos[r * c + j]);
            }
            int y = labels[r];
            if (y != ignore) {
                f[r * c + y] = (float) (rowFactor * columnFactor(g, y) * target(g.cos[r * c + y]));
            }
        }
        // The softmax cross-entropy reads f from out.logits() and writes its outputs into out: its
        // final logits are f itself (temperature 1), written in place.
        crossEntropy.compute(LossInput.builder().logits(new FloatMatrix(f, n, c)).labels(labels)
                .classWeights(classWeights).build(), out);
        backward(g, labels, out);
    }

    /** {@code dL/df} (in {@code out.gradLogits()}) back to the features, the class weights and the scale. */
    private void backward(Geometry g, int[] labels, LossResult out) {
        int n = g.n;
        int c = g.c;
        int d = g.d;
        double s = scale();
        int ignore = ignoreIndex();
        float[] grad = out.gradLogits();
        float[] gradCos = new float[n * c];
        double[] gradFeatureNorm = new double[n];
        double[] gradWeightNorm = new double[c];
        double gradScale = 0;
        for (int r = 0; r < n; r++) {
            double a = rowFactor(g, r);
            int y = labels[r];
            for (int j = 0; j < c; j++) {
                double dLdf = grad[r * c + j];
                if (dLdf == 0) {
                    continue;
                }
                double cosine = g.cos[r * c + j];
                boolean isTarget = j == y && y != ignore;
                double value = isTarget ? target(cosine) : cosine;
                double slope = isTarget ? slopeOfTarget(cosine) : 1.0;
                double b = columnFactor(g, j);
                gradCos[r * c + j] = (float) (dLdf * s * a * b * slope);
                gradFeatureNorm[r] += dLdf * s * b * value;
                gradWeightNorm[j] += dLdf * s * a * value;
                gradScale += dLdf * a * b * value;
            }
        }
        out.setGradScale(hasScale() ? gradScale : 0);
        float[] gradFeatures = out.gradFeatures();
        float[] gradWeights = out.gradWeights();
        MatrixProducts.times(gradCos, n, c, g.weightsHat, d, gradFeatures);
        MatrixProducts.transposedTimes(gradCos, n, c, g.featuresHat, d, gradWeights);
        throughNormalisation(gradFeatures, g.featuresHat, g.featureNorms, 0, scalesByFeatureNorm() ? gradFeatureNorm : null, n, d);
        throughNormalisation(gradWeights, g.weightsHat, g.weightNorms, 0, scalesByWeightNorm() ? gradWeightNorm : null, c, d);
        if (gradient == Gradient.SPHEREFACE_NORMALIZED) {
            SphereFaceLoss.normaliseTargetFeatureGradients(this, g, labels, ignore, grad, out.gradFeatures());
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
        for (int r = 0; r < rows; r++) {
            int off = r * d;
            double norm = norms[normOffset + r];
            double along = 0;
            if (norm >= NORM_EPS) {
                for (int k = 0; k < d; k++) {
                    along += (double) grad[off + k] * hat[off + k];
                }
            }
            double inverse = 1.0 / Math.max(norm, NORM_EPS);
            double normTerm = gradNorm == null ? 0 : gradNorm[r];
            for (int k = 0; k < d; k++) {
                grad[off + k] = (float) ((grad[off + k] - along * hat[off + k]) * inverse + normTerm * hat[off + k]);
            }
        }
    }

    /** Norms, normalised rows and cosines of one batch. */
    static final class Geometry {
        final int n;
        final int c;
        final int d;
        final double[] featureNorms;
        final double[] weightNorms;
        final float[] featuresHat;
        final float[] weightsHat;
        final float[] cos;

        Geometry(float[] x, float[] w, int n, int c, int d) {
            this.n = n;
            this.c = c;
            this.d = d;
            this.featureNorms = new double[n];
            this.weightNorms = new double[c];
            this.featuresHat = MarginLoss.normalise(x, n, d, featureNorms);
            this.weightsHat = MarginLoss.normalise(w, c, d, weightNorms);
            this.cos = new float[n * c];
            MatrixProducts.timesTransposed(featuresHat, n, d, weightsHat, c, cos);
            for (int i = 0; i < cos.length; i++) {
                cos[i] = Math.max(-1f, Math.min(1f, cos[i]));
            }
        }

    }

    /** The rows of {@code v} divided by their norms (floored at {@link #NORM_EPS}); the norms into {@code norms}. */
    static float[] normalise(float[] v, int rows, int d, double[] norms) {
        float[] hat = new float[rows * d];
        for (int r = 0; r < rows; r++) {
            norms[r] = norm(v, r, d);
            double inverse = 1.0 / Math.max(norms[r], NORM_EPS);
            for (int k = 0; k < d; k++) {
                hat[r * d + k] = (float) (v[r * d + k] * inverse);
            }
        }
        return hat;
    }

    /** The Euclidean norm of row {@code r}, accumulated in double. */
    static double norm(float[] v, int r, int d) {
        double squares = 0;
        for (int k = 0; k < d; k++) {
            squares += (double) v[r * d + k] * v[r * d + k];
        }
        return Math.sqrt(squares);
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

        static Options read(LossParameters p) {
            Options o = new Options();
            o.labelSmoothing = p.getDouble("label_smoothing", 0);
            o.ignoreIndex = p.getInt("ignore_index", -100);
            o.reduction = p.getEnum("reduction", Reduction.class, Reduction.MEAN);
            o.gradient = p.getEnum("gradient", Gradient.class, Gradient.EXACT);
            return o;
        }

        /** The gradient conventions a loss allows besides {@link Gradient#EXACT}. */
        Options allow(String loss, Gradient... allowed) {
            if (gradient == Gradient.EXACT) {
                return this;
            }
            for (Gradient a : allowed) {
                if (a == gradient) {
                    return this;
                }
            }
            throw new IllegalArgumentException("gradient=" + gradient.name().toLowerCase(Locale.ROOT)
                    + " is not offered by " + loss + (allowed.length == 0 ? "; it has only gradient=exact"
                    : "; it offers exact and " + allowed[0].name().toLowerCase(Locale.ROOT)));
        }
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

    /** A finite scale {@code > 0}. */
    static double requireScale(String name, double value) {
        return Checks.requirePositive(name, value);
    }

    /** A finite value. */
    static double requireFinite(String name, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(name + " must be a finite number, got " + value);
        }
        return value;
    }
}
