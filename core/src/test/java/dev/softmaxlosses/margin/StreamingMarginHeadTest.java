package dev.softmaxlosses.margin;

import dev.softmaxlosses.FeatureLoss;
import dev.softmaxlosses.FeatureBatch;
import static dev.softmaxlosses.testing.Assertions2.assertClose;
import static dev.softmaxlosses.testing.Assertions2.assertRejected;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.testing.Random2;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The streaming head's buffers and arguments; its results are {@link MarginPathParityTest}'s. */
class StreamingMarginHeadTest {

    @Test
    void holdsNoPerClassOutputs() {
        LossResult r = LossResult.forStreaming(3, 100_000, 8);
        assertEquals(0, r.logits().length);
        assertEquals(0, r.gradLogits().length);
        assertEquals(100_000 * 8, r.gradWeights().length);
        MarginLoss arc = ArcFaceLoss.builder().build();
        assertRejected(() -> arc.compute(FeatureBatch.of(FloatMatrix.of("features", new float[][] {{1, 2}}), FloatMatrix.of("weights", new float[][] {{1, 2}}), new int[] {0}), LossResult.forStreaming(1, 1, 2)), "the result buffers hold no logits");
        assertRejected(() -> new StreamingMarginHead(arc, 0), "block must be >= 1, got 0");
    }

    /** Inference into reused buffers equals the allocating one; the predicted classes are its rows' first largest logits. */
    @ParameterizedTest
    @ValueSource(strings = {"arcface", "lsoftmax", "l2_softmax:alpha=3"})
    void inferenceIntoBuffersAndPredictedClasses(String spec) {
        MarginLoss loss = (MarginLoss) dev.softmaxlosses.spec.LossRegistry.create(spec);
        Random random = new Random(7);
        int n = 9, c = 23, d = 5;
        float[] x = new float[n * d];
        float[] w = new float[c * d];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) random.nextGaussian();
        FloatMatrix features = new FloatMatrix(x, n, d);
        FloatMatrix weights = new FloatMatrix(w, c, d);
        float[] expected = loss.inferenceLogits(features, weights).data();
        StreamingMarginHead head = new StreamingMarginHead(loss, 4);
        LossResult scratch = LossResult.forLogits(0, 0);
        float[] into = new float[n * c];
        int[] predicted = new int[n];
        for (int call = 0; call < 2; call++) {
            head.inferenceLogits(features, weights, into, scratch);
            head.predictedClasses(features, weights, predicted, scratch);
            for (int r = 0; r < n; r++) {
                int best = 0;
                for (int j = 0; j < c; j++) {
                    assertEquals(expected[r * c + j], into[r * c + j], "logit " + r + "," + j);
                    best = expected[r * c + j] > expected[r * c + best] ? j : best;
                }
                assertEquals(best, predicted[r], "row " + r);
            }
        }
        assertRejected(() -> head.inferenceLogits(features, weights, new float[3], scratch), "need 207 values, got 3");
    }
}
