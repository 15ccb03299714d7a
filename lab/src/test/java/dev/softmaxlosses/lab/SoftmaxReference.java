package dev.softmaxlosses.lab;

/**
 * {@code softmax_cross_entropy} written out in {@code double} straight from {@code LOSSES.md}, sharing
 * no code with the library: the expected values of the lab's numeric tests.
 *
 * <pre>
 *   z' = z / T,  p = softmax(z'),  q = (1 - eps) t + eps / C,  l_n = -sum_c w_c q_c log p_c
 *   dl_n/dz_c = (p_c sum_k w_k q_k - w_c q_c) / T
 * </pre>
 */
final class SoftmaxReference {

    /** The options of the loss; {@code labels} or {@code targets}, the other null. */
    static final class Options {
        double temperature = 1;
        double labelSmoothing = 0;
        boolean balanceBatch = false;
        int ignoreIndex = -100;
        String reduction = "mean";
        double[] classWeights;

        Options temperature(double t) { temperature = t; return this; }
        Options labelSmoothing(double e) { labelSmoothing = e; return this; }
        Options balanceBatch() { balanceBatch = true; return this; }
        Options ignoreIndex(int i) { ignoreIndex = i; return this; }
        Options reduction(String r) { reduction = r; return this; }
        Options classWeights(double... w) { classWeights = w; return this; }
    }

    /** The expected output; {@code loss} is null for {@code reduction=none}. */
    record Expected(Double loss, double[] losses, double[][] logits, double[][] probabilities,
                    double[] logSumExp, double[][] gradLogits) {}

    private SoftmaxReference() {}

    static Expected compute(double[][] z, int[] labels, double[][] targets, Options o) {
        int n = z.length;
        int c = n == 0 ? 0 : z[0].length;
        double eps = o.labelSmoothing;
        double[] w = new double[c];
        for (int k = 0; k < c; k++) {
            w[k] = o.classWeights == null ? 1.0 : o.classWeights[k];
        }
        boolean hard = labels != null;
        if (hard && o.balanceBatch) {
            int valid = 0;
            int[] counts = new int[c];
            for (int y : labels) {
                if (y != o.ignoreIndex) {
                    counts[y]++;
                    valid++;
                }
            }
            for (int k = 0; k < c; k++) {
                w[k] *= valid == 0 ? 1.0 : 1.0 - (double) counts[k] / valid;
            }
        }
        double[][] zp = new double[n][c];
        double[][] p = new double[n][c];
        double[] lse = new double[n];
        double[] losses = new double[n];
        double[][] grad = new double[n][c];
        double normaliser = hard ? 0 : n;
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < c; k++) {
                zp[i][k] = z[i][k] / o.temperature;
                max = Math.max(max, zp[i][k]);
            }
            double s = 0;
            for (int k = 0; k < c; k++) {
                s += Math.exp(zp[i][k] - max);
            }
            lse[i] = max + Math.log(s);
            for (int k = 0; k < c; k++) {
                p[i][k] = Math.exp(zp[i][k] - lse[i]);
            }
            if (hard && labels[i] == o.ignoreIndex) {
                continue;
            }
            double[] q = new double[c];
            for (int k = 0; k < c; k++) {
                double t = hard ? (labels[i] == k ? 1 : 0) : targets[i][k];
                q[k] = (1 - eps) * t + eps / c;
            }
            if (hard) {
                normaliser += w[labels[i]];
            }
            double mass = 0;
            for (int k = 0; k < c; k++) {
                double wq = w[k] * q[k];
                mass += wq;
                if (wq > 0) {
                    losses[i] -= wq * (zp[i][k] - lse[i]);
                }
            }
            for (int k = 0; k < c; k++) {
                grad[i][k] = (p[i][k] * mass - w[k] * q[k]) / o.temperature;
            }
        }
        double total = 0;
        for (double l : losses) {
            total += l;
        }
        Double loss;
        switch (o.reduction) {
            case "mean" -> {
                double scale = normaliser > 0 ? 1 / normaliser : 0;
                loss = total * scale;
                for (double[] row : grad) {
                    for (int k = 0; k < c; k++) {
                        row[k] *= scale;
                    }
                }
            }
            case "sum" -> loss = total;
            case "none" -> loss = null;
            default -> throw new IllegalArgumentException(o.reduction);
        }
        return new Expected(loss, losses, zp, p, lse, grad);
    }
}
