package dev.softmaxlosses.testing;

/**
 * What a double-precision reference expects of a loss on logits, field by field as {@code eval}
 * writes them: the reduced {@code loss} ({@code null} for {@code reduction=none}), the per-sample
 * {@code losses}, the final {@code logits}, their {@code probabilities}, each row's {@code logSumExp},
 * and the gradient with respect to the input logits.
 */
public record Expected(Double loss, double[] losses, double[][] logits, double[][] probabilities, double[] logSumExp,
                       double[][] gradLogits) {}
