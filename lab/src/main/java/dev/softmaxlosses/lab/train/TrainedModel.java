package dev.softmaxlosses.lab.train;

import dev.softmaxlosses.lab.data.Dataset;

import java.util.List;

/**
 * A network after training, with how it got there: what the metrics and the report read, whichever
 * engine trained it ({@link MlpModel} for the lab's own trainer, the DJL engine's model for
 * {@code --engine djl}).
 */
public interface TrainedModel {

    /** Rows embedded at a time at inference: bounds the memory of large test sets. */
    int CHUNK = 1024;

    /** One entry per epoch. */
    List<EpochStats> history();

    /** Wall-clock training time. */
    double seconds();

    /** The embedding's width {@code D}. */
    int embeddingSize();

    /** The number of classes {@code C}. */
    int classes();

    /**
     * The class weight vectors ({@code C x D}) whose directions the feature plot draws, or null when the
     * logits are not a function of the angle to them.
     */
    float[] classWeights();

    /** The embeddings of every sample of {@code data} ({@code size x D}), in inference mode. */
    float[] embed(Dataset data);

    /** The inference logits of {@code n} embeddings ({@code n x C}): for the margin family without margin. */
    float[] logits(float[] embeddings, int n);

    /**
     * Writes the network's weights into {@code folder}, in the engine's format (what a saved model's
     * {@code SavedModel.load} reads back); before {@link #release}.
     *
     * @throws java.io.IOException when a file cannot be written
     */
    void saveNetwork(java.nio.file.Path folder) throws java.io.IOException;

    /**
     * Frees what {@link #embed} needs beyond the Java heap (an engine's native arrays); {@code embed}
     * may fail afterwards, everything else still answers. Nothing to do for the lab's own network.
     */
    default void release() {}
}
