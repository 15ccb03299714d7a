package dev.softmaxlosses.logits;

import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.kernel.KernelSupport;

/**
 * The softplus of the log-sum-exp hinge: the survey's last step, where the hinge {@code max(0, u)}
 * becomes its smooth version {@code softplus(u) = log(1 + e^u)}, which is the softmax loss.
 *
 * <pre>
 *   u   = LSE_{i != y}(s z_i) - s (z_y - m)
 *   l_n = softplus(u)
 *   dl_n/dz_i = sigmoid(u) s softmax_{i != y}(s z)_i,   dl_n/dz_y = -sigmoid(u) s
 * </pre>
 *
 * It equals the softmax cross-entropy of the final logits {@code f = s z} with {@code f_y = s (z_y - m)}
 * (an additive margin on the target, as CosFace puts it on cosines); with {@code m = 0, s = 1} it is
 * {@code softmax_cross_entropy} to rounding. The final logits reported are that {@code f}.
 *
 * <p><b>Inputs:</b> {@code logits} ({@code N x C}, {@code C >= 2}), {@code labels}.
 * <b>Parameters</b> (spec {@code softplus_lse}): {@code margin} m (0), {@code scale} s &gt; 0 (1),
 * {@code ignore_index} (-100), {@code reduction}. Previous step: {@link LseHingeLoss}.
 *
 * @throws IllegalArgumentException for a bad input, naming array, row, column and value
 */
public final class SoftplusLseLoss extends HingeLoss {

    public static final String NAME = "softplus_lse";

    private final float scale;

    /** The loss with margin {@code m} (finite) and scale {@code s > 0}. */
    public SoftplusLseLoss(float margin, float scale, int ignoreIndex, Reduction reduction) {
        super(NAME, margin, ignoreIndex, reduction);
        this.scale = (float) Checks.requirePositive("scale", scale);
    }

    /** Margin 0, scale 1 (the softmax loss), mean over the batch. */
    public static SoftplusLseLoss create() {
        return new SoftplusLseLoss(0f, 1f, -100, Reduction.MEAN);
    }

    public float scale() { return scale; }
    @Override double gradientBound(RowPass p) { return scale; }

    @Override
    String overflowCause(RowPass p, int n, int label, double loss) {
        return super.overflowCause(p, n, label, loss)
                + (scale > 1 ? ", which scale = " + scale + " multiplies" : "");
    }

    @Override double temperature() { return 1.0 / scale; }

    @Override
    void putParameters(java.util.Map<String, String> p) {
        p.put("scale", Float.toString(scale));
    }

    @Override
    void finalLogits(KernelSupport k, float[] z, int off, int cols, int label, float[] out, int outOff) {
        k.scaleShift(z, off, out, outOff, cols, scale, 0f);
        if (label != NO_LABEL) {
            double target = scale * ((double) z[off + label] - margin);
            if (!Checks.isFloat32(target)) {
                int n = off / cols;
                throw new IllegalArgumentException("the final logit of sample " + n + ", scale * (logits[" + n + "]["
                        + label + "] - margin) = " + Checks.show(target) + ", is beyond the float32 range: lower margin = "
                        + margin + " or logits[" + n + "][" + label + "] = " + Checks.show(z[off + label]));
            }
            out[outOff + label] = (float) target;
        }
    }

    @Override
    double row(RowPass p, KernelSupport k, int n, float rowMax, int label, float[] carried) {
        float[] z = p.z;
        float[] grad = p.grad;
        int cols = p.cols;
        int off = n * cols;
        float rival = HingeSupport.maxOfOthers(k, z, off, cols, label, rowMax);
        float shift = rival * scale;
        double sum;
        if (shift == Float.NEGATIVE_INFINITY || KernelSupport.needsFinalLogits(rival, scale)) {
            handOn(p, k, n, carried);
            if (shift == Float.NEGATIVE_INFINITY) {
                return HingeSupport.inactive(grad, off, cols);
            }
            // The final logits s z into the gradient row, their exponentials in place.
            k.scaleShift(z, off, grad, off, cols, scale, 0f);
            sum = HingeSupport.expSumOfOthers(k, grad, off, cols, label, 1f, shift, grad, 0, null);
        } else {
            sum = HingeSupport.expSumOfOthers(k, z, off, cols, label, scale, shift, grad, off + cols, carried);
        }
        double u = (double) shift + Math.log(sum) - (double) scale * ((double) z[off + label] - margin);
        double sigmoid = u >= 0 ? 1 / (1 + Math.exp(-u)) : Math.exp(u) / (1 + Math.exp(u));
        double softplus = u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u));
        HingeSupport.spreadOverOthers(k, grad, off, cols, label, sigmoid * scale * p.gradScale, sum);
        return softplus;
    }
}
