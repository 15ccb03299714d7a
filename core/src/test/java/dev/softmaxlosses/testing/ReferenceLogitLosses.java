package dev.softmaxlosses.testing;

import java.util.Arrays;

/**
 * {@code focal}, {@code distillation} and the hinge family of {@code LOSSES.md} written literally in
 * {@code double}, sharing no code with the library: the one reference of these formulas.
 *
 * <p>The row functions return one row's loss and write the row's gradient (of the unreduced loss);
 * masked classes are {@code -Infinity} logits. The batch functions apply the common rules on top
 * (ignored rows, the reductions, the normaliser of {@code mean}, a normaliser of 0 giving 0) and
 * report the outputs. Where the spec leaves a choice open, they follow the library's documented
 * choice: focal and the hinge losses report the logits themselves as final logits, distillation
 * reports {@code student / T}, {@code softplus_lse} reports {@code f = s z} with the target's entry
 * {@code s (z_y - m)} (just {@code s z} for an ignored row); focal's {@code mean} divides by the count
 * of non-ignored samples, distillation's by {@code N}.
 */
public final class ReferenceLogitLosses {

    /** The parameters; each loss reads those it has. {@code labels == null} only for distillation. */
    public static final class Options {
        public double gamma = 2;
        public double alpha = Double.NaN;        // focal 1, distillation 0.9
        public double temperature = 4;
        public double margin = Double.NaN;       // multiclass/max 1, lse/softplus 0
        public double scale = 1;
        public int ignoreIndex = -100;
        public String reduction = "mean";
        public double[] classWeights;

        public Options gamma(double g) { gamma = g; return this; }
        public Options alpha(double a) { alpha = a; return this; }
        public Options temperature(double t) { temperature = t; return this; }
        public Options margin(double m) { margin = m; return this; }
        public Options scale(double s) { scale = s; return this; }
        public Options ignoreIndex(int i) { ignoreIndex = i; return this; }
        public Options reduction(String r) { reduction = r; return this; }
        public Options classWeights(double... w) { classWeights = w; return this; }
    }

    private ReferenceLogitLosses() {}

    // ---------------------------------------------------------------- row helpers

    /** {@code max + log1p(sum of the others' exp(s x - max))} over every class but {@code skip}: accurate also when one term dominates. */
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

    private static double[] scaled(double[] v, double s) {
        double[] r = new double[v.length];
        for (int k = 0; k < v.length; k++) {
            r[k] = v[k] * s;
        }
        return r;
    }

    // ---------------------------------------------------------------- one row

    /**
     * {@code -a (1 - p_y)^gamma log p_y}, with {@code 1 - p_y} summed from the other probabilities (it
     * stays positive where {@code p_y} rounds to 1, even in double), and so is the target's gradient.
     */
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
            grad[k] = k == y ? c * rest : -c * p[k];
        }
        return -a * Math.pow(rest, gamma) * logP;
    }

    /** {@code y < 0}: no hard term. */
    public static double distillation(double[] s, double[] t, int y, double temperature, double alpha, double[] grad) {
        double[] ss = scaled(s, 1 / temperature);
        double[] tt = scaled(t, 1 / temperature);
        double lseS = lse(ss, 1, -1);
        double lseT = lse(tt, 1, -1);
        double kl = 0;
        for (int k = 0; k < s.length; k++) {
            double pt = Math.exp(tt[k] - lseT);
            double qs = Math.exp(ss[k] - lseS);
            if (pt > 0) {
                kl += pt * ((tt[k] - lseT) - (ss[k] - lseS));
            }
            grad[k] = alpha * temperature * (qs - pt);
        }
        double loss = alpha * temperature * temperature * kl;
        if (y >= 0 && alpha < 1) {
            double l = lse(s, 1, -1);
            loss += (1 - alpha) * (l - s[y]);
            for (int k = 0; k < s.length; k++) {
                grad[k] += (1 - alpha) * (Math.exp(s[k] - l) - (k == y ? 1 : 0));
            }
        }
        return loss;
    }

    public static double multiclassHinge(double[] z, int y, double m, double[] grad) {
        double loss = 0;
        Arrays.fill(grad, 0);
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

    /** The gradient goes to the first of the largest rivals (strictly larger replaces). */
    public static double maxHinge(double[] z, int y, double m, double[] grad) {
        Arrays.fill(grad, 0);
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
        Arrays.fill(grad, 0);
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

    /** Every other class masked: {@code u = -Infinity}, loss and gradient 0. */
    public static double softplusLse(double[] z, int y, double m, double s, double[] grad) {
        Arrays.fill(grad, 0);
        double l = lse(z, s, y);
        double u = l - s * (z[y] - m);
        if (u == Double.NEGATIVE_INFINITY) {
            return 0;
        }
        double sigmoid = u >= 0 ? 1 / (1 + Math.exp(-u)) : Math.exp(u) / (1 + Math.exp(u));
        for (int i = 0; i < z.length; i++) {
            grad[i] = i == y ? -sigmoid * s : sigmoid * s * Math.exp(s * z[i] - l);
        }
        return u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u));
    }

    // ---------------------------------------------------------------- a batch

    /** One row's loss and its gradient (of the per-sample loss) into {@code grad}; {@code label} -1 when ignored. */
    private interface Row {
        double apply(int n, double[] z, int label, double[] grad);
    }

    public static Expected focal(double[][] z, int[] y, Options o) {
        double alpha = Double.isNaN(o.alpha) ? 1 : o.alpha;
        return run(z, y, o, false, (n, row, label, grad) ->
                focal(row, label, o.gamma, alpha * (o.classWeights == null ? 1 : o.classWeights[label]), grad), z);
    }

    public static Expected distillation(double[][] z, double[][] teacher, int[] y, Options o) {
        double alpha = Double.isNaN(o.alpha) ? 0.9 : o.alpha;
        double t = o.temperature;
        double[][] finals = new double[z.length][];
        for (int n = 0; n < z.length; n++) {
            finals[n] = scaled(z[n], 1 / t);
        }
        return run(z, y, o, true, (n, row, label, grad) -> distillation(row, teacher[n], label, t, alpha, grad), finals);
    }

    public static Expected multiclassHinge(double[][] z, int[] y, Options o) {
        double m = Double.isNaN(o.margin) ? 1 : o.margin;
        return run(z, y, o, false, (n, row, label, grad) -> multiclassHinge(row, label, m, grad), z);
    }

    public static Expected maxHinge(double[][] z, int[] y, Options o) {
        double m = Double.isNaN(o.margin) ? 1 : o.margin;
        return run(z, y, o, false, (n, row, label, grad) -> maxHinge(row, label, m, grad), z);
    }

    public static Expected lseHinge(double[][] z, int[] y, Options o) {
        double m = Double.isNaN(o.margin) ? 0 : o.margin;
        return run(z, y, o, false, (n, row, label, grad) -> lseHinge(row, label, m, grad), z);
    }

    public static Expected softplusLse(double[][] z, int[] y, Options o) {
        double m = Double.isNaN(o.margin) ? 0 : o.margin;
        double s = o.scale;
        double[][] finals = new double[z.length][];
        for (int n = 0; n < z.length; n++) {
            finals[n] = scaled(z[n], s);
            if (y[n] != o.ignoreIndex) {
                finals[n][y[n]] = s * (z[n][y[n]] - m);
            }
        }
        return run(z, y, o, false, (n, row, label, grad) -> softplusLse(row, label, m, s, grad), finals);
    }

    /** The loss named by a spec's name ({@code focal}, ..., {@code softplus_lse}); {@code teacher} only for distillation. */
    public static Expected of(String name, double[][] z, double[][] teacher, int[] y, Options o) {
        return switch (name) {
            case "focal" -> focal(z, y, o);
            case "distillation" -> distillation(z, teacher, y, o);
            case "multiclass_hinge" -> multiclassHinge(z, y, o);
            case "max_hinge" -> maxHinge(z, y, o);
            case "lse_hinge" -> lseHinge(z, y, o);
            case "softplus_lse" -> softplusLse(z, y, o);
            default -> throw new IllegalArgumentException("no reference for " + name);
        };
    }

    /**
     * Ignored rows add nothing (unless {@code unlabelledRowsTrain}: distillation's soft term), the
     * reductions, the normaliser (non-ignored count; {@code N} for distillation), a normaliser of 0
     * giving 0, and the outputs of the final logits {@code finals}.
     */
    private static Expected run(double[][] z, int[] y, Options o, boolean unlabelledRowsTrain, Row row, double[][] finals) {
        int n = z.length;
        int c = n == 0 ? 0 : z[0].length;
        double[] losses = new double[n];
        double[][] grad = new double[n][c];
        double[][] probabilities = new double[n][];
        double[] lse = new double[n];
        int counted = 0;
        double total = 0;
        for (int i = 0; i < n; i++) {
            probabilities[i] = softmax(finals[i], 1);
            lse[i] = lse(finals[i], 1, -1);
            boolean ignored = y == null || y[i] == o.ignoreIndex;
            if (!ignored) {
                counted++;
            }
            if (ignored && !unlabelledRowsTrain) {
                continue;
            }
            losses[i] = row.apply(i, z[i], ignored ? -1 : y[i], grad[i]);
            total += losses[i];
        }
        double normaliser = unlabelledRowsTrain ? n : counted;
        Double loss;
        switch (o.reduction) {
            case "mean" -> {
                double scale = normaliser > 0 ? 1 / normaliser : 0;
                loss = total * scale;
                for (double[] r : grad) {
                    for (int k = 0; k < c; k++) {
                        r[k] *= scale;
                    }
                }
            }
            case "sum" -> loss = total;
            case "none" -> loss = null;
            default -> throw new IllegalArgumentException(o.reduction);
        }
        double[][] logits = new double[n][];
        for (int i = 0; i < n; i++) {
            logits[i] = Arrays.copyOf(finals[i], c);
        }
        return new Expected(loss, losses, logits, probabilities, lse, grad);
    }
}
