package dev.softmaxlosses.logits;

import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.kernel.KernelSupport;

import java.util.Arrays;

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
        super(margin, ignoreIndex, reduction);
    }

    /** Margin 0, mean over the batch. */
    public static LseHingeLoss create() {
        return new LseHingeLoss(0f, -100, Reduction.MEAN);
    }

    @Override
    String name() {
        return NAME;
    }

    @Override
    double row(KernelSupport k, float[] z, float[] teacher, int off, int cols, float rowMax, int label,
               float[] weights, float gradScale, float[] grad) {
        float shift = HingeSupport.maxOfOthers(k, z, off, cols, label, rowMax);
        if (shift == Float.NEGATIVE_INFINITY) {
            // Every other class is masked: LSE is -Infinity and the hinge is inactive.
            Arrays.fill(grad, off, off + cols, 0f);
            return 0;
        }
        double sum = HingeSupport.expSumOfOthers(k, z, off, cols, label, 1f, shift, grad, 0, null);
        double argument = (((double) shift - z[off + label]) + Math.log(sum)) + margin;
        if (!(argument > 0)) {
            Arrays.fill(grad, off, off + cols, 0f);
            return 0;
        }
        k.scaleAddInPlace(grad, off, cols, (float) (gradScale / sum), 0f);
        grad[off + label] = -gradScale;
        return argument;
    }
}
