package dev.softmaxlosses.margin;

import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.internal.Checks;

import java.util.Objects;

/**
 * The margin family's checks: the input before anything is computed, and the float32 range of the
 * logits (from the parameters and the norms) and of the gradients (after).
 */
final class MarginChecks {

    private MarginChecks() {}

    /** Every check of a batch over all its classes, and of the result buffers when given; the batch into {@code ws}. */
    static void validate(MarginLoss loss, FeatureBatch batch, LossResult out, MarginWorkspace ws) {
        Objects.requireNonNull(batch, "batch");
        FloatMatrix w = batch.weights();
        if (w.rows() == 0) {
            throw new IllegalArgumentException("weights has no rows; there must be at least one class");
        }
        validate(loss, batch, 0, classes(loss, w.rows()), out, ws);
    }

    /** The classes of {@code rows} rows of class weights: {@code rows / k} for {@code k} sub-centres, which must divide it. */
    static int classes(MarginLoss loss, int rows) {
        int k = loss.subCentres();
        if (rows % k != 0) {
            throw new IllegalArgumentException("weights has " + rows + " rows, not a multiple of k = " + k
                    + " (the sub-centres of each class)");
        }
        return rows / k;
    }

    /**
     * Every check of a batch whose weights are the rows of classes {@code [lo, lo + rows)} of
     * {@code classes}; then its features, prepared, and its classes into {@code ws}.
     */
    static void validate(MarginLoss loss, FeatureBatch batch, int lo, int classes, LossResult out, MarginWorkspace ws) {
        FloatMatrix w = batch.weights();
        validate(loss, batch.features(), w.data(), w.rows(), w.cols(), batch.labels(), batch.classWeights(), lo, classes,
                out, ws);
    }

    /**
     * As {@link #validate(MarginLoss, FeatureBatch, int, int, LossResult, MarginWorkspace)}, with the
     * weights the first {@code rows} rows of {@code d} values of {@code weights}, which may be longer.
     */
    static void validate(MarginLoss loss, FloatMatrix x, float[] weights, int rows, int d, int[] labels, float[] classWeights,
                         int lo, int classes, LossResult out, MarginWorkspace ws) {
        int n = x.rows();
        int k = loss.subCentres();
        int c = classes(loss, rows);
        if (d == 0) {
            throw new IllegalArgumentException("weights has rows of 0 values; the feature dimension must be at least 1");
        }
        if (n > 0 && x.cols() != d) {
            throw new IllegalArgumentException("features has " + x.cols() + " columns, expected " + d
                    + " (the columns of weights)");
        }
        Checks.requireFinite("features", x);
        Checks.requireFinite("weights", weights, rows, d);
        Checks.requireLabels(labels, n, classes, loss.ignoreIndex(), "features");
        if (classWeights != null) {
            Checks.requireClassWeights(classWeights, classes);
        }
        if (out != null && !out.fits(n, c, d, rows)) {
            throw new IllegalArgumentException("the result buffers are not for " + n + " features of dimension " + d
                    + " and " + c + " classes: allocate them with LossResult.forFeatures(" + n + ", " + c + ", " + d
                    + (k == 1 ? "" : ", " + rows) + ")");
        }
        MarginEngine.Features features = ws.features;
        features.measure(x.data(), n, d);
        double[] weightNorms = MarginWorkspace.atLeast(ws.classes.norms, rows);
        Normalisation.norms(weights, rows, d, weightNorms);
        ws.classes.set(weights, weightNorms, 0, lo, c, k);
        requireLogitsInRange(loss, features.norms, n, weightNorms, rows, lo);
        features.prepare(loss, labels, classWeights, classes);
    }

    /** {@code N x C} logits must fit one array; {@code advice} says what to do instead. */
    static void requireLogitsFit(int n, int c, String advice) {
        Checks.requireArrayLength(n + " features and " + c + " classes make " + n + "x" + c + " logits: that",
                (long) n * c, advice);
    }

    /**
     * Refuses parameters whose final logits ({@code s max|T(c)|}) or target slope ({@code s max|T'(c)|},
     * under the chosen gradient) pass {@link MarginLoss#LOGIT_LIMIT} whatever the input.
     */
    static void requireParametersInRange(MarginLoss loss) {
        double logit = loss.scale() * loss.targetBound();
        if (logit > MarginLoss.LOGIT_LIMIT) {
            throw new IllegalArgumentException(loss.name() + " with " + loss.ownParameters() + " has final logits up to "
                    + "s max|T(c)| = " + Checks.show(logit) + ", more than half the float32 range ("
                    + Checks.show(MarginLoss.LOGIT_LIMIT) + "), past which a row's spread and loss overflow; choose smaller parameters");
        }
        double slope = loss.scale() * (loss.gradient() == MarginLoss.Gradient.STRAIGHT_THROUGH ? 1 : loss.targetSlopeBound());
        if (slope > MarginLoss.LOGIT_LIMIT) {
            throw new IllegalArgumentException(loss.name() + " with " + loss.ownParameters() + " gives the target logit a slope "
                    + "up to s max|T'(c)| = " + Checks.show(slope) + ", more than half the float32 range ("
                    + Checks.show(MarginLoss.LOGIT_LIMIT) + "), and its gradients overflow; choose smaller parameters");
        }
    }

    /**
     * Refuses norms that make a final logit pass {@link MarginLoss#LOGIT_LIMIT}: the logits carry
     * {@code s ||x_n|| ||W_j|| T}, so the bound is the scale times the largest norms the loss carries
     * times {@code max|T(c)|}. The message names the rows with those norms (of the first {@code n} and
     * {@code c} values; weights from class {@code lo}).
     */
    static void requireLogitsInRange(MarginLoss loss, double[] featureNorms, int n, double[] weightNorms, int c, int lo) {
        int r = loss.scalesByFeatureNorm() ? largest(featureNorms, n) : -1;
        int j = loss.scalesByWeightNorm() ? largest(weightNorms, c) : -1;
        double a = r < 0 ? 1 : featureNorms[r];
        double b = j < 0 ? 1 : weightNorms[j];
        double bound = loss.scale() * a * b * loss.targetBound();
        if (n > 0 && bound > MarginLoss.LOGIT_LIMIT) {
            throw new IllegalArgumentException(loss.name() + "'s final logits can reach " + Checks.show(bound)
                    + " (the scale times the norms it carries times max|T(c)|), more than half the float32 range ("
                    + Checks.show(MarginLoss.LOGIT_LIMIT) + "): " + (r < 0 ? "" : "features[" + r + "] has norm " + Checks.show(a))
                    + (r >= 0 && j >= 0 ? " and " : "") + (j < 0 ? "" : "weights[" + (lo + j) + "] has norm " + Checks.show(b))
                    + "; scale them down");
        }
    }

    /** The index of the largest of the first {@code count} values (the first of equals), or -1 for none. */
    private static int largest(double[] values, int count) {
        int best = -1;
        for (int i = 0; i < count; i++) {
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
    static void requireFiniteGradients(MarginLoss loss, float[] gradFeatures, float[] gradWeights, double gradScale,
                                       double[] featureNorms, double[] weightNorms, int d) {
        requireFiniteGradient(loss, "features", gradFeatures, featureNorms, d);
        requireFiniteGradient(loss, "weights", gradWeights, weightNorms, d);
        if (!Double.isFinite(gradScale)) {
            throw new IllegalArgumentException("the gradient with respect to the scale is " + gradScale + " with "
                    + loss.ownParameters() + "; choose smaller parameters");
        }
    }

    private static void requireFiniteGradient(MarginLoss loss, String name, float[] grad, double[] norms, int d) {
        for (int i = 0; i < grad.length; i++) {
            if (!Float.isFinite(grad[i])) {
                int r = i / d;
                throw new IllegalArgumentException("the gradient of " + name + "[" + r + "] is not a float32 number ("
                        + Checks.show(grad[i]) + " at column " + i % d + "): " + name + "[" + r + "] has norm "
                        + Checks.show(norms[r]) + (norms[r] < MarginLoss.NORM_EPS ? " (divided as if it were "
                        + MarginLoss.NORM_EPS + ")" : "") + " and " + loss.name() + " has " + loss.ownParameters()
                        + "; a larger norm or smaller parameters keep it finite");
            }
        }
    }
}
