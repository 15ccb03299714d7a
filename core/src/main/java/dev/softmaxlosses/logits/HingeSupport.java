package dev.softmaxlosses.logits;

import dev.softmaxlosses.kernel.KernelSupport;

import java.util.Arrays;

/** Row pieces the hinge family shares: reductions over the classes other than the target. */
final class HingeSupport {

    private HingeSupport() {}

    /**
     * The largest logit of the row other than the target's ({@code -Infinity} when all others are
     * masked). Below the row's (finite) maximum, the target is not where the maximum is: then it is
     * the maximum, and no pass is needed.
     */
    static float maxOfOthers(KernelSupport k, float[] z, int off, int cols, int label, float rowMax) {
        if (z[off + label] < rowMax) {
            return rowMax;
        }
        return Math.max(k.max(z, off, label), k.max(z, off + label + 1, cols - label - 1));
    }

    /**
     * Writes {@code exp(z_i * scale - shift)} for the other classes into {@code grad} (0 at the
     * target) and returns their sum. When {@code nextMaxOut} is not null, the maximum of the next row
     * (at {@code nextOff}) goes to {@code nextMaxOut[0]}, read in the same passes
     * ({@link KernelSupport#expSumAndMax}).
     */
    static double expSumOfOthers(KernelSupport k, float[] z, int off, int cols, int label, float scale, float shift,
                                 float[] grad, int nextOff, float[] nextMaxOut) {
        int after = label + 1;
        double sum;
        if (nextMaxOut == null) {
            sum = k.expSum(z, off, label, scale, shift, grad, off)
                    + k.expSum(z, off + after, cols - after, scale, shift, grad, off + after);
        } else {
            double before = k.expSumAndMax(z, off, label, scale, shift, grad, off, nextOff, nextMaxOut);
            float nextMaxBefore = nextMaxOut[0];
            sum = before + k.expSumAndMax(z, off + after, cols - after, scale, shift, grad, off + after,
                    nextOff + after, nextMaxOut);
            // Math.max, as KernelSupport.max: a NaN anywhere in the next row is its maximum.
            nextMaxOut[0] = Math.max(Math.max(nextMaxBefore, z[nextOff + label]), nextMaxOut[0]);
        }
        grad[off + label] = 0f;
        return sum;
    }

    /**
     * The gradient of a hinge whose active term sends {@code g} to the target's rivals as the softmax
     * over them: {@code g e_i / sum} to each other class (whose exponentials the row holds, 0 at the
     * target) and {@code -g} to the target.
     */
    static void spreadOverOthers(KernelSupport k, float[] grad, int off, int cols, int label, double g, double sum) {
        k.scaleAddInPlace(grad, off, cols, (float) (g / sum), 0f);
        grad[off + label] = (float) -g;
    }

    /** An inactive row: a zero gradient and a loss of 0. */
    static double inactive(float[] grad, int off, int cols) {
        Arrays.fill(grad, off, off + cols, 0f);
        return 0;
    }
}
