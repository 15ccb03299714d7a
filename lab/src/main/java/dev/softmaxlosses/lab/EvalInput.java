package dev.softmaxlosses.lab;

import dev.softmaxlosses.FloatMatrix;

/**
 * The arrays of one {@code eval} case as the JSON gives them, each {@code null} when the case leaves
 * it out: the union that a case is. {@link LogitCases} and {@link FeatureCases} turn it into the typed
 * input of the loss, with the messages of {@code LOSSES.md} for a field the loss does not take or needs.
 */
record EvalInput(FloatMatrix logits, int[] labels, FloatMatrix targets, FloatMatrix teacherLogits,
                 float[] classWeights, FloatMatrix features, FloatMatrix weights) {
}
