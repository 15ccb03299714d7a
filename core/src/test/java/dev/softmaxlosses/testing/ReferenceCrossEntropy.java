package dev.softmaxlosses.testing;

/**
 * The softmax cross-entropy of LOSSES.md written out literally in {@code double}, one formula per
 * line, with no shared code with the library: the independent reference the tests compare against.
 */
public final class ReferenceCrossEntropy {

    /** Everything the reference computes. */
    public record Result(double loss, double[] losses, double[][] probabilities, double[] logSumExp, double[][] grad) {}

    private ReferenceCrossEntropy() {}

    /**
     * @param z         logits
     * @param labels    hard labels, or null when {@code targets} are given
     * @param targets   soft targets, or null
     * @param weights   class weights, or null
     * @param balance   whether class_balance=batch
     * @param reduction "mean", "sum" or "none"
     */
    public static Result compute(double[][] z, int[] labels, double[][] targets, double[] weights, double temperature,
                                 double eps, boolean balance, int ignoreIndex, String reduction) {
        int n = z.length;
        int c = n == 0 ? 0 : z[0].length;
        double[] w = new double[c];
        for (int k = 0; k < c; k++) {
            w[k] = weights == null ? 1.0 : weights[k];
        }
        if (balance) {
            int valid = 0;
            int[] count = new int[c];
            for (int y : labels) {
                if (y != ignoreIndex) {
                    count[y]++;
                    valid++;
                }
            }
            for (int k = 0; k < c; k++) {
                w[k] *= 1.0 - (valid == 0 ? 0 : (double) count[k] / valid);
            }
        }
        double[] losses = new double[n];
        double[][] p = new double[n][c];
        double[] lse = new double[n];
        double[][] grad = new double[n][c];
        double normaliser = 0;
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < c; k++) {
                max = Math.max(max, z[i][k] / temperature);
            }
            double s = 0;
            for (int k = 0; k < c; k++) {
                s += Math.exp(z[i][k] / temperature - max);
            }
            lse[i] = max + Math.log(s);
            for (int k = 0; k < c; k++) {
                p[i][k] = Math.exp(z[i][k] / temperature - lse[i]);
            }
            boolean ignored = targets == null && labels[i] == ignoreIndex;
            if (targets != null) {
                normaliser += 1;
            } else if (!ignored) {
                normaliser += w[labels[i]];
            }
            if (ignored) {
                continue;
            }
            double[] q = new double[c];
            double wq = 0;
            for (int k = 0; k < c; k++) {
                double t = targets != null ? targets[i][k] : (labels[i] == k ? 1 : 0);
                q[k] = (1 - eps) * t + eps / c;
                wq += w[k] * q[k];
            }
            for (int k = 0; k < c; k++) {
                if (w[k] * q[k] != 0) {
                    losses[i] -= w[k] * q[k] * (z[i][k] / temperature - lse[i]);
                }
                grad[i][k] = (p[i][k] * wq - w[k] * q[k]) / temperature;
            }
        }
        double total = 0;
        for (double l : losses) {
            total += l;
        }
        double scale = 1;
        if (reduction.equals("mean")) {
            scale = normaliser == 0 ? 0 : 1 / normaliser;
        }
        for (double[] row : grad) {
            for (int k = 0; k < c; k++) {
                row[k] *= scale;
            }
        }
        return new Result(total * scale, losses, p, lse, grad);
    }
}
