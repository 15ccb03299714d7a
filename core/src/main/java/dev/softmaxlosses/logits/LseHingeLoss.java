package dev.softmaxlosses.logits;

import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.kernel.KernelSupport;

import java.util.List;

/**
 * The log-sum-exp hinge: the survey's third step, the max over the other classes replaced by its
 * smooth upper bound, their log-sum-exp.
 *
 * <pre>
 *   l_n = max(0, LSE_{i != y}(z_i) - z_y + m)
 * </pre>
 *
 * Sub-gradient: when the argument is strictly positive, the softmax over the non-target classes to
 * each {@code z_i} and -1 to {@code z_y}; zero otherwise. Since {@code LSE >= max}, it is never
 * smaller than {@link MaxHingeLoss} at equal margin.
 *
 * <p><b>Inputs:</b> {@code logits} ({@code N x C}, {@code C >= 2}), {@code labels}.
 * <b>Parameters</b> (spec {@code lse_hinge}): {@code margin} m (0), {@code ignore_index} (-100),
 * {@code reduction}. Next step: {@link SoftplusLseLoss}.
 *
 * @throws IllegalArgumentException for a bad input, naming array, row, column and value
 */
public final class LseHingeLoss extends HingeLoss {

    public static final String NAME = "lse_hinge";

    /** The loss with margin {@code m} (finite). */
    public LseHingeLoss(float margin, int ignoreIndex, Reduction reduction) {
        super(NAME, margin, ignoreIndex, reduction);
    }

    /** Margin 0, mean over the batch. */
    public static LseHingeLoss create() {
        return new LseHingeLoss(0f, -100, Reduction.MEAN);
    }

    @Override
    double hingeRow(RowPass p, KernelSupport k, float[] z, int off, int cols, int label, float rowMax) {
        float shift = HingeSupport.maxOfOthers(k, z, off, cols, label, rowMax);
        if (shift == Float.NEGATIVE_INFINITY) {
            // Every other class is masked: LSE is -Infinity and the hinge is inactive.
            return HingeSupport.inactive(p.grad, off, cols);
        }
        double sum = HingeSupport.expSumOfOthers(k, z, off, cols, label, 1f, shift, p.grad, 0, null);
        double argument = (((double) shift - z[off + label]) + Math.log(sum)) + margin;
        if (!(argument > 0)) {
            return HingeSupport.inactive(p.grad, off, cols);
        }
        HingeSupport.spreadOverOthers(k, p.grad, off, cols, label, p.gradScale, sum);
        return argument;
    }
}
