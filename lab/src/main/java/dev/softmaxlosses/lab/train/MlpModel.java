package dev.softmaxlosses.lab.train;

import dev.softmaxlosses.lab.data.Dataset;

import java.util.List;

/**
 * The lab's own network after training ({@link Trainer}).
 *
 * @param network the feature extractor
 * @param head    the loss's head
 * @param history one entry per epoch
 * @param seconds wall-clock training time
 */
public record MlpModel(Mlp network, Head head, List<EpochStats> history, double seconds) implements TrainedModel {

    @Override
    public int embeddingSize() {
        return network.embeddingSize();
    }

    @Override
    public int classes() {
        return head.classes();
    }

    @Override
    public float[] classWeights() {
        return head.classWeights();
    }

    @Override
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

    @Override
    public float[] logits(float[] embeddings, int n) {
        return head.inferenceLogits(embeddings, n);
    }
}
