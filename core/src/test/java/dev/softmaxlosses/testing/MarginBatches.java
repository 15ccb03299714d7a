package dev.softmaxlosses.testing;

import static dev.softmaxlosses.testing.Assertions2.assertClose;

import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossResult;

import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.spec.LossRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

/** Margin batches for the parity tests of the heads' paths and products, and their comparison. */
public final class MarginBatches {

    private MarginBatches() {}

    /** Every margin spec of the registry, with each gradient option it offers, plain and with the common options. */
    public static Stream<String> specs() {
        List<String> specs = new ArrayList<>();
        for (String name : LossRegistry.names()) {
            if (!(LossRegistry.create(name) instanceof MarginLoss)) {
                continue;
            }
            for (MarginLoss.Gradient gradient : MarginLoss.Gradient.values()) {
                String spec = name + ":gradient=" + gradient.name().toLowerCase(Locale.ROOT);
                if (offers(spec)) {
                    specs.add(spec);
                    specs.add(spec + ",label_smoothing=0.15,reduction=sum");
                }
            }
        }
        return specs.stream();
    }

    private static boolean offers(String spec) {
        try {
            LossRegistry.create(spec);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** {@code n x d} features and {@code c x d} weights of norms about 1 to 3, row 4 ignored, and class weights when asked. */
    public static FeatureBatch batch(Random random, int n, int c, int d, boolean classWeights) {
        return batch(random, n, c, d, classWeights, 1);
    }

    /** As {@link #batch(Random, int, int, int, boolean)} with {@code k} rows of weights per class (sub-centres). */
    public static FeatureBatch batch(Random random, int n, int c, int d, boolean classWeights, int k) {
        float[] x = Random2.uniform(random, n, d, 2);
        float[] w = Random2.uniform(random, c * k, d, 2);
        int[] labels = Random2.labels(random, n, c);
        labels[4] = -100;
        float[] weights = null;
        if (classWeights) {
            weights = new float[c];
            for (int j = 0; j < c; j++) {
                weights[j] = 0.2f + random.nextFloat() * 2;
            }
        }
        return new FeatureBatch(new FloatMatrix(x, n, d), new FloatMatrix(w, c * k, d), labels, weights);
    }

    /** The same results to float32 rounding: relative 2e-5 on the losses, 1e-4 on gradients (or 1e-5 of the largest). */
    public static void assertSameResults(LossResult expected, LossResult actual, String what) {
        assertClose(expected.loss(), actual.loss(), 2e-5, 1e-6, what + " loss");
        for (int r = 0; r < expected.losses().length; r++) {
            assertClose(expected.losses()[r], actual.losses()[r], 2e-5, 1e-5, what + " losses[" + r + "]");
            assertClose(expected.logSumExp()[r], actual.logSumExp()[r], 2e-5, 1e-5, what + " lse[" + r + "]");
        }
        double scale = Math.max(largest(expected.gradWeights()), largest(expected.gradFeatures()));
        for (int i = 0; i < expected.gradFeatures().length; i++) {
            assertClose(expected.gradFeatures()[i], actual.gradFeatures()[i], 1e-4, 1e-5 * scale,
                    what + " grad_features[" + i + "]");
        }
        for (int i = 0; i < expected.gradWeights().length; i++) {
            assertClose(expected.gradWeights()[i], actual.gradWeights()[i], 1e-4, 1e-5 * scale,
                    what + " grad_weights[" + i + "]");
        }
        assertClose(expected.gradScale(), actual.gradScale(), 1e-4, 1e-5 * Math.max(1, Math.abs(expected.gradScale())),
                what + " grad_scale");
        if (!expected.lossState().equals(actual.lossState())) {
            throw new AssertionError(what + " state after the step: " + expected.lossState() + " vs " + actual.lossState());
        }
    }

    private static double largest(float[] values) {
        double m = 1e-30;
        for (float v : values) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
