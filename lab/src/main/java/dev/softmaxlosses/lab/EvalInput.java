package dev.softmaxlosses.lab;

import dev.softmaxlosses.FloatMatrix;

/**
 * The arrays of one {@code eval} case as the JSON gives them, each {@code null} when the case leaves
 * it out: the union that a case is. {@link LogitCases} and {@link FeatureCases} turn it into the typed
 * input of the loss, with the messages of {@code LOSSES.md} for a field the loss does not take or needs.
 */
record EvalInput(FloatMatrix logits, int[] labels, FloatMatrix targets, FloatMatrix teacherLogits,
                 float[] classWeights, FloatMatrix features, FloatMatrix weights, float[] margins) {

    /** A field the loss needs: its absence is the contract's error. */
    static <T> T require(String loss, String field, T value) {
        if (value == null) {
            throw new IllegalArgumentException(loss + " needs " + field);
        }
        return value;
    }

    /** A field the loss does not take: its presence is the contract's error. */
    static void forbid(String loss, String field, Object value) {
        if (value != null) {
            throw new IllegalArgumentException(loss + " does not take " + field);
        }
    }
}
