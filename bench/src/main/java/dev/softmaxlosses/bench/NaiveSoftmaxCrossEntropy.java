package dev.softmaxlosses.bench;

/**
 * The baseline of the benchmarks: softmax cross-entropy as one writes it first in Java, with
 * {@code Math.exp}, a loop per step and no fusion (the "naive Java" row of issue 5's table).
 */
final class NaiveSoftmaxCrossEntropy {

    private NaiveSoftmaxCrossEntropy() {}

    static double forwardBackward(float[] logits, int[] labels, int rows, int cols, float[] grad) {
        double total = 0;
        for (int n = 0; n < rows; n++) {
            int off = n * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, logits[off + c]);
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp(logits[off + c] - max);
            }
            for (int c = 0; c < cols; c++) {
                grad[off + c] = (float) (Math.exp(logits[off + c] - max) / sum / rows);
            }
            grad[off + labels[n]] -= 1f / rows;
            total += Math.log(sum) + max - logits[off + labels[n]];
        }
        return total / rows;
    }
}
