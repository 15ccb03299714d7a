package dev.softmaxlosses.logits;

import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.kernel.KernelSupport;

import java.util.List;

/**
 * The max-hinge loss of Crammer and Singer 2001, "On the Algorithmic Implementation of Multiclass
 * Kernel-based Vector Machines": the survey's second step, only the most violating class counts.
 *
 * <pre>
 *   l_n = max(0, max_{i != y} z_i - z_y + m)
 * </pre>
 *
 * Sub-gradient: when the argument is strictly positive, +1 to the first index of the largest
 * non-target logit and -1 to {@code z_y}; zero otherwise.
 *
 * <p><b>Inputs:</b> {@code logits} ({@code N x C}, {@code C >= 2}), {@code labels}.
 * <b>Parameters</b> (spec {@code max_hinge}): {@code margin} m (1), {@code ignore_index} (-100),
 * {@code reduction}. Previous step: {@link MulticlassHingeLoss} (never smaller); next: {@link LseHingeLoss}.
 *
 * @throws IllegalArgumentException for a bad input, naming array, row, column and value
 */
public final class MaxHingeLoss extends HingeLoss {

    public static final String NAME = "max_hinge";

    /** The loss with margin {@code m} (finite). */
    public MaxHingeLoss(float margin, int ignoreIndex, Reduction reduction) {
        super(NAME, margin, ignoreIndex, reduction);
    }

    /** Margin 1, mean over the batch. */
    public static MaxHingeLoss create() {
        return new MaxHingeLoss(1f, -100, Reduction.MEAN);
    }

    @Override
    double hingeRow(RowPass p, KernelSupport k, float[] z, int off, int cols, int label, float rowMax) {
        HingeSupport.inactive(p.grad, off, cols);
        float rival = HingeSupport.maxOfOthers(k, z, off, cols, label, rowMax);
        double argument = ((double) rival - z[off + label]) + margin;
        if (!(argument > 0)) {
            return 0;
        }
        int first = off;
        while (first == off + label || z[first] != rival) {
            first++;
        }
        p.grad[first] = p.gradScale;
        p.grad[off + label] = -p.gradScale;
        return argument;
    }
}
