package dev.softmaxlosses.lab.train;

/**
 * The lab's own network as an {@link Embedder}: {@link Mlp#forward} in inference mode, chunk by chunk
 * as {@link MlpModel#embed} runs it.
 *
 * @param network the network
 */
public record MlpEmbedder(Mlp network) implements Embedder {

    @Override
    public int inputSize() {
        return network.inputSize();
    }

    @Override
    public int embeddingSize() {
        return network.embeddingSize();
    }

    @Override
    public float[] embed(float[] rows, int n) {
        return embed(network, rows, n);
    }

    /** The embeddings of {@code n} rows by {@code network}, {@link TrainedModel#CHUNK} at a time. */
    static float[] embed(Mlp network, float[] rows, int n) {
        int dim = network.inputSize();
        if ((long) n * dim != rows.length) {
            throw new IllegalArgumentException(n + " rows of " + dim + " values need " + (long) n * dim + " values, got "
                    + rows.length);
        }
        int d = network.embeddingSize();
        float[] out = new float[Math.multiplyExact(n, d)];
        for (int start = 0; start < n; start += TrainedModel.CHUNK) {
            int m = Math.min(TrainedModel.CHUNK, n - start);
            float[] x = new float[m * dim];
            System.arraycopy(rows, start * dim, x, 0, m * dim);
            float[] e = network.forward(x, m, false);
            System.arraycopy(e, 0, out, start * d, m * d);
        }
        return out;
    }

    @Override
    public void close() {}
}
