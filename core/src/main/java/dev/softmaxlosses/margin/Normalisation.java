package dev.softmaxlosses.margin;

import dev.softmaxlosses.kernel.KernelProvider;
import dev.softmaxlosses.kernel.KernelSupport;

/**
 * The normalisation {@code v_hat = v / max(||v||, eps)} of features and class weights, its Jacobian,
 * and the target's cosine: the geometry every margin loss shares.
 */
final class Normalisation {

    /** The floor of a norm, as in PyTorch's {@code normalize}. */
    static final double NORM_EPS = MarginLoss.NORM_EPS;

    private Normalisation() {}

    /** The Euclidean norm of each of {@code rows} rows of {@code v}, accumulated in double, into {@code norms}. */
    static void norms(float[] v, int rows, int d, double[] norms) {
        KernelSupport k = KernelProvider.get();
        for (int r = 0; r < rows; r++) {
            norms[r] = Math.sqrt(k.dot(v, r * d, v, r * d, d));
        }
    }

    /**
     * Rows {@code first .. first + rows - 1} of {@code v} divided by their norms into {@code hat} from
     * its start, in double and rounded once: a float reciprocal would round twice, and then even a
     * one-dimensional unit vector is not exactly +-1.
     */
    static void normaliseRows(float[] v, int first, int rows, int d, double[] norms, float[] hat) {
        for (int j = 0; j < rows; j++) {
            double inverse = 1.0 / Math.max(norms[first + j], NORM_EPS);
            int from = (first + j) * d;
            for (int k = 0; k < d; k++) {
                hat[j * d + k] = (float) (v[from + k] * inverse);
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

    /** {@code sin(theta)} of a cosine, bounded below by {@link MarginLoss#MIN_SIN}. */
    static double boundedSin(double c) {
        return Math.max(Math.sqrt(Math.max(0, 1 - c * c)), MarginLoss.MIN_SIN);
    }

    /**
     * Turns the gradient of an operand of {@code K} (row by row in {@code grad}) into that of the raw
     * vectors: through the normalisation when the operand was normalised (the Jacobian of
     * {@code v / max(||v||, eps)} is {@code (I - v_hat v_hat^T) / ||v||}, or {@code I / eps} below the
     * floor), or plus {@code dL/d||v|| v_hat} when it was the raw vector whose norm the logits carry;
     * a normalised operand gets {@code dL/d||v|| v_hat} too when a margin depends on the norm.
     * Row {@code r} has the norm {@code norms[normOffset + r]}.
     */
    static void finishOperandGradient(float[] grad, float[] hat, double[] norms, int normOffset, double[] gradNorm,
                                      int rows, int d, boolean raw) {
        KernelSupport k = KernelProvider.get();
        for (int r = 0; r < rows; r++) {
            int off = r * d;
            if (raw) {
                k.scaleAddScaledInPlace(grad, off, d, 1f, hat, off, (float) gradNorm[r]);
                continue;
            }
            double norm = norms[normOffset + r];
            double along = norm >= NORM_EPS ? k.dot(grad, off, hat, off, d) : 0;
            // (g - along hat) / norm, the difference first: g and along hat nearly cancel when g points
            // along hat (exactly, in one dimension), and must do so before the scaling.
            k.scaleAddScaledInPlace(grad, off, d, 1f, hat, off, (float) -along);
            k.scaleAddInPlace(grad, off, d, (float) (1.0 / Math.max(norm, NORM_EPS)), 0f);
            if (gradNorm[r] != 0) {
                // A loss whose margin depends on the norm (MagFace): d||v||/dv = v_hat.
                k.scaleAddScaledInPlace(grad, off, d, 1f, hat, off, (float) gradNorm[r]);
            }
        }
    }

    /**
     * Adds {@code e dc/dx} and {@code e dc/dw} for the target's cosine {@code c = x_hat . w_hat}:
     * {@code (w_hat - c x_hat) / ||x||} and {@code (x_hat - c w_hat) / ||w||}, computed in double from
     * the raw vectors so that they are exactly 0 for a feature on its class weight however large
     * {@code e} is (below the norm floor the normalisation is {@code v / eps}, whose Jacobian is
     * {@code I / eps}). Row {@code j} of {@code w}'s gradient is row {@code gradRow} of {@code gradWeights}.
     */
    static void addCosineGradient(double e, float[] x, int r, double featureNorm, float[] w, int j, double weightNorm,
                                  double c, int d, float[] gradFeatures, float[] gradWeights, int gradRow) {
        double fx = Math.max(featureNorm, NORM_EPS);
        double fw = Math.max(weightNorm, NORM_EPS);
        boolean projectX = featureNorm >= NORM_EPS;
        boolean projectW = weightNorm >= NORM_EPS;
        for (int k = 0; k < d; k++) {
            double xHat = x[r * d + k] / fx;
            double wHat = w[j * d + k] / fw;
            gradFeatures[r * d + k] += (float) (e * (wHat - (projectX ? c * xHat : 0)) / fx);
            gradWeights[gradRow * d + k] += (float) (e * (xHat - (projectW ? c * wHat : 0)) / fw);
        }
    }
}
