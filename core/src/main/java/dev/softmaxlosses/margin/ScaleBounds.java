package dev.softmaxlosses.margin;

/**
 * The bounds the papers derive on the scale of normalised logits: with cosines in [-1, 1] a scale
 * too small caps the probability the softmax can give the right class, however well the features
 * are learned.
 */
public final class ScaleBounds {

    private ScaleBounds() {}

    /**
     * The largest probability of the target with logits {@code s cos} over {@code classes} classes:
     * target cosine 1, every other -1, so {@code e^{2s} / (e^{2s} + C - 1)}. NormFace's point: with
     * {@code s = 1} it is 0.4509 for 10 classes and 0.00734 for 1000.
     */
    public static double bestProbability(double s, int classes) {
        requireClasses(classes, 1);
        return 1 / (1 + (classes - 1) * Math.exp(-2 * s));
    }

    /**
     * CosFace's lower bound on {@code s} for a target probability {@code p} over {@code C} classes
     * (Wang et al. 2018, eq. 10): {@code s >= (C - 1) / C * log((C - 1) p / (1 - p))}.
     */
    public static double cosFaceMinimumScale(double p, int classes) {
        requireClasses(classes, 2);
        requireProbability(p);
        return (classes - 1.0) / classes * Math.log((classes - 1) * p / (1 - p));
    }

    /**
     * The L2-softmax lower bound on alpha for a target probability {@code p} over {@code C} classes
     * (Ranjan et al. 2017): {@code alpha >= log(p (C - 2) / (1 - p))}.
     */
    public static double l2SoftmaxMinimumAlpha(double p, int classes) {
        requireClasses(classes, 3);
        requireProbability(p);
        return Math.log(p * (classes - 2) / (1 - p));
    }

    /** Whether {@code s} reaches the CosFace bound for {@code p} over {@code classes} classes. */
    public static boolean isScaleLargeEnough(double s, double p, int classes) {
        return s >= cosFaceMinimumScale(p, classes);
    }

    private static void requireClasses(int classes, int least) {
        if (classes < least) {
            throw new IllegalArgumentException("the bound needs at least " + least + " classes, got " + classes);
        }
    }

    private static void requireProbability(double p) {
        if (!(p > 0 && p < 1)) {
            throw new IllegalArgumentException("p must be in (0, 1), got " + p);
        }
    }
}
