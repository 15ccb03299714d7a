package dev.softmaxlosses.lab.metrics;

/**
 * How well the predicted probabilities match how often the model is right (Guo et al. 2017): samples
 * are put in {@code B} equal-width bins by their confidence (the largest probability), and the
 * expected calibration error is {@code ECE = sum_b (n_b / N) |accuracy_b - confidence_b|}. An
 * over-confident model (plain softmax whose features grew long) has confidence above accuracy; label
 * smoothing pulls the two together.
 */
public final class Calibration {

    /** The usual bin count. */
    public static final int BINS = 15;

    /**
     * The reliability diagram's bins and the ECE.
     *
     * @param ece        expected calibration error, in [0, 1]
     * @param counts     samples per bin
     * @param accuracy   share right per bin (NaN for an empty bin)
     * @param confidence mean confidence per bin (NaN for an empty bin)
     * @param meanConfidence mean confidence over all samples
     * @param accuracyAll share right over all samples
     */
    public record Result(double ece, int[] counts, double[] accuracy, double[] confidence, double meanConfidence,
                         double accuracyAll) {}

    private Calibration() {}

    /** From {@code n x c} probabilities (row-major) and the true labels, with {@value #BINS} bins. */
    public static Result of(float[] probabilities, int n, int c, int[] labels) {
        return of(probabilities, n, c, labels, BINS);
    }

    /** As {@link #of(float[], int, int, int[])} with {@code bins} bins: bin {@code b} holds confidences in {@code (b/B, (b+1)/B]}. */
    public static Result of(float[] probabilities, int n, int c, int[] labels, int bins) {
        if (n == 0) {
            throw new IllegalArgumentException("calibration needs at least one sample");
        }
        int[] counts = new int[bins];
        double[] right = new double[bins];
        double[] confidenceSum = new double[bins];
        double allConfidence = 0;
        int allRight = 0;
        for (int r = 0; r < n; r++) {
            int best = 0;
            for (int j = 1; j < c; j++) {
                if (probabilities[r * c + j] > probabilities[r * c + best]) {
                    best = j;
                }
            }
            double confidence = probabilities[r * c + best];
            int b = Math.min(bins - 1, Math.max(0, (int) Math.ceil(confidence * bins) - 1));
            counts[b]++;
            confidenceSum[b] += confidence;
            allConfidence += confidence;
            if (best == labels[r]) {
                right[b]++;
                allRight++;
            }
        }
        double ece = 0;
        double[] accuracy = new double[bins];
        double[] confidence = new double[bins];
        for (int b = 0; b < bins; b++) {
            if (counts[b] == 0) {
                accuracy[b] = Double.NaN;
                confidence[b] = Double.NaN;
                continue;
            }
            accuracy[b] = right[b] / counts[b];
            confidence[b] = confidenceSum[b] / counts[b];
            ece += (double) counts[b] / n * Math.abs(accuracy[b] - confidence[b]);
        }
        return new Result(ece, counts, accuracy, confidence, allConfidence / n, (double) allRight / n);
    }
}
