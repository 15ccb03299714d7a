package dev.softmaxlosses.lab.saved;

import dev.softmaxlosses.lab.BadInputException;
import dev.softmaxlosses.lab.Messages;
import dev.softmaxlosses.lab.data.Dataset;
import dev.softmaxlosses.lab.djl.DjlNetworkFile;
import dev.softmaxlosses.lab.train.Embedder;
import dev.softmaxlosses.lab.train.MlpEmbedder;
import dev.softmaxlosses.lab.train.MlpWeights;
import dev.softmaxlosses.lab.train.TrainedModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A trained network saved by {@code softmax-lab train --save DIR}, loaded again to embed rows or
 * images in inference mode. The folder holds {@value ModelInfo#FILE} ({@link ModelInfo}: the loss, the
 * engine and network, the settings that rebuild it, the input's shape, the image preprocessing and the
 * class names) and the weights: {@value MlpWeights#FILE} for the lab's own network ({@link MlpWeights}),
 * {@value DjlNetworkFile#FILE} for DJL's ({@link DjlNetworkFile}), plus the marker that lets a later
 * {@code --save} replace it. A loaded model embeds exactly as the trained one did, bit for bit.
 */
public final class SavedModel implements AutoCloseable {

    private final ModelInfo info;
    private final Embedder network;

    private SavedModel(ModelInfo info, Embedder network) {
        this.info = info;
        this.network = network;
    }

    /**
     * Writes {@code model}, described by {@code info}, into {@code folder} (a new folder the caller moves
     * into place, {@code ReportFolder.Kind.MODEL}). Call it before the model is {@link TrainedModel#release released}.
     *
     * @throws IOException when a file cannot be written
     */
    public static void write(Path folder, ModelInfo info, TrainedModel model) throws IOException {
        if (model.embeddingSize() != info.settings().embedding()) {
            throw new IllegalArgumentException("the model embeds into " + model.embeddingSize() + " values, the settings say "
                    + info.settings().embedding());
        }
        info.write(folder);
        model.saveNetwork(folder);
    }

    /**
     * Loads the model saved in {@code folder}.
     *
     * @throws BadInputException naming the file at fault: a folder that is missing or holds no model,
     *                           {@value ModelInfo#FILE} or the weights missing, damaged or of another
     *                           version, weights that do not fit the saved settings, or DJL's engine
     *                           not starting for a DJL model
     */
    public static SavedModel load(Path folder) {
        String shown = Messages.quote(folder.toString());
        if (!Files.isDirectory(folder)) {
            throw new BadInputException("--model " + shown + (Files.exists(folder) ? " is a file" : ": no such folder")
                    + "; give the folder that softmax-lab train --save wrote");
        }
        ModelInfo info = ModelInfo.read(folder);
        Path weights = folder.resolve(info.weightsFile());
        try {
            Embedder network = switch (info.backend().engine()) {
                case JAVA -> new MlpEmbedder(MlpWeights.read(weights, info.dim(), info.settings()));
                case DJL -> DjlNetworkFile.load(folder, info.backend().model(), info.settings(), info.dim(), info.width());
            };
            return new SavedModel(info, network);
        } catch (IOException e) {
            String why = e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage() == null
                    ? e.getClass().getSimpleName() : e.getMessage();
            throw new BadInputException("saved model file " + Messages.quote(weights.toString()) + ": " + Messages.oneLine(why));
        } catch (IllegalStateException e) {
            throw new BadInputException("--model " + shown + " was trained with --engine djl: " + e.getMessage());
        }
    }

    /** What the model is: loss, engine, settings, input shape, preprocessing, classes. */
    public ModelInfo info() {
        return info;
    }

    /** The embedding's width {@code D}. */
    public int embeddingSize() {
        return network.embeddingSize();
    }

    /**
     * The embeddings of {@code n} rows of {@link ModelInfo#dim()} values ({@code n x D}), in inference mode.
     *
     * @throws IllegalArgumentException when {@code rows} does not hold {@code n} such rows
     */
    public float[] embed(float[] rows, int n) {
        return network.embed(rows, n);
    }

    /**
     * The embeddings of every sample of {@code data}.
     *
     * @throws IllegalArgumentException when its samples are not of the model's shape
     */
    public float[] embed(Dataset data) {
        if (data.dim() != info.dim() || data.width() != info.width()) {
            throw new IllegalArgumentException(data.name() + " has samples of " + data.dim() + " values (" + data.width()
                    + " wide); the model reads " + info.dim() + " (" + info.width() + " wide)");
        }
        return embed(data.features(), data.size());
    }

    /** Frees the network's native arrays (DJL); the model cannot embed afterwards. */
    @Override
    public void close() {
        network.close();
    }
}
