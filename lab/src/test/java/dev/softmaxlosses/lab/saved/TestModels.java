package dev.softmaxlosses.lab.saved;

import dev.softmaxlosses.lab.data.GreyImages;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.train.Activation;
import dev.softmaxlosses.lab.train.Dense;
import dev.softmaxlosses.lab.train.Head;
import dev.softmaxlosses.lab.train.Mlp;
import dev.softmaxlosses.lab.train.MlpModel;
import dev.softmaxlosses.lab.train.Schedule;
import dev.softmaxlosses.lab.train.TrainingSettings;
import dev.softmaxlosses.spec.LossRegistry;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** Saved models for tests whose embeddings are known by hand. */
public final class TestModels {

    private TestModels() {}

    /**
     * Saves into {@code folder} a model of the lab's own network that embeds an image of {@code side x side}
     * pixels as its grey values, unchanged (one dense layer, the identity, no bias), reading image files as
     * {@code GreyImages(side, invert)}; with {@code images} false it keeps no preprocessing.
     */
    public static Path identity(Path folder, int side, boolean invert, boolean images) throws IOException {
        int dim = side * side;
        TrainingSettings s = new TrainingSettings(new int[0], dim, Activation.PRELU, true, 1, 2, 0.1, Schedule.COSINE, 0.9,
                0, 1);
        Mlp network = new Mlp(dim, new int[0], dim, Activation.PRELU, true, new Random(1));
        float[] w = ((Dense) network.layers().get(0)).weights();
        java.util.Arrays.fill(w, 0f);
        for (int i = 0; i < dim; i++) {
            w[i * dim + i] = 1f;
        }
        MlpModel model = new MlpModel(network, Head.forLoss(LossRegistry.create("softmax_cross_entropy"), dim, 2,
                new Random(1)), List.of(), 0);
        ModelInfo info = new ModelInfo("softmax_cross_entropy", Backend.JAVA_MLP, s, dim, side,
                images ? new GreyImages(side, invert) : null, List.of("a", "b"));
        SavedModel.write(folder, info, model);
        return folder;
    }
}
