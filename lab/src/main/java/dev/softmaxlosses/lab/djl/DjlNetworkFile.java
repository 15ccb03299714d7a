package dev.softmaxlosses.lab.djl;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.train.Embedder;
import dev.softmaxlosses.lab.train.TrainingSettings;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A DJL network's feature extractor in a saved model: {@value #FILE}, DJL's own parameter file as
 * {@link Model#save} writes it ({@code DJL@}, the format's version, the model's name, its data type and
 * input shapes, then every parameter of the block in order, batch norm's running mean and variance and
 * PReLU's slopes among them). Only the feature extractor is saved, not the loss's head: embeddings are
 * what the lab needs of a saved model. Loading builds the network from the saved settings through
 * {@link Networks#backbone}, the factory training uses, and reads the parameters into it with
 * {@link Model#load}; no file is downloaded (the engine is started offline, {@link DjlRuntime}).
 */
public final class DjlNetworkFile {

    /** The model name DJL's file carries; the file is {@code NAME-0000.params}. */
    static final String NAME = "network";

    /** The file's name in a saved model's folder. */
    public static final String FILE = NAME + "-0000.params";

    private DjlNetworkFile() {}

    /** Writes the parameters of {@code backbone} (trained and initialised) into {@code folder}. */
    static void write(Block backbone, Path folder) throws IOException {
        // A model of its own holds the block only to save it; closing it leaves the trained model's arrays alone.
        try (Model model = Model.newInstance(NAME, Device.cpu(), "PyTorch")) {
            model.setBlock(backbone);
            model.setProperty("Epoch", "0");
            model.save(folder, NAME);
        }
    }

    /**
     * The network of {@code kind} that {@code settings} describe, with its parameters read from
     * {@value #FILE} in {@code folder}, as an {@link Embedder} of rows of {@code dim} values (images
     * {@code width} pixels wide for a network that reads images).
     *
     * @throws IOException           when the file is missing, unreadable or not a parameter file of that network
     * @throws IllegalStateException when the engine does not start, with its reason
     */
    public static Embedder load(Path folder, Backend.Model kind, TrainingSettings settings, int dim, int width)
            throws IOException {
        DjlRuntime.start(settings.seed());
        Block block = Networks.backbone(kind, settings);
        Model model = Model.newInstance(NAME, Device.cpu(), "PyTorch");
        boolean done = false;
        try {
            model.setBlock(block);
            try {
                model.load(folder, NAME, Map.of("epoch", "0"));
            } catch (MalformedModelException e) {
                throw new IOException("it is not a parameter file of the saved network (" + e.getMessage() + ")", e);
            } catch (RuntimeException e) {
                throw new IOException("DJL cannot read it (" + e.getMessage() + ")", e);
            }
            if (!block.isInitialized()) {
                throw new IOException("it is not a parameter file of DJL (it does not start with DJL@)");
            }
            Loaded loaded = new Loaded(model, block, dim, width, kind.convolutional(), settings.embedding());
            loaded.check();
            done = true;
            return loaded;
        } finally {
            if (!done) {
                model.close();
            }
        }
    }

    /** A loaded network: the feature extractor in inference mode, chunk by chunk as {@link DjlModel} runs it. */
    private static final class Loaded implements Embedder {
        private final Model model;
        private final Block block;
        private final int dim;
        private final int width;
        private final boolean images;
        private final int embedding;

        Loaded(Model model, Block block, int dim, int width, boolean images, int embedding) {
            this.model = model;
            this.block = block;
            this.dim = dim;
            this.width = width;
            this.images = images;
            this.embedding = embedding;
        }

        /** One row of zeros through the network: its parameters must fit it and give embeddings of the saved width. */
        void check() throws IOException {
            float[] e;
            try {
                e = embed(new float[dim], 1);
            } catch (RuntimeException ex) {
                throw new IOException("its parameters do not fit the network of the saved settings ("
                        + ex.getMessage() + ")", ex);
            }
            if (e.length != embedding) {
                throw new IOException("its network gives embeddings of " + e.length + " values; the saved settings say "
                        + embedding);
            }
        }

        @Override
        public int inputSize() {
            return dim;
        }

        @Override
        public int embeddingSize() {
            return embedding;
        }

        @Override
        public float[] embed(float[] rows, int n) {
            if ((long) n * dim != rows.length) {
                throw new IllegalArgumentException(n + " rows of " + dim + " values need " + (long) n * dim
                        + " values, got " + rows.length);
            }
            return DjlRuntime.embed(block, model.getNDManager(), rows, n, dim,
                    k -> images ? new Shape(k, 1, dim / width, width) : new Shape(k, dim));
        }

        @Override
        public void close() {
            model.close();
        }
    }
}
