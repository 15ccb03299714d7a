package dev.softmaxlosses.lab.metrics;

import java.util.Arrays;

/**
 * Open-set verification, the face-recognition protocol: for every pair of samples of classes the model
 * never saw, the cosine similarity of their features is the score that they are the same class. A
 * threshold accepts the pairs scoring at or above it; the true accept rate (TAR) is the share of
 * same-class ("genuine") pairs accepted, the false accept rate (FAR) the share of different-class
 * ("impostor") pairs accepted.
 *
 * <p>TAR at a FAR of {@code f} is the largest TAR of a threshold whose FAR does not exceed {@code f},
 * exactly (no interpolation): with {@code k = floor(f I)} of the {@code I} impostor scores allowed
 * through, the threshold lies just above the {@code (k+1)}-th largest impostor score, and tied scores
 * are all rejected together. The equal error rate (EER) is where the FAR equals the false reject rate
 * {@code 1 - TAR}, interpolated linearly between the two thresholds around the crossing.
 */
public final class Verification {

    /** At most this many samples are paired (about 12.5 million pairs); more are thinned evenly. */
    public static final int MAX_SAMPLES = 5000;

    /** The FARs of the ROC curve's points: 1e-5 to 1, twenty per decade. */
    static final double[] CURVE_FARS = curveFars();

    /**
     * What verification found.
     *
     * @param tarAtFar1e2    TAR at FAR 1e-2
     * @param tarAtFar1e3    TAR at FAR 1e-3
     * @param eer            the equal error rate
     * @param auc            the area under the ROC curve (the chance that a genuine pair outscores an impostor pair)
     * @param curveFar       FARs of the ROC curve's points, ascending
     * @param curveTar       the TAR at each of them
     * @param genuinePairs   how many same-class pairs were scored
     * @param impostorPairs  how many different-class pairs were scored
     */
    public record Result(double tarAtFar1e2, double tarAtFar1e3, double eer, double auc, double[] curveFar,
                         double[] curveTar, long genuinePairs, long impostorPairs) {}

    private Verification() {}

    /** Scores every pair of the {@code n} features ({@code n x d}, row-major) by cosine similarity. */
    public static Result ofFeatures(float[] features, int n, int d, int[] labels) {
        int[] rows = thin(n);
        double[][] unit = new double[rows.length][d];
        for (int i = 0; i < rows.length; i++) {
            double sq = 0;
            for (int k = 0; k < d; k++) {
                double v = features[rows[i] * d + k];
                sq += v * v;
            }
            double inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
            for (int k = 0; k < d; k++) {
                unit[i][k] = features[rows[i] * d + k] * inv;
            }
        }
        long[] pairs = pairCounts(rows, labels);
        long genuineCount = pairs[0];
        long total = pairs[0] + pairs[1];
        double[] genuine = new double[Math.toIntExact(genuineCount)];
        double[] impostor = new double[Math.toIntExact(total - genuineCount)];
        int g = 0;
        int m = 0;
        for (int i = 0; i < rows.length; i++) {
            for (int j = i + 1; j < rows.length; j++) {
                double s = 0;
                for (int k = 0; k < d; k++) {
                    s += unit[i][k] * unit[j][k];
                }
                if (labels[rows[i]] == labels[rows[j]]) {
                    genuine[g++] = s;
                } else {
                    impostor[m++] = s;
                }
            }
        }
        return ofScores(genuine, impostor);
    }

    /** Verification from the scores of genuine and impostor pairs (both must be non-empty). */
    public static Result ofScores(double[] genuineScores, double[] impostorScores) {
        if (genuineScores.length == 0 || impostorScores.length == 0) {
            throw new IllegalArgumentException("verification needs genuine and impostor pairs, got "
                    + genuineScores.length + " and " + impostorScores.length);
        }
        double[] genuine = genuineScores.clone();
        double[] impostor = impostorScores.clone();
        Arrays.sort(genuine);
        Arrays.sort(impostor);
        double[] tars = new double[CURVE_FARS.length];
        for (int i = 0; i < tars.length; i++) {
            tars[i] = tarAtFar(genuine, impostor, CURVE_FARS[i]);
        }
        return new Result(tarAtFar(genuine, impostor, 1e-2), tarAtFar(genuine, impostor, 1e-3),
                eer(genuine, impostor), auc(genuine, impostor), CURVE_FARS.clone(), tars, genuine.length, impostor.length);
    }

    /** TAR at FAR {@code far}, on ascending-sorted scores. */
    static double tarAtFar(double[] genuine, double[] impostor, double far) {
        int allowed = (int) Math.floor(far * impostor.length + 1e-9);
        if (allowed >= impostor.length) {
            return 1.0;
        }
        double bar = impostor[impostor.length - 1 - allowed];   // the (allowed+1)-th largest impostor score
        return (double) countAbove(genuine, bar) / genuine.length;
    }

    /**
     * The EER: thresholds at every distinct score, from below all scores (FAR 1, FRR 0) to above them
     * (FAR 0, FRR 1); between the last threshold with {@code FRR <= FAR} and the next, the point where
     * they are equal, linearly.
     */
    static double eer(double[] genuine, double[] impostor) {
        double[] all = new double[genuine.length + impostor.length];
        System.arraycopy(genuine, 0, all, 0, genuine.length);
        System.arraycopy(impostor, 0, all, genuine.length, impostor.length);
        Arrays.sort(all);
        double farBefore = 1;
        double frrBefore = 0;
        int gi = 0;
        int ii = 0;
        int i = 0;
        while (i <= all.length) {
            // threshold t = all[i] (or +infinity past the end): accept scores >= t
            double far;
            double frr;
            if (i == all.length) {
                far = 0;
                frr = 1;
            } else {
                double t = all[i];
                while (gi < genuine.length && genuine[gi] < t) {
                    gi++;
                }
                while (ii < impostor.length && impostor[ii] < t) {
                    ii++;
                }
                far = (double) (impostor.length - ii) / impostor.length;
                frr = (double) gi / genuine.length;
            }
            if (frr >= far) {
                double dBefore = frrBefore - farBefore;   // <= 0
                double dNow = frr - far;                    // >= 0
                if (dNow == dBefore) {
                    return far;
                }
                double alpha = dBefore / (dBefore - dNow);
                return farBefore + alpha * (far - farBefore);
            }
            farBefore = far;
            frrBefore = frr;
            if (i == all.length) {
                break;
            }
            double t = all[i];
            while (i < all.length && all[i] == t) {
                i++;
            }
        }
        return farBefore;
    }

    /** P(genuine > impostor) + P(tie) / 2, by merging the sorted scores. */
    static double auc(double[] genuine, double[] impostor) {
        double wins = 0;
        int below = 0;      // impostor scores < g
        int notAbove = 0;   // impostor scores <= g
        for (double g : genuine) {
            while (below < impostor.length && impostor[below] < g) {
                below++;
            }
            notAbove = Math.max(notAbove, below);
            while (notAbove < impostor.length && impostor[notAbove] <= g) {
                notAbove++;
            }
            wins += below + 0.5 * (notAbove - below);
        }
        return wins / ((double) genuine.length * impostor.length);
    }

    private static int countAbove(double[] sorted, double bar) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= bar) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return sorted.length - lo;
    }

    /**
     * How many genuine and impostor pairs {@link #ofFeatures} scores for {@code n} samples with these
     * labels: known before any model exists, so a run that could not be judged is refused before training.
     */
    public static long[] pairCounts(int n, int[] labels) {
        return pairCounts(thin(n), labels);
    }

    private static long[] pairCounts(int[] rows, int[] labels) {
        java.util.Map<Integer, Long> perClass = new java.util.HashMap<>();
        for (int r : rows) {
            perClass.merge(labels[r], 1L, Long::sum);
        }
        long genuine = 0;
        for (long k : perClass.values()) {
            genuine += k * (k - 1) / 2;
        }
        long total = (long) rows.length * (rows.length - 1) / 2;
        return new long[] {genuine, total - genuine};
    }

    private static int[] thin(int n) {
        int keep = Math.min(n, MAX_SAMPLES);
        int[] rows = new int[keep];
        for (int i = 0; i < keep; i++) {
            rows[i] = (int) ((long) i * n / keep);
        }
        return rows;
    }

    private static double[] curveFars() {
        double[] f = new double[101];
        for (int i = 0; i < f.length; i++) {
            f[i] = Math.pow(10, -5 + i / 20.0);
        }
        f[f.length - 1] = 1;
        return f;
    }
}
