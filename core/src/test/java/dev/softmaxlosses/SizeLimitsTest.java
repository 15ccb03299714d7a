package dev.softmaxlosses;

import dev.softmaxlosses.logits.Softmax;
import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.LogitBatch;

import dev.softmaxlosses.testing.LogitCases;

import static dev.softmaxlosses.testing.Assertions2.assertRejected;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.softmaxlosses.check.GradientChecker;
import dev.softmaxlosses.logits.FocalLoss;
import dev.softmaxlosses.logits.SoftmaxCrossEntropyLoss;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.NormFaceLoss;
import dev.softmaxlosses.margin.StreamingMarginHead;

import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Shapes whose values are more than one Java array holds are refused, naming the shape, before
 * anything is allocated; a null argument is a NullPointerException naming it.
 */
class SizeLimitsTest {

    private static final String TOO_MANY = "more than a Java array holds (2147483639)";

    @Test
    void rejectsResultsLargerThanAnArray() {
        assertRejected(() -> LossResult.forLogits(70000, 70000),
                "a result of 70000x70000 logits needs 4900000000 values, " + TOO_MANY);
        assertRejected(() -> LossResult.forFeatures(70000, 70000, 1),
                "a result of 70000x70000 logits needs 4900000000 values, " + TOO_MANY
                        + "; a StreamingMarginHead holds no N x C array");
        assertRejected(() -> LossResult.forFeatures(3, 4, Integer.MAX_VALUE),
                "a feature gradient of 3x2147483647 needs 6442450941 values, " + TOO_MANY);
        assertRejected(() -> LossResult.forStreaming(3, 1 << 30, 4),
                "a weight gradient of 1073741824x4 needs 4294967296 values, " + TOO_MANY);
        assertRejected(() -> LossResult.forLogits(1, Integer.MAX_VALUE), "needs 2147483647 values, " + TOO_MANY);
    }

    @Test
    void rejectsMatricesLargerThanAnArray() {
        assertRejected(() -> FloatMatrix.zeros(70000, 70000), "a 70000x70000 matrix needs 4900000000 values, " + TOO_MANY);
        assertRejected(() -> FloatMatrix.zeros(-1, 5), "a matrix cannot have a negative shape: -1x5");
        float[][] rows = new float[70000][];
        Arrays.fill(rows, new float[70000]);
        assertRejected(() -> FloatMatrix.of("logits", rows), "a 70000x70000 logits needs 4900000000 values, " + TOO_MANY);
    }

    @Test
    void rejectsAMarginBatchWhoseLogitsAreLargerThanAnArray() {
        FeatureBatch input = FeatureBatch.of(FloatMatrix.zeros(70000, 1), FloatMatrix.zeros(70000, 1), new int[70000]);
        assertRejected(() -> ((FeatureLoss) LossRegistry.create("normface")).compute(input),
                "70000 features and 70000 classes make 70000x70000 logits: that needs 4900000000 values, " + TOO_MANY
                        + "; compute the loss with a StreamingMarginHead, which holds N x block values");
        MarginLoss loss = NormFaceLoss.builder().build();
        assertRejected(() -> loss.inferenceLogits(FloatMatrix.zeros(70000, 1), FloatMatrix.zeros(70000, 1)),
                "70000 features and 70000 classes make 70000x70000 logits: that needs 4900000000 values, " + TOO_MANY
                        + "; compute the logits of fewer features at a time");
    }

    @Test
    void rejectsAStreamingBlockLargerThanAnArrayAndSuggestsOne() {
        FeatureBatch input = FeatureBatch.of(FloatMatrix.zeros(50000, 1), FloatMatrix.zeros(50000, 1), new int[50000]);
        StreamingMarginHead head = new StreamingMarginHead(NormFaceLoss.builder().build(), 100000);
        assertRejected(() -> head.compute(input), "a block of 50000 classes for 50000 features needs 2500000000 values, "
                + TOO_MANY + ": use a block of at most 42949 classes");
    }

    @Test
    void rejectsStreamingResultsForALogitLoss() {
        LossInput input = LossInput.of(new FloatMatrix(new float[] {1, 2}, 1, 2), new int[] {0});
        for (Loss loss : new Loss[] {SoftmaxCrossEntropyLoss.create(), FocalLoss.builder().build()}) {
            assertRejected(() -> LogitCases.compute(loss, input, LossResult.forStreaming(1, 2, 3)),
                    "the result buffers hold no logits (they are a streaming head's): allocate them with LossResult.forLogits(1, 2)");
        }
    }

    @Test
    void aNullArgumentIsANullPointerExceptionNamingIt() {
        assertNamedNull("batch", () -> SoftmaxCrossEntropyLoss.create().compute((LogitBatch) null));
        assertNamedNull("batch", () -> NormFaceLoss.builder().build().compute(null));
        assertNamedNull("out", () -> FocalLoss.builder().build().compute(
                LogitBatch.of(new FloatMatrix(new float[] {1, 2}, 1, 2), new int[] {0}), null));
        assertNamedNull("labels", () -> LogitBatch.of(FloatMatrix.zeros(1, 2), null));
        assertNamedNull("logits", () -> SoftmaxCrossEntropyLoss.create().forwardBackward(null, new int[0], 0, 0, new float[0]));
        assertNamedNull("logits", () -> FocalLoss.builder().build().forwardBackward(null, new int[0], 0, 0, new float[0]));
        assertNamedNull("logits", () -> Softmax.softmax(null));
        assertNamedNull("logits[1]", () -> FloatMatrix.of("logits", new float[][] {{1}, null}));
        assertNamedNull("features", () -> NormFaceLoss.builder().build().inferenceLogits(null, FloatMatrix.zeros(1, 1)));
        assertNamedNull("loss", () -> new StreamingMarginHead(null));
        assertNamedNull("x", () -> GradientChecker.builder().build().check(null, (x, g) -> 0));
    }

    @Test
    void rejectsAnInfiniteGradientCheckStep() {
        assertRejected(() -> GradientChecker.builder().step(Double.POSITIVE_INFINITY).build(),
                "step must be finite, got Infinity");
    }

    private static void assertNamedNull(String name, Executable call) {
        assertEquals(name, assertThrows(NullPointerException.class, call).getMessage());
    }
}
