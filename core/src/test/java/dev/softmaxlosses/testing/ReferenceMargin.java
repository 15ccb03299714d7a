package dev.softmaxlosses.testing;

import java.util.HashMap;
import java.util.Map;

/**
 * The margin family written out in {@code double} straight from {@code LOSSES.md}, sharing no code
 * with the library: the final logits by each paper's formula ({@code psi} through {@code acos} and
 * its sector, not Chebyshev polynomials), the cross-entropy by {@link ReferenceCrossEntropy}, and the
 * gradients with respect to the features and the class weights by central differences (a 4-point
 * stencil) of the reduced loss.
 *
 * <p>{@code gradient=straight_through} is differenced with the target's margin {@code T(c) - c}
 * frozen at the point (a stop-gradient, so {@code df_y/dc = s}); {@code gradient=sphereface_normalized}
 * is the exact gradient with the target's feature term {@code G/(1+lambda) (psi' w_hat + (psi - c psi') x_hat)}
 * divided by {@code sqrt(psi'^2 + ((psi - c psi') / ||x||)^2)}, as the SphereFace Caffe layer does.
 */
public final class ReferenceMargin {

    /** A parsed spec: the loss's name and every parameter, defaults filled in. */
    public static final class Params {
        public final String name;
        public double s;
        public double m;
        public double m1 = 1;
        public double m2 = 0.5;
        public double m3 = 0;
        public double lambda = 0;
        public double alpha = 16;
        public boolean easyMargin;
        public String gradient = "exact";
        public final ReferenceCrossEntropy.Options ce = new ReferenceCrossEntropy.Options();

        public Params(String spec) {
            int colon = spec.indexOf(':');
            name = colon < 0 ? spec : spec.substring(0, colon);
            switch (name) {
                case "normface" -> s = 16;
                case "cosface" -> { s = 64; m = 0.35; }
                case "am_softmax" -> { s = 30; m = 0.35; }
                case "arcface" -> { s = 64; m = 0.5; }
                case "combined_margin" -> s = 64;
                case "sphereface" -> { s = 1; m = 4; }
                case "lsoftmax" -> { s = 1; m = 2; }
                case "l2_softmax" -> s = 1;
                default -> throw new IllegalArgumentException("not a margin loss: " + spec);
            }
            Map<String, String> given = new HashMap<>();
            if (colon >= 0) {
                for (String kv : spec.substring(colon + 1).split(",")) {
                    String[] p = kv.split("=", 2);
                    given.put(p[0], p[1]);
                }
            }
            given.forEach((k, v) -> {
                switch (k) {
                    case "s" -> s = Double.parseDouble(v);
                    case "m" -> m = Double.parseDouble(v);
                    case "m1" -> m1 = Double.parseDouble(v);
                    case "m2" -> m2 = Double.parseDouble(v);
                    case "m3" -> m3 = Double.parseDouble(v);
                    case "lambda" -> lambda = Double.parseDouble(v);
                    case "alpha" -> alpha = Double.parseDouble(v);
                    case "easy_margin" -> easyMargin = Boolean.parseBoolean(v);
                    case "gradient" -> gradient = v;
                    case "label_smoothing" -> ce.labelSmoothing(Double.parseDouble(v));
                    case "ignore_index" -> ce.ignoreIndex(Integer.parseInt(v));
                    case "reduction" -> ce.reduction(v);
                    default -> throw new IllegalArgumentException("unknown parameter " + k);
                }
            });
        }

        public boolean normalisedBoth() {
            return switch (name) {
                case "normface", "cosface", "am_softmax", "arcface", "combined_margin" -> true;
                default -> false;
            };
        }
    }

    /** The expected output: the cross-entropy's fields on the final logits, and the two gradients. */
    public record Result(Expected ce, double[][] gradFeatures, double[][] gradWeights) {}

    private static final double NORM_EPS = 1e-12;

    private ReferenceMargin() {}

    public static Result compute(String spec, double[][] x, double[][] w, int[] labels, double[] classWeights) {
        Params p = new Params(spec);
        p.ce.classWeights = classWeights;
        int d = w[0].length;
        double[] frozen = null;
        if (p.gradient.equals("straight_through")) {
            frozen = margins(p, x, w, labels);
        }
        Expected ce = ReferenceCrossEntropy.compute(logits(p, x, w, labels, null), labels, null, p.ce);
        ReferenceCrossEntropy.Options summed = new ReferenceCrossEntropy.Options()
                .labelSmoothing(p.ce.labelSmoothing)
                .ignoreIndex(p.ce.ignoreIndex)
                .classWeights(classWeights)
                .reduction(p.ce.reduction.equals("none") ? "sum" : p.ce.reduction);
        double[][] gx = new double[x.length][d];
        double[][] gw = new double[w.length][d];
        for (int which = 0; which < 2; which++) {
            double[][] a = which == 0 ? x : w;
            double[][] g = which == 0 ? gx : gw;
            for (int i = 0; i < a.length; i++) {
                double norm = norm(a[i]);
                for (int k = 0; k < d; k++) {
                    double keep = a[i][k];
                    double h = step(p, x, w, labels, frozen, a, i, k, norm > 1e-10 ? 1e-4 * norm : 1e-17);
                    double[] v = new double[4];
                    double[] steps = {2, 1, -1, -2};
                    for (int t = 0; t < 4; t++) {
                        a[i][k] = keep + steps[t] * h;
                        v[t] = ReferenceCrossEntropy.compute(logits(p, x, w, labels, frozen), labels, null, summed).loss();
                    }
                    a[i][k] = keep;
                    g[i][k] = (-v[0] + 8 * v[1] - 8 * v[2] + v[3]) / (12 * h);
                }
            }
        }
        if (p.gradient.equals("sphereface_normalized")) {
            caffeFeatureGradient(p, x, w, labels, ce.gradLogits(), gx);
        }
        return new Result(ce, gx, gw);
    }

    /**
     * The difference step for {@code a[i][k]}: {@code h0} (1e-4 of the row's norm), shrunk until the
     * logits move by at most {@code max(1e-2, 1e-6 max |f|)} over the stencil, so that a large scale
     * (alpha ||W||, ||x|| ||W||) does not carry the stencil past the softmax's curvature, while huge
     * logits keep a step that the loss's rounding does not swamp.
     */
    private static double step(Params p, double[][] x, double[][] w, int[] labels, double[] frozen, double[][] a,
                               int i, int k, double h0) {
        double[][] f0 = logits(p, x, w, labels, frozen);
        double largest = 0;
        for (double[] row : f0) {
            for (double v : row) {
                largest = Math.max(largest, Math.abs(v));
            }
        }
        double allowed = Math.max(1e-2, 1e-6 * largest);
        double keep = a[i][k];
        double h = h0;
        try {
            while (h > 1e-300) {
                a[i][k] = keep + 2 * h;
                double[][] f1 = logits(p, x, w, labels, frozen);
                double moved = 0;
                for (int r = 0; r < f0.length; r++) {
                    for (int j = 0; j < f0[r].length; j++) {
                        moved = Math.max(moved, Math.abs(f1[r][j] - f0[r][j]));
                    }
                }
                if (moved <= allowed) {
                    return h;
                }
                h /= 4;
            }
            return h;
        } finally {
            a[i][k] = keep;
        }
    }

    /** The final logits {@code f}; {@code frozen} (nullable) replaces each target's {@code T(c) - c}. */
    public static double[][] logits(Params p, double[][] x, double[][] w, int[] labels, double[] frozen) {
        int n = x.length;
        int c = w.length;
        double[][] cos = cosines(x, w);
        double[][] f = new double[n][c];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < c; j++) {
                f[i][j] = factor(p, x[i], w[j]) * cos[i][j];
            }
            int y = labels[i];
            if (y != p.ce.ignoreIndex) {
                double t = frozen == null ? target(p, cos[i][y]) : cos[i][y] + frozen[i];
                f[i][y] = factor(p, x[i], w[y]) * t;
            }
        }
        return f;
    }

    /** {@code T(c) - c} of each sample's target (0 for an ignored one). */
    private static double[] margins(Params p, double[][] x, double[][] w, int[] labels) {
        double[][] cos = cosines(x, w);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            if (labels[i] != p.ce.ignoreIndex) {
                double c = cos[i][labels[i]];
                out[i] = target(p, c) - c;
            }
        }
        return out;
    }

    /** The factor of {@code cos} in every logit: {@code s}, {@code ||x||}, {@code ||W_j|| ||x||} or {@code alpha ||W_j||}. */
    private static double factor(Params p, double[] x, double[] w) {
        return switch (p.name) {
            case "sphereface" -> norm(x);
            case "lsoftmax" -> norm(x) * norm(w);
            case "l2_softmax" -> p.alpha * norm(w);
            default -> p.s;
        };
    }

    public static double target(Params p, double c) {
        return switch (p.name) {
            case "normface", "l2_softmax" -> c;
            case "cosface", "am_softmax" -> c - p.m;
            case "arcface" -> {
                double phi = c * Math.cos(p.m) - Math.sqrt(Math.max(0, 1 - c * c)) * Math.sin(p.m);
                if (p.easyMargin) {
                    yield c > 0 ? phi : c;
                }
                yield c > Math.cos(Math.PI - p.m) ? phi : c - p.m * Math.sin(Math.PI - p.m);
            }
            case "combined_margin" -> Math.cos(p.m1 * Math.acos(c) + p.m2) - p.m3;
            case "sphereface", "lsoftmax" -> (p.lambda * c + psi((int) p.m, c)) / (1 + p.lambda);
            default -> throw new IllegalArgumentException(p.name);
        };
    }

    /** {@code psi(theta) = (-1)^k cos(m theta) - 2k} for {@code theta} in {@code [k pi/m, (k+1) pi/m]}. */
    public static double psi(int m, double c) {
        double theta = Math.acos(c);
        int k = Math.min((int) Math.floor(theta / (Math.PI / m)), m - 1);
        return ((k & 1) == 0 ? 1 : -1) * Math.cos(m * theta) - 2 * k;
    }

    /** {@code d psi / dc = (-1)^k m sin(m theta) / sin(theta)}, its limit {@code m^2 (+-1)} at the poles. */
    public static double psiSlope(int m, double c) {
        double theta = Math.acos(c);
        int k = Math.min((int) Math.floor(theta / (Math.PI / m)), m - 1);
        double sign = (k & 1) == 0 ? 1 : -1;
        double sin = Math.sin(theta);
        if (sin < 1e-9) {
            return sign * m * m * (c > 0 ? 1 : ((m - 1) % 2 == 0 ? 1 : -1));
        }
        return sign * m * Math.sin(m * theta) / sin;
    }

    /** Replaces each target's exact feature term by the Caffe layer's normalised one. */
    private static void caffeFeatureGradient(Params p, double[][] x, double[][] w, int[] labels, double[][] gradLogits,
                                             double[][] gx) {
        int m = (int) p.m;
        for (int i = 0; i < x.length; i++) {
            int y = labels[i];
            double norm = norm(x[i]);
            if (y == p.ce.ignoreIndex || norm < NORM_EPS) {
                continue;
            }
            double[] xh = hat(x[i]);
            double[] wh = hat(w[y]);
            double c = clamp(dot(xh, wh));
            double slope = psiSlope(m, c);
            double along = psi(m, c) - c * slope;
            double length = Math.sqrt(slope * slope + (along / norm) * (along / norm));
            if (length == 0) {
                continue;
            }
            double g = gradLogits[i][y] / (1 + p.lambda);
            for (int k = 0; k < xh.length; k++) {
                double exact = g * (slope * wh[k] + along * xh[k]);
                gx[i][k] += exact / length - exact;
            }
        }
    }

    public static double[][] cosines(double[][] x, double[][] w) {
        double[][] cos = new double[x.length][w.length];
        for (int i = 0; i < x.length; i++) {
            double[] xh = hat(x[i]);
            for (int j = 0; j < w.length; j++) {
                cos[i][j] = clamp(dot(xh, hat(w[j])));
            }
        }
        return cos;
    }

    public static double norm(double[] v) {
        return Math.sqrt(dot(v, v));
    }

    public static double[] hat(double[] v) {
        double scale = 1 / Math.max(norm(v), NORM_EPS);
        double[] h = new double[v.length];
        for (int k = 0; k < v.length; k++) {
            h[k] = v[k] * scale;
        }
        return h;
    }

    public static double dot(double[] a, double[] b) {
        double s = 0;
        for (int k = 0; k < a.length; k++) {
            s += a[k] * b[k];
        }
        return s;
    }

    private static double clamp(double c) {
        return Math.max(-1, Math.min(1, c));
    }
}
