package dev.softmaxlosses.lab.metrics;

/**
 * Compactness and separation on the hypersphere, in degrees. Each class's centre is the direction of
 * the mean of its unit features; the intra-class angle of a sample is its angle to its class's
 * centre, and the inter-class angles are those between centres. Compact, well separated classes have
 * small intra-class and large inter-class angles: the picture the margin losses aim for. Features of
 * norm 0 have no direction and are left out.
 *
 * @param meanIntra    mean intra-class angle over all samples
 * @param perClassIntra mean intra-class angle of each class (NaN for a class without samples)
 * @param meanInter    mean angle between the centres of two classes
 * @param minInter     smallest angle between the centres of two classes (the closest pair)
 */
public record AngleStatistics(double meanIntra, double[] perClassIntra, double meanInter, double minInter) {

    /** The statistics of {@code n} features ({@code n x d}, row-major) with labels in {@code [0, classes)}. */
    public static AngleStatistics of(float[] features, int n, int d, int[] labels, int classes) {
        double[][] unit = new double[n][];
        double[][] centres = new double[classes][d];
        for (int r = 0; r < n; r++) {
            double sq = 0;
            for (int k = 0; k < d; k++) {
                sq += (double) features[r * d + k] * features[r * d + k];
            }
            if (sq == 0) {
                continue;
            }
            double inv = 1 / Math.sqrt(sq);
            unit[r] = new double[d];
            for (int k = 0; k < d; k++) {
                unit[r][k] = features[r * d + k] * inv;
                centres[labels[r]][k] += unit[r][k];
            }
        }
        boolean[] present = new boolean[classes];
        for (int c = 0; c < classes; c++) {
            double sq = 0;
            for (int k = 0; k < d; k++) {
                sq += centres[c][k] * centres[c][k];
            }
            if (sq > 0) {
                present[c] = true;
                double inv = 1 / Math.sqrt(sq);
                for (int k = 0; k < d; k++) {
                    centres[c][k] *= inv;
                }
            }
        }
        double[] sum = new double[classes];
        int[] count = new int[classes];
        double total = 0;
        int counted = 0;
        for (int r = 0; r < n; r++) {
            if (unit[r] == null || !present[labels[r]]) {
                continue;
            }
            double angle = angle(unit[r], centres[labels[r]]);
            sum[labels[r]] += angle;
            count[labels[r]]++;
            total += angle;
            counted++;
        }
        double[] perClass = new double[classes];
        for (int c = 0; c < classes; c++) {
            perClass[c] = count[c] == 0 ? Double.NaN : sum[c] / count[c];
        }
        double interSum = 0;
        int pairs = 0;
        double min = Double.NaN;
        for (int a = 0; a < classes; a++) {
            for (int b = a + 1; b < classes; b++) {
                if (!present[a] || !present[b]) {
                    continue;
                }
                double angle = angle(centres[a], centres[b]);
                interSum += angle;
                pairs++;
                min = Double.isNaN(min) ? angle : Math.min(min, angle);
            }
        }
        return new AngleStatistics(counted == 0 ? Double.NaN : total / counted, perClass,
                pairs == 0 ? Double.NaN : interSum / pairs, min);
    }

    private static double angle(double[] u, double[] v) {
        double dot = 0;
        for (int k = 0; k < u.length; k++) {
            dot += u[k] * v[k];
        }
        return Math.toDegrees(Math.acos(Math.max(-1, Math.min(1, dot))));
    }
}
