package dev.softmaxlosses.testing;

/**
 * Focal, distillation and the hinge family of LOSSES.md written literally in {@code double}, one
 * row at a time, with no code shared with the library. Each returns the row's loss and writes the
 * row's gradient (of the unreduced loss).
 */
public final class ReferenceLogitLosses {

    private ReferenceLogitLosses() {}

    /** {@code max + log1p(sum of the others' exp(x - max))}: accurate also when one term dominates. */
    static double lse(double[] z, double scale, int skip) {
        int top = -1;
        for (int i = 0; i < z.length; i++) {
            if (i != skip && (top < 0 || z[i] * scale > z[top] * scale)) {
                top = i;
            }
        }
        double max = z[top] * scale;
        if (max == Double.NEGATIVE_INFINITY) {
            return max;
        }
        double rest = 0;
        for (int i = 0; i < z.length; i++) {
            if (i != skip && i != top) {
                rest += Math.exp(z[i] * scale - max);
            }
        }
        return max + Math.log1p(rest);
    }

    /** {@code log softmax(z)_y} as {@code (z_y - max) - log1p(rest)}, with no cancellation near {@code p_y = 1}. */
    static double logSoftmaxAt(double[] z, int y) {
        int top = 0;
        for (int i = 1; i < z.length; i++) {
            if (z[i] > z[top]) {
                top = i;
            }
        }
        double rest = 0;
        for (int i = 0; i < z.length; i++) {
            if (i != top) {
                rest += Math.exp(z[i] - z[top]);
            }
        }
        return (z[y] - z[top]) - Math.log1p(rest);
    }

    static double[] softmax(double[] z, double scale) {
        double l = lse(z, scale, -1);
        double[] p = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            p[i] = Math.exp(z[i] * scale - l);
        }
        return p;
    }

    public static double focal(double[] z, int y, double gamma, double a, double[] grad) {
        double[] p = softmax(z, 1);
        double rest = 0;
        for (int i = 0; i < z.length; i++) {
            if (i != y) {
                rest += p[i];
            }
        }
        double logP = logSoftmaxAt(z, y);
        double slope = gamma == 0 || rest == 0 ? 0 : gamma * Math.pow(rest, gamma - 1) * p[y] * logP;
        double c = a * (slope - Math.pow(rest, gamma));
        for (int k = 0; k < z.length; k++) {
            grad[k] = c * ((k == y ? 1 : 0) - p[k]);
        }
        return -a * Math.pow(rest, gamma) * logP;
    }

    /** {@code y < 0}: no hard term. */
    public static double distillation(double[] s, double[] t, int y, double temperature, double alpha, double[] grad) {
        double[] pt = softmax(t, 1 / temperature);
        double[] qs = softmax(s, 1 / temperature);
        double[] p = softmax(s, 1);
        double kl = 0;
        for (int i = 0; i < s.length; i++) {
            if (pt[i] > 0) {
                kl += pt[i] * ((t[i] / temperature - lse(t, 1 / temperature, -1)) - (s[i] / temperature - lse(s, 1 / temperature, -1)));
            }
        }
        double loss = alpha * temperature * temperature * kl;
        for (int i = 0; i < s.length; i++) {
            grad[i] = alpha * temperature * (qs[i] - pt[i]);
        }
        if (y >= 0 && alpha < 1) {
            loss += (1 - alpha) * (lse(s, 1, -1) - s[y]);
            for (int i = 0; i < s.length; i++) {
                grad[i] += (1 - alpha) * (p[i] - (i == y ? 1 : 0));
            }
        }
        return loss;
    }

    public static double multiclassHinge(double[] z, int y, double m, double[] grad) {
        double loss = 0;
        java.util.Arrays.fill(grad, 0);
        for (int i = 0; i < z.length; i++) {
            double arg = z[i] - z[y] + m;
            if (i != y && arg > 0) {
                loss += arg;
                grad[i] += 1;
                grad[y] -= 1;
            }
        }
        return loss;
    }

    public static double maxHinge(double[] z, int y, double m, double[] grad) {
        java.util.Arrays.fill(grad, 0);
        int best = -1;
        for (int i = 0; i < z.length; i++) {
            if (i != y && (best < 0 || z[i] > z[best])) {
                best = i;
            }
        }
        double arg = z[best] - z[y] + m;
        if (arg > 0) {
            grad[best] = 1;
            grad[y] = -1;
            return arg;
        }
        return 0;
    }

    public static double lseHinge(double[] z, int y, double m, double[] grad) {
        java.util.Arrays.fill(grad, 0);
        double l = lse(z, 1, y);
        double arg = l - z[y] + m;
        if (arg > 0) {
            for (int i = 0; i < z.length; i++) {
                grad[i] = i == y ? -1 : Math.exp(z[i] - l);
            }
            return arg;
        }
        return 0;
    }

    public static double softplusLse(double[] z, int y, double m, double s, double[] grad) {
        double l = lse(z, s, y);
        double u = l - s * (z[y] - m);
        double sigmoid = 1 / (1 + Math.exp(-u));
        for (int i = 0; i < z.length; i++) {
            grad[i] = i == y ? -sigmoid * s : sigmoid * s * Math.exp(s * z[i] - l);
        }
        return u > 30 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u));
    }
}
