package dev.softmaxlosses.lab.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The feature extractor: for each hidden size a dense layer, optional batch norm and the activation,
 * then a dense layer to the embedding, with nothing after it. The embedding is what the losses see as
 * features (the margin family) or what a last dense layer turns into logits (the logit losses), and
 * what the report plots; leaving it linear lets it take any direction and any norm, so that what the
 * plots show comes from the loss, not from the architecture.
 */
public final class Mlp {

    private final List<Layer> layers;
    private final int inputSize;
    private final int embeddingSize;

    /**
     * @param inputSize     values per sample (784 for MNIST)
     * @param hidden        the hidden layers' widths, in order (may be empty)
     * @param embeddingSize the width of the embedding
     * @param activation    the nonlinearity after each hidden layer
     * @param batchNorm     whether each hidden layer is batch-normalised (before its activation)
     * @param random        source of the initial weights
     */
    public Mlp(int inputSize, int[] hidden, int embeddingSize, Activation activation, boolean batchNorm, Random random) {
        this.inputSize = inputSize;
        this.embeddingSize = embeddingSize;
        List<Layer> list = new ArrayList<>();
        int width = inputSize;
        for (int i = 0; i < hidden.length; i++) {
            String name = "hidden" + (i + 1);
            list.add(new Dense(name, width, hidden[i], !batchNorm, random));
            if (batchNorm) {
                list.add(new BatchNorm(name + ".bn", hidden[i]));
            }
            list.add(activation == Activation.PRELU ? new PRelu(name + ".prelu", hidden[i]) : new Relu(hidden[i]));
            width = hidden[i];
        }
        list.add(new Dense("embedding", width, embeddingSize, true, random));
        this.layers = List.copyOf(list);
    }

    public int inputSize() { return inputSize; }
    public int embeddingSize() { return embeddingSize; }

    /** The layers, first to last. */
    public List<Layer> layers() { return layers; }

    /** The embeddings of {@code n} rows of {@code input}. */
    public float[] forward(float[] input, int n, boolean training) {
        float[] x = input;
        for (Layer layer : layers) {
            x = layer.forward(x, n, training);
        }
        return x;
    }

    /** Back-propagates {@code d loss / d embedding} of the last forward batch into every parameter's gradient. */
    public void backward(float[] gradEmbedding) {
        float[] g = gradEmbedding;
        for (int i = layers.size() - 1; i >= 0; i--) {
            g = layers.get(i).backward(g, i > 0);
        }
    }

    /** Every learned array, in a fixed order. */
    public List<Parameter> parameters() {
        List<Parameter> all = new ArrayList<>();
        for (Layer layer : layers) {
            all.addAll(layer.parameters());
        }
        return all;
    }
}
