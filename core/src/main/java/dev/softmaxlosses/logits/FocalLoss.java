package dev.softmaxlosses.logits;

import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.kernel.KernelSupport;

import java.util.Map;

/**
 * The multi-class (softmax) focal loss of Lin et al. 2017, "Focal Loss for Dense Object Detection":
 * the softmax loss with each sample scaled down by how well it is already classified, so that the
 * many easy samples do not drown the few hard ones.
 *
 * <pre>
 *   p = softmax(z),  a_n = alpha * w_{y_n}
 *   l_n = - a_n (1 - p_y)^gamma log p_y
 *   dl_n/dz_k = a_n [ gamma (1 - p_y)^(gamma - 1) p_y log p_y - (1 - p_y)^gamma ] (delta_{k y} - p_k)
 * </pre>
 *
 * {@code 1 - p_y} is computed as the sum of the other classes' probabilities, so that it does not
 * round to 0 when {@code p_y} rounds to 1; where it is exactly 0 the bracket's first term is 0 (its
 * limit), also for {@code gamma < 1}. {@code gamma = 0, alpha = 1} is exactly
 * {@code softmax_cross_entropy}; for {@code gamma > 0} and {@code a_n <= 1} the loss never exceeds it.
 *
 * <p><b>Inputs:</b> {@code logits} ({@code N x C}), {@code labels}, optional {@code class_weights}
 * (builder or input, not both). <b>Parameters</b> (spec {@code focal}): {@code gamma} &gt;= 0 (2),
 * {@code alpha} &gt; 0 (1), {@code ignore_index} (-100), {@code reduction} (mean over the non-ignored
 * samples). torchvision's {@code sigmoid_focal_loss} is the binary relative; related:
 * {@code softmax_cross_entropy}.
 *
 * @throws IllegalArgumentException for a bad input, naming array, row, column and value
 */
public final class FocalLoss extends LogitLossBase {

    public static final String NAME = "focal";

    private final double gamma;
    private final double alpha;
    private final float[] classWeights;

    private FocalLoss(Builder b) {
        super(b.ignoreIndex, b.reduction);
        this.gamma = b.gamma;
        this.alpha = b.alpha;
        this.classWeights = b.classWeights;
    }

    public static Builder builder() {
        return new Builder();
    }

    public double gamma() { return gamma; }
    public double alpha() { return alpha; }

    @Override String name() { return NAME; }

    @Override public boolean takesClassWeights() { return true; }

    @Override float[] builderClassWeights() { return classWeights; }

    @Override
    double gradientBound(RowPass p) {
        // |dl/dz| <= a (|slope| + 1) and |slope| = gamma (1 - p)^(gamma - 1) p |log p| <= gamma.
        return alpha * Checks.maxWeight(p.weights) * (1 + gamma);
    }

    @Override
    String overflowCause(RowPass p, int n, int label, double loss) {
        float[] weights = p.weights;
        double a = alpha * (weights == null ? 1.0 : weights[label]);
        if (a > 1 && Checks.isFloat32(loss / a)) {
            return "lower " + (weights == null ? "alpha = " : "alpha * class_weights[" + label + "] = ") + Checks.show(a)
                    + ", which multiplies it";
        }
        return super.overflowCause(p, n, label, loss);
    }

    @Override
    void putOwnParameters(Map<String, String> p) {
        p.put("gamma", show(gamma));
        p.put("alpha", show(alpha));
    }

    @Override
    double row(RowPass pass, KernelSupport k, int n, float rowMax, int label, float[] carried) {
        float[] z = pass.z;
        float[] grad = pass.grad;
        float[] weights = pass.weights;
        float gradScale = pass.gradScale;
        int cols = pass.cols;
        int off = n * cols;
        if (carried == null) {
            k.expSum(z, off, cols, 1f, rowMax, grad, off);
        } else {
            k.expSumAndMax(z, off, cols, 1f, rowMax, grad, off, off + cols, carried);
        }
        // 1 - p_y as the other classes' own sum, not S - e_y: it must not round away when p_y is near 1.
        double expTarget = grad[off + label];
        double others = k.sum(grad, off, label) + k.sum(grad, off + label + 1, cols - label - 1);
        double sum = expTarget + others;
        double rest = others / sum;
        double p = expTarget / sum;
        double logP = others <= expTarget ? -Math.log1p(others / expTarget) : ((double) z[off + label] - rowMax) - Math.log(sum);
        double a = alpha * (weights == null ? 1.0 : weights[label]);
        double modulator = gamma == 0 ? 1.0 : Math.pow(rest, gamma);
        double slope = gamma == 0 || rest == 0 ? 0.0 : gamma * Math.pow(rest, gamma - 1) * p * logP;
        double c = a * (slope - modulator);
        k.scaleAddInPlace(grad, off, cols, (float) (-c * gradScale / sum), 0f);
        grad[off + label] = (float) (c * rest * gradScale);
        return -a * modulator * logP;
    }

    /** Builds a {@link FocalLoss}; invalid values fail in {@link #build()}. */
    public static final class Builder {
        private double gamma = 2;
        private double alpha = 1;
        private int ignoreIndex = -100;
        private Reduction reduction = Reduction.MEAN;
        private float[] classWeights;

        private Builder() {}

        /** The focusing exponent, {@code >= 0} (default 2; 0 gives the softmax loss). */
        public Builder gamma(double gamma) { this.gamma = gamma; return this; }

        /** The overall weight, {@code > 0} (default 1). */
        public Builder alpha(double alpha) { this.alpha = alpha; return this; }

        public Builder ignoreIndex(int ignoreIndex) { this.ignoreIndex = ignoreIndex; return this; }

        public Builder reduction(Reduction reduction) { this.reduction = reduction; return this; }

        /** Per-class weights {@code w}, copied; each finite and {@code >= 0}. */
        public Builder classWeights(float... classWeights) {
            this.classWeights = classWeights == null ? null : classWeights.clone();
            return this;
        }

        public FocalLoss build() {
            Checks.requireNonNegative("gamma", gamma);
            Checks.requirePositive("alpha", alpha);
            if (classWeights != null) {
                Checks.requireWeights("class_weights", classWeights);
            }
            return new FocalLoss(this);
        }
    }
}
