package dev.softmaxlosses.lab.train;

import dev.softmaxlosses.lab.data.Dataset;

import java.util.List;

/**
 * A network after training, with how it got there.
 *
 * @param network the feature extractor
 * @param head    the loss's head
 * @param history one entry per epoch
 * @param seconds wall-clock training time
 */
public record TrainedModel(Mlp network, Head head, List<EpochStats> history, double seconds) {

    /** Rows embedded at a time at inference: bounds the memory of large test sets. */
    public static final int CHUNK = 1024;

    /** The embeddings of every sample of {@code data} ({@code size x D}), in inference mode. */
    public float[] embed(Dataset data) {
        int d = network.embeddingSize();
        float[] out = new float[data.size() * d];
        int dim = data.dim();
        for (int start = 0; start < data.size(); start += CHUNK) {
            int n = Math.min(CHUNK, data.size() - start);
            float[] x = new float[n * dim];
            System.arraycopy(data.features(), start * dim, x, 0, n * dim);
            float[] e = network.forward(x, n, false);
            System.arraycopy(e, 0, out, start * d, n * d);
        }
        return out;
    }

    /** The inference logits of {@code n} embeddings ({@code n x C}): for the margin family without margin. */
    public float[] logits(float[] embeddings, int n) {
        return head.inferenceLogits(embeddings, n);
    }
}
