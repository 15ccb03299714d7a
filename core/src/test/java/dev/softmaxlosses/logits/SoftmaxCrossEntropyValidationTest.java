package dev.softmaxlosses.logits;

import dev.softmaxlosses.testing.LogitCases;

import static dev.softmaxlosses.testing.Assertions2.assertRejected;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.logits.SoftmaxCrossEntropyLoss.ClassBalance;

import org.junit.jupiter.api.Test;

/** Every validation rule, with its message. */
class SoftmaxCrossEntropyValidationTest {

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;
    private final SoftmaxCrossEntropyLoss loss = SoftmaxCrossEntropyLoss.create();

    private LossResult run(float[][] logits, int... labels) {
        return LogitCases.compute(loss, LossInput.builder().logits(logits).labels(labels).build());
    }

    @Test
    void rejectsLabelOutOfRange() {
        assertRejected(() -> run(new float[][] {{1, 2}, {3, 4}}, 0, 2),
                "labels[1] = 2 is out of range: expected a class in [0, 2) or ignore_index = -100");
        assertRejected(() -> run(new float[][] {{1, 2}}, -1), "labels[0] = -1 is out of range");
    }

    @Test
    void acceptsACustomIgnoreIndex() {
        SoftmaxCrossEntropyLoss custom = SoftmaxCrossEntropyLoss.builder().ignoreIndex(-1).build();
        LogitCases.compute(custom, LossInput.builder().logits(new float[][] {{1, 2}}).labels(-1).build());
        assertRejected(() -> LogitCases.compute(custom, LossInput.builder().logits(new float[][] {{1, 2}}).labels(-100).build()),
                "labels[0] = -100 is out of range", "ignore_index = -1");
    }

    @Test
    void rejectsLabelsOfTheWrongLength() {
        assertRejected(() -> run(new float[][] {{1, 2}, {3, 4}}, 0),
                "labels has 1 entries, expected 2 (one per row of logits)");
    }

    @Test
    void rejectsNaNNamingRowAndColumn() {
        assertRejected(() -> run(new float[][] {{1, 2}, {3, Float.NaN}}, 0, 0), "logits[1][1] is NaN");
    }

    @Test
    void rejectsPositiveInfinity() {
        assertRejected(() -> run(new float[][] {{Float.POSITIVE_INFINITY, 2}}, 0), "logits[0][0] is Infinity");
    }

    @Test
    void rejectsNaNEvenInAnIgnoredRow() {
        assertRejected(() -> run(new float[][] {{1, 2}, {Float.NaN, 4}}, 0, -100), "logits[1][0] is NaN");
    }

    @Test
    void rejectsAMaskedTargetClass() {
        assertRejected(() -> run(new float[][] {{1, NEG_INF}}, 1),
                "logits[0][1] is -Infinity (masked), but it is the target class of sample 0");
    }

    @Test
    void rejectsARowWithEveryClassMasked() {
        assertRejected(() -> run(new float[][] {{1, 2}, {NEG_INF, NEG_INF}}, 0, -100),
                "logits[1] has every class masked (-Infinity)");
    }

    @Test
    void rejectsMaskedClassesUnderLabelSmoothing() {
        SoftmaxCrossEntropyLoss smooth = SoftmaxCrossEntropyLoss.builder().labelSmoothing(0.1).build();
        assertRejected(() -> LogitCases.compute(smooth, LossInput.builder().logits(new float[][] {{1, NEG_INF}}).labels(0).build()),
                "logits[0][1] is -Infinity (masked), but label_smoothing = 0.1 gives every class a share");
    }

    @Test
    void rejectsSoftTargetWeightOnAMaskedClass() {
        assertRejected(() -> LogitCases.compute(loss, LossInput.builder().logits(new float[][] {{1, NEG_INF}})
                .targets(new float[][] {{0.5f, 0.5f}}).build()), "logits[0][1] is -Infinity (masked)", "targets[0][1] = 0.5");
    }

    @Test
    void rejectsTargetsOfTheWrongShape() {
        assertRejected(() -> LogitCases.compute(loss, LossInput.builder().logits(new float[][] {{1, 2}})
                .targets(new float[][] {{1, 0, 0}}).build()), "targets has shape 1x3, expected 1x2");
    }

    @Test
    void rejectsNegativeOrNonFiniteTargets() {
        assertRejected(() -> LogitCases.compute(loss, LossInput.builder().logits(new float[][] {{1, 2}})
                .targets(new float[][] {{1, -0.5f}}).build()), "targets[0][1] = -0.5 is negative");
        assertRejected(() -> LogitCases.compute(loss, LossInput.builder().logits(new float[][] {{1, 2}})
                .targets(new float[][] {{Float.NaN, 1}}).build()), "targets[0][0] is NaN");
    }

    @Test
    void rejectsLabelsAndTargetsTogetherOrNeither() {
        assertRejected(() -> LogitCases.compute(loss, LossInput.builder().logits(new float[][] {{1, 2}}).labels(0)
                .targets(new float[][] {{1, 0}}).build()), "takes labels or targets, not both");
        assertRejected(() -> LogitCases.compute(loss, LossInput.builder().logits(new float[][] {{1, 2}}).build()),
                "softmax_cross_entropy needs labels or targets");
    }

    @Test
    void rejectsMissingLogitsAndArraysItDoesNotTake() {
        assertRejected(() -> LogitCases.compute(loss, LossInput.builder().labels(0).build()), "softmax_cross_entropy needs logits");
        assertRejected(() -> LogitCases.compute(loss, LossInput.builder().logits(new float[][] {{1, 2}}).labels(0)
                .teacherLogits(new float[][] {{1, 2}}).build()), "does not take teacher_logits");
        assertRejected(() -> LogitCases.compute(loss, LossInput.builder().logits(new float[][] {{1, 2}}).labels(0)
                .features(new float[][] {{1, 2}}).build()), "does not take features");
    }

    @Test
    void rejectsClassWeightsOfTheWrongLengthOrValue() {
        assertRejected(() -> LogitCases.compute(loss, LossInput.builder().logits(new float[][] {{1, 2}}).labels(0)
                .classWeights(1, 2, 3).build()), "class_weights has 3 entries, expected 2 (one per class)");
        assertRejected(() -> LogitCases.compute(loss, LossInput.builder().logits(new float[][] {{1, 2}}).labels(0)
                .classWeights(1, -2).build()), "class_weights[1] = -2.0; class weights must be finite and >= 0");
        assertRejected(() -> LogitCases.compute(loss, LossInput.builder().logits(new float[][] {{1, 2}}).labels(0)
                .classWeights(Float.NaN, 1).build()), "class_weights[0] = NaN");
        assertRejected(() -> SoftmaxCrossEntropyLoss.builder().classWeights(1, Float.POSITIVE_INFINITY).build(),
                "class_weights[1] = Infinity");
    }

    @Test
    void rejectsClassWeightsGivenTwice() {
        SoftmaxCrossEntropyLoss weighted = SoftmaxCrossEntropyLoss.builder().classWeights(1, 2).build();
        assertRejected(() -> LogitCases.compute(weighted, LossInput.builder().logits(new float[][] {{1, 2}}).labels(0)
                .classWeights(1, 2).build()), "class_weights are given both to the loss and in the input");
    }

    @Test
    void rejectsBadParameters() {
        assertRejected(() -> SoftmaxCrossEntropyLoss.builder().temperature(0).build(),
                "temperature must be a finite number > 0, got 0.0");
        assertRejected(() -> SoftmaxCrossEntropyLoss.builder().temperature(Double.NaN).build(), "temperature must be");
        assertRejected(() -> SoftmaxCrossEntropyLoss.builder().labelSmoothing(1).build(),
                "label_smoothing must be in [0.0, 1.0), got 1.0");
        assertRejected(() -> SoftmaxCrossEntropyLoss.builder().labelSmoothing(-0.1).build(), "label_smoothing must be in");
    }

    @Test
    void rejectsClassBalanceWithSoftTargets() {
        SoftmaxCrossEntropyLoss balanced = SoftmaxCrossEntropyLoss.builder().classBalance(ClassBalance.BATCH).build();
        assertRejected(() -> LogitCases.compute(balanced, LossInput.builder().logits(new float[][] {{1, 2}})
                .targets(new float[][] {{1, 0}}).build()), "class_balance=batch needs hard labels");
    }

    @Test
    void rejectsRowsWithNoClasses() {
        assertRejected(() -> run(new float[][] {{}}, 0), "logits has rows of 0 values; there must be at least one class");
    }

    @Test
    void rejectsRaggedRows() {
        assertRejected(() -> run(new float[][] {{1, 2}, {3}}, 0, 0), "logits[1] has 1 values, expected 2");
    }

    @Test
    void rejectsATemperatureThatOverflowsTheLogits() {
        SoftmaxCrossEntropyLoss cold = SoftmaxCrossEntropyLoss.builder().temperature(1e-36).build();
        assertRejected(() -> LogitCases.compute(cold, LossInput.builder().logits(new float[][] {{1e5f, 2}}).labels(0).build()),
                "logits[0][0] = 100000.0 divided by temperature 1.0E-36 overflows float32");
    }

    @Test
    void rejectsBuffersOfTheWrongSize() {
        float[] z = {1, 2, 3, 4};
        assertRejected(() -> loss.forwardBackward(z, new int[] {0, 1}, 2, 2, new float[3]), "gradOut must have 4 values, got 3");
        assertRejected(() -> LogitCases.compute(loss, LossInput.builder().logits(new float[][] {{1, 2}}).labels(0).build(),
                LossResult.forLogits(2, 2)), "the result buffers are 2x2, expected 1x2");
        assertRejected(() -> loss.forwardBackward(z, new int[] {0}, 2, 3, new float[4]), "a 2x3 matrix needs 6 values, got 4");
    }

    @Test
    void shapeAndLabelErrorsWriteNothing() {
        float[] grad = {7, 7, 7, 7};
        assertRejected(() -> loss.forwardBackward(new float[] {1, 2, 3, 4}, new int[] {0, 5}, 2, 2, grad), "labels[1] = 5");
        assertArrayEquals(new float[] {7, 7, 7, 7}, grad);
    }

    @Test
    void aBadRowIsRejectedBeforeItsGradientIsWritten() {
        // Values are checked on each row's maximum as the row is reached: earlier rows are done.
        float[] grad = {7, 7, 7, 7};
        assertRejected(() -> loss.forwardBackward(new float[] {1, 2, 3, Float.NaN}, new int[] {0, 1}, 2, 2, grad),
                "logits[1][1] is NaN");
        assertArrayEquals(new float[] {7, 7}, java.util.Arrays.copyOfRange(grad, 2, 4));
    }

    @Test
    void aParallelRunReportsTheEarliestBadRow() {
        int rows = 400;
        int cols = 1000;
        float[] z = new float[rows * cols];
        z[391 * cols + 5] = Float.NaN;
        z[57 * cols + 999] = Float.POSITIVE_INFINITY;
        for (int i = 0; i < 5; i++) {
            assertRejected(() -> loss.forwardBackward(z, new int[rows], rows, cols, new float[z.length]),
                    "logits[57][999] is Infinity");
        }
    }

    @Test
    void shapesOfFloatMatrixAreChecked() {
        assertRejected(() -> new FloatMatrix(new float[3], 2, 2), "a 2x2 matrix needs 4 values, got 3");
    }
}
