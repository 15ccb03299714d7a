package dev.softmaxlosses.lab.metrics;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.logits.Softmax;
import dev.softmaxlosses.lab.data.OpenSet;
import dev.softmaxlosses.lab.train.Head;
import dev.softmaxlosses.lab.train.TrainedModel;

/**
 * Everything the report says about one trained model, measured on the test set: accuracy and
 * calibration on the known classes, open-set verification on the held-out classes, the geometry of
 * the features.
 *
 * @param testAccuracy       share of the known classes' test samples classified right
 * @param verification       open-set verification on the held-out classes' samples; null when no class is held out
 * @param calibration        reliability bins and ECE of the known classes' test predictions
 * @param angles             intra- and inter-class angles of the known classes' test features
 * @param meanFeatureNorm    mean norm of the known classes' test features
 * @param knownFeatures      test features of the known classes ({@code knownTest.size() x D})
 * @param heldOutFeatures    features of the held-out classes' samples; null when no class is held out
 * @param featureNorms       the norm of each of {@code knownFeatures}
 * @param oneShot            N-way K-shot episodes on the held-out classes' test features, within their groups
 *                           ({@link OneShot}), or null: not asked for (data that are not image folders), or
 *                           no group has enough held-out classes
 */
public record RunMetrics(double testAccuracy, Verification.Result verification, Calibration.Result calibration,
                         AngleStatistics angles, double meanFeatureNorm, float[] knownFeatures, float[] heldOutFeatures,
                         double[] featureNorms, OneShot.Result oneShot) {

    /** Whether open-set verification was measured (some classes were held out). */
    public boolean hasVerification() {
        return verification != null;
    }

    /** Measures {@code model} on the test sets of {@code data}. */
    public static RunMetrics of(TrainedModel model, OpenSet data) {
        return of(model, data, null);
    }

    /**
     * Measures {@code model} on the test sets of {@code data}, with one-shot episodes on the held-out
     * classes by {@code oneShot} (null: none).
     */
    public static RunMetrics of(TrainedModel model, OpenSet data, OneShot.Protocol oneShot) {
        int d = model.embeddingSize();
        int n = data.knownTest().size();
        int c = model.classes();
        int[] labels = data.knownTest().labels();
        float[] known = model.embed(data.knownTest());
        float[] logits = model.logits(known, n);
        float[] probabilities = Softmax.softmax(new FloatMatrix(logits, n, c)).data();
        int right = 0;
        for (int r = 0; r < n; r++) {
            if (Head.argmax(logits, r * c, c) == labels[r]) {
                right++;
            }
        }
        double[] norms = new double[n];
        double normSum = 0;
        for (int r = 0; r < n; r++) {
            double sq = 0;
            for (int k = 0; k < d; k++) {
                sq += (double) known[r * d + k] * known[r * d + k];
            }
            norms[r] = Math.sqrt(sq);
            normSum += norms[r];
        }
        float[] heldOut = data.hasHeldOut() ? model.embed(data.heldOutTest()) : null;
        return new RunMetrics((double) right / n, heldOut == null ? null
                        : Verification.ofFeatures(heldOut, data.heldOutTest().size(), d, data.heldOutTest().labels()),
                Calibration.of(probabilities, n, c, labels),
                AngleStatistics.of(known, n, d, labels, c),
                normSum / n, known, heldOut, norms, oneShot(heldOut, d, data, oneShot));
    }

    private static OneShot.Result oneShot(float[] heldOut, int d, OpenSet data, OneShot.Protocol protocol) {
        if (protocol == null || heldOut == null) {
            return null;
        }
        try {
            return OneShot.episodes(heldOut, d, data.heldOutTest().labels(), data.heldOutTest().classNames(), protocol);
        } catch (IllegalArgumentException tooFewClasses) {
            return null;
        }
    }
}
