package dev.softmaxlosses.kernel;

/**
 * The softmax cross-entropy of one row with a hard label, label smoothing and class weights, written
 * once: every path (the row kernels of both twins, the soft-target row, the margin engine) takes its
 * loss and gradient from here. <b>Internal.</b>
 *
 * <p>With final logits {@code f}, {@code p = softmax(f)}, {@code q = (1 - eps) onehot(y) + eps / C}
 * and class weights {@code w} (all ones when there are none, their sum {@code W}):
 * <pre>
 *   l      = - sum_c w_c q_c log p_c = mass lse - (1 - eps) w_y f_y - eps / C sum_c w_c f_c
 *   mass   = sum_c w_c q_c = (1 - eps) w_y + eps / C W
 *   dl/df_c = p_c mass - w_c q_c
 * </pre>
 * The log-sum-exp is taken as {@code shift + log(sum)} with {@code sum = sum_c exp(f_c - shift)},
 * and the loss is computed relative to {@code shift}, so that large logits (where {@code lse} and
 * {@code f_y} nearly cancel) keep their precision.
 */
public final class CrossEntropyTerms {

    private CrossEntropyTerms() {}

    /** {@code eps / C}: each class's share of the smoothing. */
    public static double uniform(float eps, int cols) {
        return eps == 0f ? 0.0 : (double) eps / cols;
    }

    /** {@code sum_c w_c q_c = (1 - eps) w_y + eps / C W}. */
    public static double mass(float eps, double targetWeight, double classWeightSum, int cols) {
        return (1.0 - eps) * targetWeight + uniform(eps, cols) * classWeightSum;
    }

    /**
     * The row's loss {@code mass log(sum) + (1 - eps) w_y (shift - f_y) + eps / C (shift W - sum_c w_c f_c)};
     * {@code weightedLogitSum} ({@code sum_c w_c f_c}) is read only when {@code eps > 0}.
     */
    public static double loss(double mass, double shift, double logSum, float eps, double targetWeight,
                              double targetLogit, double classWeightSum, double weightedLogitSum, int cols) {
        double loss = mass * logSum + (1.0 - eps) * targetWeight * (shift - targetLogit);
        if (eps > 0f) {
            loss += uniform(eps, cols) * (shift * classWeightSum - weightedLogitSum);
        }
        return loss;
    }

    /**
     * The target's gradient entry {@code gradScale (p_y mass - w_y q_y)}, from {@code 1 - p_y = others / sum}
     * ({@code others}: the sum of the other classes' exponentials) so that it does not round to zero
     * when {@code p_y} rounds to 1.
     */
    public static double targetGradient(double mass, double others, double inverseSum, float eps, double targetWeight,
                                        double classWeightSum, int cols, double gradScale) {
        return gradScale * (-mass * others * inverseSum + uniform(eps, cols) * (classWeightSum - targetWeight));
    }

    /** {@code w_c q_c = w_c ((1 - eps) t_c + eps / C)}: a class's weighted share of a soft (or one-hot) target. */
    public static double weightedTarget(float eps, double weight, double target, int cols) {
        return weight * ((1.0 - eps) * target + uniform(eps, cols));
    }

    /** A class's gradient entry {@code gradScale (p_c mass - w_c q_c)}. */
    public static double gradient(double probability, double mass, double weightedTarget, double gradScale) {
        return (probability * mass - weightedTarget) * gradScale;
    }

    /** A class's term {@code -w_c q_c log p_c = w_c q_c (lse - f_c)} of the loss; 0 log 0 = 0 for a masked class. */
    public static double lossTerm(double weightedTarget, double logSumExp, double finalLogit) {
        return weightedTarget > 0 ? weightedTarget * (logSumExp - finalLogit) : 0.0;
    }

    /**
     * The row kernel's last steps, once the exponentials ({@code sum} of them, each in the gradient row)
     * are known: the gradient row, the log-sum-exp ({@link CrossEntropyRow#logSumExp}) and the loss.
     */
    static double finishRow(KernelSupport k, CrossEntropyRow r, float shift, double sum) {
        int target = r.gradOff + r.label;
        double others = sum - r.grad[target];
        double targetWeight = r.classWeights == null ? 1.0 : r.classWeights[r.label];
        double weightedMass = mass(r.eps, targetWeight, r.classWeightSum, r.len);
        float alpha = (float) (weightedMass / sum * r.gradScale);
        float beta = (float) (-uniform(r.eps, r.len) * r.gradScale);
        if (r.classWeights == null) {
            k.scaleAddInPlace(r.grad, r.gradOff, r.len, alpha, beta);
        } else {
            k.scaleAddScaledInPlace(r.grad, r.gradOff, r.len, alpha, r.classWeights, 0, beta);
        }
        r.grad[target] = (float) targetGradient(weightedMass, others, 1.0 / sum, r.eps, targetWeight, r.classWeightSum,
                r.len, r.gradScale);
        double logSum = Math.log(sum);
        r.logSumExp = shift + logSum;
        return loss(weightedMass, shift, logSum, r.eps, targetWeight, r.z[r.off + r.label] * r.invT, r.classWeightSum,
                r.invT * r.weightedLogitSum, r.len);
    }
}
