package dev.softmaxlosses.lab;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * An independent double-precision reference of the five margin losses of issue 16 ({@code adaface},
 * {@code magface}, {@code curricularface}, {@code elasticface}, {@code subcenter_arcface}), written from
 * docs/LOSSES.md (not from the library): final logits, per-sample losses, the reduced loss, the updated
 * state, and the gradients of the reduced loss (of the sum for {@code reduction=none}) by central finite
 * differences in double on this class's own loss function.
 *
 * <p>The stop-gradient semantics are emulated by holding the detached quantities fixed at their values
 * for the original inputs while the inputs are perturbed: adaface's {@code q_n} under
 * {@code gradient=exact}; curricularface's hard-negative mask always and its {@code t'} under
 * {@code gradient=exact}; elasticface's margins; subcenter_arcface's chosen sub-centres. Everything else
 * (magface's norm, adaface's full {@code q_n} with its batch statistics, curricularface's full
 * {@code t'}) is recomputed from the perturbed inputs, so it is differentiated.
 *
 * <p>Plain static methods, double arrays in and out, JDK only: it can be copied into a core test as it
 * is. Finite differences are not meant for inputs within about 1e-5 of a kink (a clamp's bound, the
 * arcface fallback's threshold, a hard-negative threshold, a tie between sub-centres).
 */
public final class MarginReference {

    /** The floor of a norm in the normalisation. */
    public static final double NORM_EPS = 1e-12;
    /** adaface's fixed eps. */
    public static final double ADAFACE_EPS = 1e-3;

    private MarginReference() {}

    /**
     * The common parameters: {@code classWeights} (length C, nullable), {@code labelSmoothing},
     * {@code ignoreIndex}, {@code reduction} ({@code mean}, {@code sum} or {@code none}).
     */
    public record Common(double[] classWeights, double labelSmoothing, int ignoreIndex, String reduction) {
        public static Common defaults() {
            return new Common(null, 0, -100, "mean");
        }

        public Common {
            if (!reduction.equals("mean") && !reduction.equals("sum") && !reduction.equals("none")) {
                throw new IllegalArgumentException("reduction " + reduction);
            }
        }

        double weight(int c) {
            return classWeights == null ? 1 : classWeights[c];
        }
    }

    /**
     * What a loss computes: {@code loss} null for {@code reduction=none}; {@code gradWeights} has the rows of
     * the weights given ({@code C*k} for subcenter_arcface); {@code state} the updated state fields by their
     * eval names ({@code batch_mean}, {@code batch_std}, {@code t}, {@code step}), empty for a loss without.
     */
    public record Result(double[][] logits, double[] losses, Double loss, double[][] gradFeatures,
                         double[][] gradWeights, Map<String, Double> state) {}

    /** The final logits as a function of the (perturbed) inputs, the detached quantities held inside. */
    private interface Head {
        double[][] logits(double[][] x, double[][] w);

        /** What row n adds to its loss besides the cross-entropy, before its class weight (magface's regulariser). */
        default double extra(double[][] x, int n) {
            return 0;
        }
    }

    // ---------------------------------------------------------------- the five losses

    /**
     * adaface. {@code batchMean}, {@code batchStd}: the state before this batch; {@code full}: {@code gradient=full}
     * (else {@code exact}, where {@code q_n} is a constant).
     */
    public static Result adaface(double[][] x, double[][] w, int[] y, Common common, double s, double m, double h,
                                 double tAlpha, double batchMean, double batchStd, boolean full) {
        double[] state0 = adafaceState(x, y, common.ignoreIndex(), tAlpha, batchMean, batchStd);
        double[] q0 = adafaceQ(x, y, common.ignoreIndex(), h, state0);
        Head head = (xx, ww) -> {
            double[] q = full ? adafaceQ(xx, y, common.ignoreIndex(), h,
                    adafaceState(xx, y, common.ignoreIndex(), tAlpha, batchMean, batchStd)) : q0;
            return adafaceLogits(xx, ww, y, common.ignoreIndex(), s, m, q);
        };
        Map<String, Double> state = new LinkedHashMap<>();
        state.put("batch_mean", state0[0]);
        state.put("batch_std", state0[1]);
        return compute(head, x, w, y, common, state);
    }

    /** adaface's updated {@code {batch_mean', batch_std'}}. */
    public static double[] adafaceState(double[][] x, int[] y, int ignoreIndex, double tAlpha, double batchMean,
                                        double batchStd) {
        int k = 0;
        double sum = 0;
        for (int n = 0; n < x.length; n++) {
            if (y[n] != ignoreIndex) {
                k++;
                sum += adafaceNorm(x[n]);
            }
        }
        if (k == 0) {
            return new double[] {batchMean, batchStd};
        }
        double mu = sum / k;
        double newMean = tAlpha * mu + (1 - tAlpha) * batchMean;
        if (k == 1) {
            return new double[] {newMean, batchStd};
        }
        double ss = 0;
        for (int n = 0; n < x.length; n++) {
            if (y[n] != ignoreIndex) {
                double d = adafaceNorm(x[n]) - mu;
                ss += d * d;
            }
        }
        double sigma = Math.sqrt(ss / (k - 1));
        return new double[] {newMean, tAlpha * sigma + (1 - tAlpha) * batchStd};
    }

    /** {@code a'_n = clip(||x_n||, 0.001, 100)}. */
    private static double adafaceNorm(double[] x) {
        return clip(norm(x), 0.001, 100);
    }

    /** {@code q_n} of every row (0 for an ignored one) with the updated state {@code {batch_mean', batch_std'}}. */
    public static double[] adafaceQ(double[][] x, int[] y, int ignoreIndex, double h, double[] state) {
        double[] q = new double[x.length];
        for (int n = 0; n < x.length; n++) {
            if (y[n] != ignoreIndex) {
                q[n] = clip(h * (adafaceNorm(x[n]) - state[0]) / (state[1] + ADAFACE_EPS), -1, 1);
            }
        }
        return q;
    }

    private static double[][] adafaceLogits(double[][] x, double[][] w, int[] y, int ignoreIndex, double s, double m,
                                            double[] q) {
        double eps = ADAFACE_EPS;
        double[][] cos = cosines(x, w);
        double[][] f = new double[x.length][w.length];
        for (int n = 0; n < x.length; n++) {
            for (int j = 0; j < w.length; j++) {
                f[n][j] = s * clip(cos[n][j], -1 + eps, 1 - eps);
            }
            if (y[n] != ignoreIndex) {
                double theta = Math.acos(clip(cos[n][y[n]], -1 + eps, 1 - eps));
                double thetaM = clip(theta - m * q[n], eps, Math.PI - eps);
                f[n][y[n]] = s * (Math.cos(thetaM) - m - m * q[n]);
            }
        }
        return f;
    }

    /** magface (its gradient through the norm, as the official code). */
    public static Result magface(double[][] x, double[][] w, int[] y, Common common, double s, double lA, double uA,
                                 double lM, double uM, double lambdaG, boolean easyMargin) {
        Head head = new Head() {
            @Override
            public double[][] logits(double[][] xx, double[][] ww) {
                double[][] cos = cosines(xx, ww);
                double[][] f = new double[xx.length][ww.length];
                for (int n = 0; n < xx.length; n++) {
                    for (int j = 0; j < ww.length; j++) {
                        f[n][j] = s * cos[n][j];
                    }
                    if (y[n] != common.ignoreIndex()) {
                        double a = clip(norm(xx[n]), lA, uA);
                        double margin = (uM - lM) / (uA - lA) * (a - lA) + lM;
                        f[n][y[n]] = s * arcfaceTarget(cos[n][y[n]], margin, easyMargin);
                    }
                }
                return f;
            }

            @Override
            public double extra(double[][] xx, int n) {
                double a = clip(norm(xx[n]), lA, uA);
                return lambdaG * (a / (uA * uA) + 1 / a);
            }
        };
        return compute(head, x, w, y, common, new LinkedHashMap<>());
    }

    /** magface's margin {@code m(a)} for a norm {@code a} (clamped to {@code [l_a, u_a]} first). */
    public static double magfaceMargin(double norm, double lA, double uA, double lM, double uM) {
        double a = clip(norm, lA, uA);
        return (uM - lM) / (uA - lA) * (a - lA) + lM;
    }

    /** magface's regulariser {@code g(a)} for a norm (clamped first). */
    public static double magfaceG(double norm, double lA, double uA) {
        double a = clip(norm, lA, uA);
        return a / (uA * uA) + 1 / a;
    }

    /** curricularface; {@code t}: the state before this batch; {@code full}: {@code gradient=full}. */
    public static Result curricularface(double[][] x, double[][] w, int[] y, Common common, double s, double m, double t,
                                        boolean full) {
        double t0 = curricularT(x, w, y, common.ignoreIndex(), t);
        boolean[][] mask = hardNegatives(x, w, y, common.ignoreIndex(), m);
        Head head = (xx, ww) -> {
            double tp = full ? curricularT(xx, ww, y, common.ignoreIndex(), t) : t0;
            double[][] cos = cosines(xx, ww);
            double[][] f = new double[xx.length][ww.length];
            for (int n = 0; n < xx.length; n++) {
                for (int j = 0; j < ww.length; j++) {
                    double c = cos[n][j];
                    f[n][j] = mask[n][j] ? s * c * (tp + c) : s * c;
                }
                if (y[n] != common.ignoreIndex()) {
                    f[n][y[n]] = s * arcfaceTarget(cos[n][y[n]], m, false);
                }
            }
            return f;
        };
        Map<String, Double> state = new LinkedHashMap<>();
        state.put("t", t0);
        return compute(head, x, w, y, common, state);
    }

    /** curricularface's {@code t' = 0.01 mean(c) + 0.99 t} over the rows that count ({@code t} when none). */
    public static double curricularT(double[][] x, double[][] w, int[] y, int ignoreIndex, double t) {
        double[][] cos = cosines(x, w);
        int k = 0;
        double sum = 0;
        for (int n = 0; n < x.length; n++) {
            if (y[n] != ignoreIndex) {
                k++;
                sum += cos[n][y[n]];
            }
        }
        return k == 0 ? t : 0.01 * sum / k + 0.99 * t;
    }

    /** curricularface's hard negatives: {@code cos_j > cos(theta + m)} of a row that counts, {@code j != y}. */
    public static boolean[][] hardNegatives(double[][] x, double[][] w, int[] y, int ignoreIndex, double m) {
        double[][] cos = cosines(x, w);
        boolean[][] mask = new boolean[x.length][w.length];
        for (int n = 0; n < x.length; n++) {
            if (y[n] == ignoreIndex) {
                continue;
            }
            double c = cos[n][y[n]];
            double thr = c * Math.cos(m) - Math.sqrt(Math.max(0, 1 - c * c)) * Math.sin(m);
            for (int j = 0; j < w.length; j++) {
                mask[n][j] = j != y[n] && cos[n][j] > thr;
            }
        }
        return mask;
    }

    /**
     * elasticface; {@code cosVariant}: {@code variant=cos} (else arc); {@code margins} (nullable, N values) replace
     * the draw of {@link #elasticMargins}; {@code step}: the state before this batch.
     */
    public static Result elasticface(double[][] x, double[][] w, int[] y, Common common, boolean cosVariant, double s,
                                     double m, double std, long seed, long step, double[] margins) {
        double[] mn = margins != null ? margins.clone() : elasticMargins(y, common.ignoreIndex(), m, std, seed, step);
        Head head = (xx, ww) -> {
            double[][] cos = cosines(xx, ww);
            double[][] f = new double[xx.length][ww.length];
            for (int n = 0; n < xx.length; n++) {
                for (int j = 0; j < ww.length; j++) {
                    f[n][j] = s * cos[n][j];
                }
                if (y[n] != common.ignoreIndex()) {
                    double c = cos[n][y[n]];
                    f[n][y[n]] = cosVariant ? s * (c - mn[n]) : s * Math.cos(Math.acos(c) + mn[n]);
                }
            }
            return f;
        };
        Map<String, Double> state = new LinkedHashMap<>();
        state.put("step", (double) (step + 1));
        return compute(head, x, w, y, common, state);
    }

    /** elasticface's drawn margins: {@code m + std z} for the rows that count, in row order; 0 for an ignored row. */
    public static double[] elasticMargins(int[] y, int ignoreIndex, double m, double std, long seed, long step) {
        Random random = new Random(seed + step);
        double[] out = new double[y.length];
        for (int n = 0; n < y.length; n++) {
            if (y[n] != ignoreIndex) {
                out[n] = m + std * random.nextGaussian();
            }
        }
        return out;
    }

    /** subcenter_arcface: {@code w} holds {@code C*k} rows, class c's sub-centres at {@code c*k .. c*k + k - 1}. */
    public static Result subcenterArcface(double[][] x, double[][] w, int[] y, Common common, double s, double m,
                                          int k, boolean easyMargin) {
        if (w.length % k != 0) {
            throw new IllegalArgumentException(w.length + " weight rows for k = " + k);
        }
        int classes = w.length / k;
        int[][] chosen = chosenSubcentres(x, w, k);
        Head head = (xx, ww) -> {
            double[][] cos = cosines(xx, ww);
            double[][] f = new double[xx.length][classes];
            for (int n = 0; n < xx.length; n++) {
                for (int c = 0; c < classes; c++) {
                    f[n][c] = s * cos[n][c * k + chosen[n][c]];
                }
                if (y[n] != common.ignoreIndex()) {
                    f[n][y[n]] = s * arcfaceTarget(cos[n][y[n] * k + chosen[n][y[n]]], m, easyMargin);
                }
            }
            return f;
        };
        return compute(head, x, w, y, common, new LinkedHashMap<>());
    }

    /** For each (row, class) the index {@code j} in {@code [0, k)} of the largest cosine (ties: the lowest). */
    public static int[][] chosenSubcentres(double[][] x, double[][] w, int k) {
        double[][] cos = cosines(x, w);
        int classes = w.length / k;
        int[][] chosen = new int[x.length][classes];
        for (int n = 0; n < x.length; n++) {
            for (int c = 0; c < classes; c++) {
                int best = 0;
                for (int j = 1; j < k; j++) {
                    if (cos[n][c * k + j] > cos[n][c * k + best]) {
                        best = j;
                    }
                }
                chosen[n][c] = best;
            }
        }
        return chosen;
    }

    /**
     * The cleaning tool: each class's dominant sub-centre (the one chosen for most of its counted samples, ties the
     * lowest index; -1 for a class without samples).
     */
    public static int[] dominantSubcentres(double[][] x, double[][] w, int[] y, int ignoreIndex, int k) {
        int classes = w.length / k;
        int[][] chosen = chosenSubcentres(x, w, k);
        int[][] votes = new int[classes][k];
        for (int n = 0; n < x.length; n++) {
            if (y[n] != ignoreIndex) {
                votes[y[n]][chosen[n][y[n]]]++;
            }
        }
        int[] dominant = new int[classes];
        for (int c = 0; c < classes; c++) {
            int best = -1;
            for (int j = 0; j < k; j++) {
                if (votes[c][j] > 0 && (best < 0 || votes[c][j] > votes[c][best])) {
                    best = j;
                }
            }
            dominant[c] = best;
        }
        return dominant;
    }

    /** The cleaning tool's outliers: counted samples more than 75 degrees from their class's dominant sub-centre. */
    public static boolean[] outliers(double[][] x, double[][] w, int[] y, int ignoreIndex, int k) {
        int[] dominant = dominantSubcentres(x, w, y, ignoreIndex, k);
        double[][] cos = cosines(x, w);
        boolean[] out = new boolean[x.length];
        for (int n = 0; n < x.length; n++) {
            if (y[n] != ignoreIndex) {
                out[n] = Math.toDegrees(Math.acos(cos[n][y[n] * k + dominant[y[n]]])) > 75;
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- shared pieces

    /** ArcFace's {@code T(c)}: {@code cos(theta + m)} where {@code c > cos(pi - m)}, else {@code c - m sin(pi - m)}. */
    public static double arcfaceTarget(double c, double m, boolean easyMargin) {
        double phi = c * Math.cos(m) - Math.sqrt(Math.max(0, 1 - c * c)) * Math.sin(m);
        if (easyMargin) {
            return c > 0 ? phi : c;
        }
        return c > Math.cos(Math.PI - m) ? phi : c - m * Math.sin(Math.PI - m);
    }

    /** {@code cos_{n,j} = x_hat_n . w_hat_j}, clamped to {@code [-1, 1]}. */
    public static double[][] cosines(double[][] x, double[][] w) {
        double[][] cos = new double[x.length][w.length];
        for (int n = 0; n < x.length; n++) {
            double nx = Math.max(norm(x[n]), NORM_EPS);
            for (int j = 0; j < w.length; j++) {
                double nw = Math.max(norm(w[j]), NORM_EPS);
                double dot = 0;
                for (int d = 0; d < x[n].length; d++) {
                    dot += x[n][d] * w[j][d];
                }
                cos[n][j] = clip(dot / (nx * nw), -1, 1);
            }
        }
        return cos;
    }

    public static double norm(double[] v) {
        double s = 0;
        for (double e : v) {
            s += e * e;
        }
        return Math.sqrt(s);
    }

    private static double clip(double v, double lo, double hi) {
        return Math.min(Math.max(v, lo), hi);
    }

    /** Per-sample losses (0 for an ignored row): the smoothed, class-weighted cross-entropy plus {@code w_y extra}. */
    private static double[] losses(Head head, double[][] f, double[][] x, int[] y, Common common) {
        double[] l = new double[f.length];
        for (int n = 0; n < f.length; n++) {
            if (y[n] == common.ignoreIndex()) {
                continue;
            }
            int classes = f[n].length;
            if (y[n] < 0 || y[n] >= classes) {
                throw new IllegalArgumentException("label " + y[n] + " of row " + n);
            }
            double max = Double.NEGATIVE_INFINITY;
            for (double v : f[n]) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (double v : f[n]) {
                sum += Math.exp(v - max);
            }
            double lse = max + Math.log(sum);
            double eps = common.labelSmoothing();
            double ce = 0;
            for (int c = 0; c < classes; c++) {
                double q = (c == y[n] ? 1 - eps : 0) + eps / classes;
                if (q != 0) {
                    ce -= common.weight(c) * q * (f[n][c] - lse);
                }
            }
            l[n] = ce + common.weight(y[n]) * head.extra(x, n);
        }
        return l;
    }

    /** The reduced loss; the sum for {@code none} (what its gradients are of); 0 for a normaliser of 0. */
    private static double objective(double[] l, int[] y, Common common) {
        double sum = 0;
        for (double v : l) {
            sum += v;
        }
        if (!common.reduction().equals("mean")) {
            return sum;
        }
        double normaliser = 0;
        for (int label : y) {
            if (label != common.ignoreIndex()) {
                normaliser += common.weight(label);
            }
        }
        return normaliser == 0 ? 0 : sum / normaliser;
    }

    private static double objective(Head head, double[][] x, double[][] w, int[] y, Common common) {
        return objective(losses(head, head.logits(x, w), x, y, common), y, common);
    }

    private static Result compute(Head head, double[][] x0, double[][] w0, int[] y, Common common,
                                  Map<String, Double> state) {
        double[][] x = copy(x0);
        double[][] w = copy(w0);
        double[][] f = head.logits(x, w);
        double[] l = losses(head, f, x, y, common);
        double reduced = objective(l, y, common);
        double[][] gx = gradient(head, x, x, w, y, common);
        double[][] gw = gradient(head, w, x, w, y, common);
        return new Result(f, l, common.reduction().equals("none") ? null : reduced, gx, gw, state);
    }

    /** Central differences of the objective with respect to every entry of {@code a} (one of x, w), step 1e-6 relative. */
    private static double[][] gradient(Head head, double[][] a, double[][] x, double[][] w, int[] y, Common common) {
        double[][] g = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            g[i] = new double[a[i].length];
            for (int d = 0; d < a[i].length; d++) {
                double keep = a[i][d];
                double h = 1e-6 * Math.max(1, Math.abs(keep));
                a[i][d] = keep + h;
                double plus = objective(head, x, w, y, common);
                a[i][d] = keep - h;
                double minus = objective(head, x, w, y, common);
                a[i][d] = keep;
                g[i][d] = (plus - minus) / (2 * h);
            }
        }
        return g;
    }

    private static double[][] copy(double[][] m) {
        double[][] c = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            c[i] = m[i].clone();
        }
        return c;
    }
}
