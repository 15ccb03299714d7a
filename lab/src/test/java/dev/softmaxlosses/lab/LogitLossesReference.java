package dev.softmaxlosses.lab;

import java.util.Arrays;

/**
 * {@code focal}, {@code distillation} and the hinge family written out in {@code double} straight
 * from {@code LOSSES.md}, sharing no code with the library: the expected values of
 * {@link EvalLogitLossesTest}. Masked classes are {@code -Infinity} logits. Where the spec leaves a
 * choice open, this follows the library's documented choice: focal and the hinge losses report the
 * logits themselves as final logits, distillation reports {@code student / T}, {@code softplus_lse}
 * reports {@code f = s z} with the target's entry {@code s (z_y - m)} (just {@code s z} for an
 * ignored row); focal's {@code mean} divides by the count of non-ignored samples, distillation's by
 * {@code N}.
 */
final class LogitLossesReference {

    /** The parameters; each loss reads those it has. {@code labels == null} only for distillation. */
    static final class Options {
        double gamma = 2;
        double alpha = Double.NaN;        // focal 1, distillation 0.9
        double temperature = 4;
        double margin = Double.NaN;       // multiclass/max 1, lse/softplus 0
        double scale = 1;
        int ignoreIndex = -100;
        String reduction = "mean";
        double[] classWeights;

        Options gamma(double g) { gamma = g; return this; }
        Options alpha(double a) { alpha = a; return this; }
        Options temperature(double t) { temperature = t; return this; }
        Options margin(double m) { margin = m; return this; }
        Options scale(double s) { scale = s; return this; }
        Options ignoreIndex(int i) { ignoreIndex = i; return this; }
        Options reduction(String r) { reduction = r; return this; }
        Options classWeights(double... w) { classWeights = w; return this; }
    }

    private LogitLossesReference() {}

    // ---------------------------------------------------------------- row helpers

    private static double max(double[] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            m = Math.max(m, x);
        }
        return m;
    }

    static double logSumExp(double[] v) {
        double m = max(v);
        if (m == Double.NEGATIVE_INFINITY) {
            return m;
        }
        double s = 0;
        for (double x : v) {
            s += Math.exp(x - m);
        }
        return m + Math.log(s);
    }

    static double[] softmax(double[] v) {
        double l = logSumExp(v);
        double[] p = new double[v.length];
        for (int k = 0; k < v.length; k++) {
            p[k] = Math.exp(v[k] - l);
        }
        return p;
    }

    private static double[] without(double[] v, int skip) {
        double[] r = new double[v.length - 1];
        for (int k = 0, j = 0; k < v.length; k++) {
            if (k != skip) {
                r[j++] = v[k];
            }
        }
        return r;
    }

    private static double[] scaled(double[] v, double s) {
        double[] r = new double[v.length];
        for (int k = 0; k < v.length; k++) {
            r[k] = v[k] * s;
        }
        return r;
    }

    // ---------------------------------------------------------------- the losses

    /** One row's loss and its gradient (of the per-sample loss) into {@code grad}. */
    private interface Row {
        double apply(int n, double[] z, int y, double[] grad);
    }

    static SoftmaxReference.Expected focal(double[][] z, int[] y, Options o) {
        double alpha = Double.isNaN(o.alpha) ? 1 : o.alpha;
        return run(z, y, o, false, (n, row, label, grad) -> {
            double m = max(row);
            double sum = 0;
            double others = 0;
            double[] e = new double[row.length];
            for (int k = 0; k < row.length; k++) {
                e[k] = Math.exp(row[k] - m);
                sum += e[k];
                if (k != label) {
                    others += e[k];
                }
            }
            double rest = others / sum;              // 1 - p_y as the sum of the other probabilities
            double py = e[label] / sum;
            double logP = row[label] == m ? -Math.log1p(others) : (row[label] - m) - Math.log(sum);
            double a = alpha * (o.classWeights == null ? 1 : o.classWeights[label]);
            double modulator = Math.pow(rest, o.gamma);
            double slope = o.gamma == 0 || rest == 0 ? 0 : o.gamma * Math.pow(rest, o.gamma - 1) * py * logP;
            double c = a * (slope - modulator);
            for (int k = 0; k < row.length; k++) {
                grad[k] = k == label ? c * rest : -c * e[k] / sum;
            }
            return -a * modulator * logP;
        }, z);
    }

    static SoftmaxReference.Expected distillation(double[][] z, double[][] teacher, int[] y, Options o) {
        double alpha = Double.isNaN(o.alpha) ? 0.9 : o.alpha;
        double t = o.temperature;
        double[][] finals = new double[z.length][];
        for (int n = 0; n < z.length; n++) {
            finals[n] = scaled(z[n], 1 / t);
        }
        return run(z, y, o, true, (n, row, label, grad) -> {
            double[] s = finals[n];
            double[] tt = scaled(teacher[n], 1 / t);
            double lseS = logSumExp(s);
            double lseT = logSumExp(tt);
            double kl = 0;
            for (int k = 0; k < row.length; k++) {
                double pt = Math.exp(tt[k] - lseT);
                double qs = Math.exp(s[k] - lseS);
                if (pt > 0) {
                    kl += pt * ((tt[k] - lseT) - (s[k] - lseS));
                }
                grad[k] = alpha * t * (qs - pt);
            }
            double loss = alpha * t * t * kl;
            if (alpha < 1 && label >= 0) {
                double lse = logSumExp(row);
                loss += (1 - alpha) * (lse - row[label]);
                for (int k = 0; k < row.length; k++) {
                    grad[k] += (1 - alpha) * (Math.exp(row[k] - lse) - (k == label ? 1 : 0));
                }
            }
            return loss;
        }, finals);
    }

    static SoftmaxReference.Expected multiclassHinge(double[][] z, int[] y, Options o) {
        double m = Double.isNaN(o.margin) ? 1 : o.margin;
        return run(z, y, o, false, (n, row, label, grad) -> {
            double loss = 0;
            for (int i = 0; i < row.length; i++) {
                double arg = row[i] - row[label] + m;
                if (i != label && arg > 0) {
                    loss += arg;
                    grad[i] += 1;
                    grad[label] -= 1;
                }
            }
            return loss;
        }, z);
    }

    static SoftmaxReference.Expected maxHinge(double[][] z, int[] y, Options o) {
        double m = Double.isNaN(o.margin) ? 1 : o.margin;
        return run(z, y, o, false, (n, row, label, grad) -> {
            int first = -1;
            for (int i = 0; i < row.length; i++) {
                if (i != label && (first < 0 || row[i] > row[first])) {
                    first = i;                       // strictly larger: the first of equal maxima stays
                }
            }
            double arg = row[first] - row[label] + m;
            if (!(arg > 0)) {
                return 0;
            }
            grad[first] += 1;
            grad[label] -= 1;
            return arg;
        }, z);
    }

    static SoftmaxReference.Expected lseHinge(double[][] z, int[] y, Options o) {
        double m = Double.isNaN(o.margin) ? 0 : o.margin;
        return run(z, y, o, false, (n, row, label, grad) -> {
            double[] others = without(row, label);
            double arg = logSumExp(others) - row[label] + m;
            if (!(arg > 0)) {
                return 0;
            }
            double[] p = softmax(others);
            for (int i = 0, j = 0; i < row.length; i++) {
                if (i != label) {
                    grad[i] += p[j++];
                }
            }
            grad[label] -= 1;
            return arg;
        }, z);
    }

    static SoftmaxReference.Expected softplusLse(double[][] z, int[] y, Options o) {
        double m = Double.isNaN(o.margin) ? 0 : o.margin;
        double s = o.scale;
        double[][] finals = new double[z.length][];
        for (int n = 0; n < z.length; n++) {
            finals[n] = scaled(z[n], s);
            if (y[n] != o.ignoreIndex) {
                finals[n][y[n]] = s * (z[n][y[n]] - m);
            }
        }
        return run(z, y, o, false, (n, row, label, grad) -> {
            double[] others = scaled(without(row, label), s);
            double u = logSumExp(others) - s * (row[label] - m);
            if (u == Double.NEGATIVE_INFINITY) {
                return 0;
            }
            double softplus = u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u));
            double sigmoid = u >= 0 ? 1 / (1 + Math.exp(-u)) : Math.exp(u) / (1 + Math.exp(u));
            double[] p = softmax(others);
            for (int i = 0, j = 0; i < row.length; i++) {
                if (i != label) {
                    grad[i] += sigmoid * s * p[j++];
                }
            }
            grad[label] -= sigmoid * s;
            return softplus;
        }, finals);
    }

    // ---------------------------------------------------------------- the common rules

    /**
     * Ignored rows add nothing (unless {@code unlabelledRowsTrain}: distillation's soft term), the
     * reductions, the normaliser (non-ignored count; {@code N} for distillation), a normaliser of 0
     * giving 0, and the outputs of the final logits {@code finals}.
     */
    private static SoftmaxReference.Expected run(double[][] z, int[] y, Options o, boolean unlabelledRowsTrain,
                                                 Row row, double[][] finals) {
        int n = z.length;
        int c = n == 0 ? 0 : z[0].length;
        double[] losses = new double[n];
        double[][] grad = new double[n][c];
        double[][] probabilities = new double[n][];
        double[] lse = new double[n];
        int counted = 0;
        double total = 0;
        for (int i = 0; i < n; i++) {
            probabilities[i] = softmax(finals[i]);
            lse[i] = logSumExp(finals[i]);
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
        return new SoftmaxReference.Expected(loss, losses, logits, probabilities, lse, grad);
    }
}
