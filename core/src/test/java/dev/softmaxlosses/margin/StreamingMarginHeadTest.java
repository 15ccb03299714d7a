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
}
