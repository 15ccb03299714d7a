package dev.softmaxlosses.testing;

/**
 * The softmax cross-entropy of {@code LOSSES.md} written out literally in {@code double}, one formula
 * per line, sharing no code with the library: the one reference of the formula, used by core's tests,
 * by {@link ReferenceMargin} (the margin family's cross-entropy on its final logits) and by the lab's.
 *
 * <pre>
 *   z' = z / T,  p = softmax(z'),  q = (1 - eps) t + eps / C,  l_n = -sum_c w_c q_c log p_c
 *   dl_n/dz_c = (p_c sum_k w_k q_k - w_c q_c) / T
 * </pre>
 *
 * {@code class_balance=batch} multiplies {@code w_c} by {@code 1 - n_c / n_valid}. The normaliser of
 * {@code mean} is the sum of the targets' class weights over non-ignored samples with hard labels,
 * {@code N} with soft targets; a normaliser of 0 gives 0.
 */
public final class ReferenceCrossEntropy {

    /** The options of the loss. */
    public static final class Options {
        public double temperature = 1;
        public double labelSmoothing = 0;
        public boolean balanceBatch = false;
        public int ignoreIndex = -100;
        public String reduction = "mean";
        public double[] classWeights;

        public Options temperature(double t) { temperature = t; return this; }
        public Options labelSmoothing(double e) { labelSmoothing = e; return this; }
        public Options balanceBatch() { balanceBatch = true; return this; }
        public Options balanceBatch(boolean b) { balanceBatch = b; return this; }
        public Options ignoreIndex(int i) { ignoreIndex = i; return this; }
        public Options reduction(String r) { reduction = r; return this; }
        public Options classWeights(double... w) { classWeights = w; return this; }

        /** A copy, to change without touching this one. */
        public Options copy() {
            Options o = new Options();
            o.temperature = temperature;
            o.labelSmoothing = labelSmoothing;
            o.balanceBatch = balanceBatch;
            o.ignoreIndex = ignoreIndex;
            o.reduction = reduction;
            o.classWeights = classWeights;
            return o;
        }
    }

    private ReferenceCrossEntropy() {}

    /**
     * @param z         logits
     * @param labels    hard labels, or null when {@code targets} are given
     * @param targets   soft targets, or null
     * @param weights   class weights, or null
     * @param balance   whether class_balance=batch
     * @param reduction "mean", "sum" or "none"
     */
    public static Expected compute(double[][] z, int[] labels, double[][] targets, double[] weights, double temperature,
                                   double eps, boolean balance, int ignoreIndex, String reduction) {
        return compute(z, labels, targets, new Options().classWeights(weights).temperature(temperature).labelSmoothing(eps)
                .balanceBatch(balance).ignoreIndex(ignoreIndex).reduction(reduction));
    }

    /** The loss on {@code labels} (hard) or {@code targets} (soft), the other null. */
    public static Expected compute(double[][] z, int[] labels, double[][] targets, Options o) {
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
