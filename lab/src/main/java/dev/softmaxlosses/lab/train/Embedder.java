package dev.softmaxlosses.lab.train;

/**
 * A trained network that turns rows into embeddings in inference mode (batch norm on its running
 * statistics), as a saved model gives it back. Close it to free what it holds beyond the Java heap (an
 * engine's native arrays); nothing to free for the lab's own network.
 */
public interface Embedder extends AutoCloseable {

    /** Values per input row. */
    int inputSize();

    /** The embedding's width {@code D}. */
    int embeddingSize();

    /**
     * The embeddings of {@code n} rows ({@code n x D}), computed {@link TrainedModel#CHUNK} rows at a time,
     * as {@link TrainedModel#embed} does, so that both give the same numbers bit for bit.
     *
     * @throws IllegalArgumentException when {@code rows} does not hold {@code n} rows
     */
    float[] embed(float[] rows, int n);

    @Override
    void close();
}
