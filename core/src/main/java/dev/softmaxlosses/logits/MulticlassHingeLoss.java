package dev.softmaxlosses.logits;

import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.kernel.KernelSupport;

import java.util.List;

/**
 * The multi-class hinge loss of Weston and Watkins 1999, "Support Vector Machines for Multi-Class
 * Pattern Recognition": the first step of the survey's derivation from hinge loss to softmax loss.
 *
 * <pre>
 *   l_n = sum_{i != y} max(0, z_i - z_y + m)
 * </pre>
 *
 * Sub-gradient: a term is active where its argument is strictly positive; each active term adds
 * +1 to {@code z_i} and -1 to {@code z_y}. Unlike PyTorch's {@code MultiMarginLoss} the sum is not
 * divided by {@code C} (as LOSSES.md writes it).
 *
 * <p><b>Inputs:</b> {@code logits} ({@code N x C}, {@code C >= 2}), {@code labels}.
 * <b>Parameters</b> (spec {@code multiclass_hinge}): {@code margin} m (1), {@code ignore_index}
 * (-100), {@code reduction} (mean over the non-ignored samples). Next step: {@link MaxHingeLoss}.
 *
 * @throws IllegalArgumentException for a bad input, naming array, row, column and value
 */
public final class MulticlassHingeLoss extends HingeLoss {

    public static final String NAME = "multiclass_hinge";

    /** The loss with margin {@code m} (finite). */
    public MulticlassHingeLoss(float margin, int ignoreIndex, Reduction reduction) {
        super(NAME, margin, ignoreIndex, reduction);
    }

    /** Margin 1, mean over the batch. */
    public static MulticlassHingeLoss create() {
        return new MulticlassHingeLoss(1f, -100, Reduction.MEAN);
    }

    /** The target's entry is minus the count of active terms. */
    @Override double gradientBound(RowPass p) { return Math.max(1, p.cols - 1); }

    @Override
    String overflowCause(RowPass p, int n, int label, double loss) {
        return super.overflowCause(p, n, label, loss) + " (the loss sums a term for each of the "
                + (p.cols - 1) + " other classes)";
    }

    @Override
    double hingeRow(RowPass p, KernelSupport k, float[] z, int off, int cols, int label, float rowMax) {
        float[] grad = p.grad;
        float gradScale = p.gradScale;
        float target = z[off + label];
        double loss = k.hingeSum(z, off, cols, target, margin, grad, off);
        // The kernel also counted the target's own term, max(0, m): take it back out.
        double active = k.sum(grad, off, cols);
        if (margin > 0) {
            loss -= margin;
            active -= 1;
        }
        if (loss == Double.POSITIVE_INFINITY) {
            // A term's float difference overflowed (a row spread beyond float32), though its flag is right:
            // the sum again in double, for the overflow rule to judge or for a negative margin to bring back.
            loss = 0;
            for (int i = off; i < off + cols; i++) {
                loss += i == off + label ? 0 : Math.max(0, ((double) z[i] - target) + margin);
            }
        }
        k.scaleAddInPlace(grad, off, cols, gradScale, 0f);
        grad[off + label] = active == 0 ? 0f : (float) (-active * gradScale);
        return loss;
    }
}
