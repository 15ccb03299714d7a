package dev.softmaxlosses.margin;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.internal.Checks;

import java.util.Arrays;
import java.util.Objects;

/**
 * Sub-center ArcFace's tool for cleaning a noisy data set (Deng et al. 2020, section 3.2): with a head
 * trained with {@code k} sub-centres per class, each class's dominant sub-centre is the one that is
 * closest for most of its samples (ties: the lowest index), and a sample whose angle to its class's
 * dominant sub-centre exceeds a threshold (75 degrees in the paper) is likely mislabelled.
 *
 * @param dominant each class's dominant sub-centre, {@code -1} for a class without samples
 * @param angles   each sample's angle to its class's dominant sub-centre, in degrees (NaN for an ignored sample)
 * @param outliers the samples whose angle exceeds the threshold, in order
 */
public record SubCentreCleaning(int[] dominant, double[] angles, int[] outliers) {

    /** The paper's threshold, in degrees. */
    public static final double PAPER_THRESHOLD_DEGREES = 75;

    /**
     * Finds the dominant sub-centres of {@code weights} ({@code C k x D}, rows {@code c k .. c k + k - 1}
     * of class {@code c}) among {@code features} ({@code N x D}) with {@code labels} (those outside
     * {@code [0, C)} are ignored), and the samples further than {@code thresholdDegrees} from theirs.
     *
     * @throws IllegalArgumentException for mismatched shapes, a row count that is not a multiple of
     *                                  {@code k}, a value that is not finite, or a threshold outside [0, 180]
     */
    public static SubCentreCleaning of(FloatMatrix features, int[] labels, FloatMatrix weights, int k, double thresholdDegrees) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(weights, "weights");
        if (k < 1 || weights.rows() % k != 0) {
            throw new IllegalArgumentException("weights has " + weights.rows() + " rows, not a multiple of k = " + k);
        }
        if (features.rows() > 0 && features.cols() != weights.cols()) {
            throw new IllegalArgumentException("features has " + features.cols() + " columns, expected " + weights.cols());
        }
        if (labels.length != features.rows()) {
            throw new IllegalArgumentException("labels has " + labels.length + " values, expected " + features.rows());
        }
        if (!(thresholdDegrees >= 0 && thresholdDegrees <= 180)) {
            throw new IllegalArgumentException("the threshold must be in [0, 180] degrees, got " + thresholdDegrees);
        }
        Checks.requireFinite("features", features);
        Checks.requireFinite("weights", weights);
        int n = features.rows();
        int d = weights.cols();
        int classes = weights.rows() / k;
        double[] featureNorms = new double[n];
        double[] weightNorms = new double[weights.rows()];
        Normalisation.norms(features.data(), n, d, featureNorms);
        Normalisation.norms(weights.data(), weights.rows(), d, weightNorms);
        int[] votes = new int[weights.rows()];
        for (int r = 0; r < n; r++) {
            int y = labels[r];
            if (y >= 0 && y < classes) {
                votes[y * k + closest(features, r, featureNorms, weights, weightNorms, y, k)]++;
            }
        }
        int[] dominant = new int[classes];
        for (int c = 0; c < classes; c++) {
            int best = -1;
            for (int j = 0; j < k; j++) {
                if (votes[c * k + j] > 0 && (best < 0 || votes[c * k + j] > votes[c * k + best])) {
                    best = j;
                }
            }
            dominant[c] = best;
        }
        double[] angles = new double[n];
        int[] outliers = new int[n];
        int count = 0;
        for (int r = 0; r < n; r++) {
            int y = labels[r];
            if (y < 0 || y >= classes) {
                angles[r] = Double.NaN;
                continue;
            }
            int row = y * k + dominant[y];
            double c = Normalisation.cosine(features.data(), r, featureNorms[r], weights.data(), row, weightNorms[row], d);
            angles[r] = Math.toDegrees(Math.acos(Math.max(-1, Math.min(1, c))));
            if (angles[r] > thresholdDegrees) {
                outliers[count++] = r;
            }
        }
        return new SubCentreCleaning(dominant, angles, Arrays.copyOf(outliers, count));
    }

    /** The sub-centre of class {@code y} closest to sample {@code r} (the first of equals). */
    private static int closest(FloatMatrix features, int r, double[] featureNorms, FloatMatrix weights, double[] weightNorms,
                               int y, int k) {
        int best = 0;
        double bestCos = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) {
            int row = y * k + j;
            double c = Normalisation.cosine(features.data(), r, featureNorms[r], weights.data(), row, weightNorms[row],
                    weights.cols());
            if (c > bestCos) {
                bestCos = c;
                best = j;
            }
        }
        return best;
    }
}
