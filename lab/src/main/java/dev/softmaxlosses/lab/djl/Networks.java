package dev.softmaxlosses.lab.djl;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.train.TrainingSettings;

import java.util.List;

/**
 * The feature extractors of the DJL engine, each ending in a dense layer to the embedding with nothing
 * after it (as the lab's own {@code Mlp}), and the head for a loss on logits.
 */
final class Networks {

    /** The widths of the CNN's convolutions, two per stage, with 2x2 max-pooling after each stage. */
    static final int[][] CNN_STAGES = {{32, 32}, {64, 64}, {128, 128}};

    /** Conv-4's stages: one 3x3 convolution of this many channels each, then 2x2 max-pooling. */
    static final int[][] CONV4_STAGES = {{64}, {64}, {64}, {64}};

    private Networks() {}

    /**
     * The feature extractor of {@code kind} that {@code s} describes: the one factory that training and
     * loading a saved model both build networks with, so that a saved network's weights fit the network
     * rebuilt from its settings. A new kind of network is one more case here.
     */
    static Block backbone(Backend.Model kind, TrainingSettings s) {
        boolean prelu = s.activation() == dev.softmaxlosses.lab.train.Activation.PRELU;
        return switch (kind) {
            case MLP -> mlp(s.hidden(), s.embedding(), prelu, s.batchNorm());
            case CNN -> convolutional(stages(kind), 5, s.embedding(), prelu, s.batchNorm());
            case CONV4 -> convolutional(stages(kind), 3, s.embedding(), prelu, s.batchNorm());
        };
    }

    /**
     * The smallest side of an image {@code kind} takes: each stage halves the image (rounding down), and
     * the last needs a pixel left; 1 for the MLP.
     */
    static int minSide(Backend.Model kind) {
        return 1 << stages(kind).length;
    }

    /** The convolution stages of {@code kind}, each followed by 2x2 max-pooling; none for the MLP. */
    private static int[][] stages(Backend.Model kind) {
        return switch (kind) {
            case MLP -> new int[0][];
            case CNN -> CNN_STAGES;
            case CONV4 -> CONV4_STAGES;
        };
    }

    /**
     * The lab's MLP: for each hidden width a dense layer (without bias under batch norm, which removes
     * it), optional batch norm and the activation, then a dense layer with bias to the embedding.
     */
    static Block mlp(int[] hidden, int embedding, boolean prelu, boolean batchNorm) {
        SequentialBlock net = new SequentialBlock();
        for (int width : hidden) {
            net.add(Linear.builder().setUnits(width).optBias(!batchNorm).build());
            if (batchNorm) {
                net.add(BatchNorm.builder().build());
            }
            net.add(prelu ? new ChannelPrelu() : Activation.reluBlock());
        }
        net.add(Linear.builder().setUnits(embedding).build());
        return net;
    }

    /**
     * Stages of {@code kernel x kernel} convolutions (same padding, each followed by optional batch norm
     * and the activation) with 2x2 max-pooling after each stage, then a dense layer to the embedding.
     * Input: {@code N x 1 x H x W}.
     *
     * <p>With {@link #CNN_STAGES} and 5x5 kernels this is LeNet++ of the center-loss paper (Wen et al.
     * 2016; SphereFace's MNIST network is the same); with {@link #CONV4_STAGES} and 3x3 kernels the Conv-4
     * of the few-shot papers (Vinyals et al. 2016, Snell et al. 2017), with the dense layer added.
     *
     * <p>With batch norm the embedding is batch-normalised too (InsightFace's embeddings end in
     * FC-BN the same way). The dense layer to it has 1152 inputs (128 channels of 3x3 for MNIST), so one
     * SGD step moves a feature some 1000 times the rate; the margin family's gradient is orthogonal to
     * the feature, so every step lengthens it, and without the last batch norm its norm ran to 100 and
     * more within an epoch, its gradient (s / |f|) vanished and CosFace stayed at 27% training accuracy
     * (at 80% with it, same steps).
     */
    static Block convolutional(int[][] stages, int kernel, int embedding, boolean prelu, boolean batchNorm) {
        SequentialBlock net = new SequentialBlock();
        for (int[] stage : stages) {
            for (int channels : stage) {
                net.add(Conv2d.builder().setKernelShape(new Shape(kernel, kernel))
                        .optPadding(new Shape(kernel / 2, kernel / 2)).setFilters(channels)
                        .optBias(!batchNorm).build());
                if (batchNorm) {
                    net.add(BatchNorm.builder().build());
                }
                net.add(prelu ? new ChannelPrelu() : Activation.reluBlock());
            }
            net.add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)));
        }
        net.add(Blocks.batchFlattenBlock());
        net.add(Linear.builder().setUnits(embedding).build());
        if (batchNorm) {
            net.add(BatchNorm.builder().build());
        }
        return net;
    }

    /**
     * The head of a loss on logits: {@code classifier}, a dense layer with bias from the embedding to
     * the logits. Its output is the logits (what {@code LogitLossAdapter} reads) and then the embedding,
     * as a {@code MarginHead} puts the features second.
     */
    static Block logitHead(Linear classifier) {
        return new ParallelBlock(outputs -> new NDList(outputs.get(0).head(), outputs.get(1).head()),
                List.of(classifier, Blocks.identityBlock()));
    }
}
