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
        return MlpEmbedder.embed(network, data.features(), data.size());
    }

    /** Writes the network's arrays into {@code folder} as {@value MlpWeights#FILE} ({@link MlpWeights}). */
    @Override
    public void saveNetwork(java.nio.file.Path folder) throws java.io.IOException {
        MlpWeights.write(network, folder.resolve(MlpWeights.FILE));
    }

    @Override
    public float[] logits(float[] embeddings, int n) {
        return head.inferenceLogits(embeddings, n);
    }
}
