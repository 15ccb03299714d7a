package dev.softmaxlosses.lab.djl;

import ai.djl.Model;
import ai.djl.nn.Block;
import dev.softmaxlosses.lab.data.Dataset;
import dev.softmaxlosses.lab.train.EpochStats;
import dev.softmaxlosses.lab.train.TrainedModel;

import java.util.List;

/**
 * A network DJL trained: the embeddings come from its feature extractor in inference mode (batch norm
 * on its running statistics), the logits from the head's parameters on the host, so that metrics and
 * report read it as the lab's own model. {@link #release} closes the DJL model.
 */
final class DjlModel implements TrainedModel {

    private final Model model;
    private final Block backbone;
    private final DjlTrainer.HostHead head;
    private final boolean images;
    private final List<EpochStats> history;
    private final double seconds;
    /** Whether the weights are final: only then does {@link #embed} reuse {@link #lastEmbeddings}. */
    private final boolean trained;
    /** The last data set embedded and its embeddings: the test set, which the metrics embed again. */
    private volatile Dataset lastData;
    private volatile float[] lastEmbeddings;

    /** The model being trained, whose weights still move. */
    DjlModel(Model model, Block backbone, DjlTrainer.HostHead head, boolean images) {
        this(model, backbone, head, images, List.of(), 0, false);
    }

    private DjlModel(Model model, Block backbone, DjlTrainer.HostHead head, boolean images, List<EpochStats> history,
                     double seconds, boolean trained) {
        this.trained = trained;
        this.model = model;
        this.backbone = backbone;
        this.head = head;
        this.images = images;
        this.history = history;
        this.seconds = seconds;
    }

    /** This model after training, knowing the embeddings of {@code data} its last epoch measured. */
    DjlModel finished(DjlTrainer.HostHead frozen, List<EpochStats> history, double seconds) {
        DjlModel done = new DjlModel(model, backbone, frozen, images, history, seconds, true);
        done.lastData = lastData;
        done.lastEmbeddings = lastEmbeddings;
        return done;
    }

    @Override
    public List<EpochStats> history() {
        return history;
    }

    @Override
    public double seconds() {
        return seconds;
    }

    @Override
    public int embeddingSize() {
        return head.dim();
    }

    @Override
    public int classes() {
        return head.classes();
    }

    @Override
    public float[] classWeights() {
        return head.classWeights();
    }

    /** The embeddings of {@code data}; once the weights are final, again for the data set embedded last, a copy. */
    @Override
    public float[] embed(Dataset data) {
        if (trained && data == lastData) {
            return lastEmbeddings.clone();
        }
        float[] e = compute(data);
        lastData = data;
        lastEmbeddings = e.clone();
        return e;
    }

    private float[] compute(Dataset data) {
        return DjlRuntime.embed(backbone, model.getNDManager(), data.features(), data.size(), data.dim(),
                rows -> DjlTrainer.inputShape(data, rows, images));
    }

    @Override
    public float[] logits(float[] embeddings, int n) {
        return head.logits(embeddings, n);
    }

    /** The share of {@code data} whose inference logits pick the right class. */
    double accuracy(Dataset data) {
        if (data.size() == 0) {
            return Double.NaN;
        }
        float[] logits = logits(embed(data), data.size());
        int c = head.classes();
        int right = 0;
        for (int r = 0; r < data.size(); r++) {
            if (DjlTrainer.argmax(logits, r * c, c) == data.labels()[r]) {
                right++;
            }
        }
        return (double) right / data.size();
    }

    /** Writes the feature extractor's parameters into {@code folder} ({@link DjlNetworkFile}). */
    @Override
    public void saveNetwork(java.nio.file.Path folder) throws java.io.IOException {
        DjlNetworkFile.write(backbone, folder);
    }

    @Override
    public void release() {
        model.close();
    }
}
