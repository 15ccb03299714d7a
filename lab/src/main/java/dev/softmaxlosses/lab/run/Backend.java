package dev.softmaxlosses.lab.run;

import java.util.Locale;

/**
 * What trains the networks: the lab's own pure-Java trainer or DJL (PyTorch's CPU engine), and which
 * network.
 *
 * @param engine the engine
 * @param model  the network: the lab's MLP, or (DJL only) LeNet++, a CNN on the images
 */
public record Backend(Engine engine, Model model) {

    /** The default: the lab's own MLP, in Java. */
    public static final Backend JAVA_MLP = new Backend(Engine.JAVA, Model.MLP);

    /** The engines. */
    public enum Engine {
        /** The lab's own trainer ({@code dev.softmaxlosses.lab.train}). */
        JAVA,
        /** DJL with PyTorch's CPU engine, the losses through the softmax-losses-djl adapters. */
        DJL
    }

    /** The networks. */
    public enum Model {
        /** Dense layers ({@code --hidden}), the lab's default. */
        MLP("MLP"),
        /** LeNet++: three stages of two 5x5 convolutions (32, 64, 128 channels) and 2x2 max-pooling. */
        CNN("LeNet++"),
        /**
         * The few-shot literature's Conv-4 (Vinyals et al. 2016, Snell et al. 2017): four stages of one 3x3
         * convolution of 64 channels and 2x2 max-pooling; about an eighth of LeNet++'s arithmetic.
         */
        CONV4("Conv-4");

        private final String title;

        Model(String title) {
            this.title = title;
        }

        /** The network's name in the papers: {@code MLP}, {@code LeNet++}, {@code Conv-4}. */
        public String title() {
            return title;
        }

        /** Whether the network reads images ({@code N x 1 x H x W}) rather than rows. */
        public boolean convolutional() {
            return this != MLP;
        }
    }

    public Backend {
        if (model.convolutional() && engine != Engine.DJL) {
            throw new IllegalArgumentException("--model " + model.name().toLowerCase(Locale.ROOT)
                    + " needs --engine djl (the lab's own trainer has dense layers only)");
        }
    }

    /** {@code java mlp}, {@code djl cnn}: as the options spell them. */
    @Override
    public String toString() {
        return engine.name().toLowerCase(Locale.ROOT) + " " + model.name().toLowerCase(Locale.ROOT);
    }
}
