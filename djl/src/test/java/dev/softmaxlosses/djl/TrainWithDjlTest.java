package dev.softmaxlosses.djl;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.Batchifier;
import dev.softmaxlosses.testing.ReadmeExamples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A DJL model trains with the adapters, through DJL's own loop, and saves and loads with its head. */
class TrainWithDjlTest {

    private static final int CLASSES = 8;
    private static final int INPUTS = 16;

    /**
     * README "Train with DJL": the example is this test's code between the markers, word for word
     * ({@link #theReadmeShowsExactlyThisExample}). The reloaded model scores the test set as the last
     * validation did.
     */
    @Test
    void arcFaceTrainsSavesAndLoads(@TempDir Path dir) throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            ArrayDataset train = clusters(manager, 1024, 1);
            ArrayDataset test = clusters(manager, 256, 2);
            int classes = CLASSES;
            float accuracy;
            // djl-example:start
            MarginHead head = MarginHead.of("arcface:s=16,m=0.3", classes);   // holds W (classes x 8)
            try (Model model = Model.newInstance("arcface")) {
                model.setBlock(new SequentialBlock()
                        .add(Linear.builder().setUnits(64).build())
                        .add(Activation.reluBlock())
                        .add(Linear.builder().setUnits(8).build())              // the embedding
                        .add(head));
                DefaultTrainingConfig config = new DefaultTrainingConfig(head.loss())
                        .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.1f)).optMomentum(0.9f).build())
                        .addEvaluator(new Accuracy())                             // on the inference logits
                        .addTrainingListeners(new EvaluatorTrainingListener());
                try (Trainer trainer = model.newTrainer(config)) {
                    trainer.initialize(new Shape(32, 16));
                    EasyTrain.fit(trainer, 8, train, test);
                    accuracy = trainer.getTrainingResult().getValidateEvaluation("Accuracy");
                }
                model.save(dir, "arcface");                                       // W and the head's spec too
            }
            // djl-example:end
            assertTrue(accuracy >= 0.95f, "validation accuracy " + accuracy);

            try (Model loaded = Model.newInstance("arcface")) {
                loaded.setBlock(network(MarginHead.of("arcface:s=16,m=0.3", classes)));
                loaded.load(dir, "arcface");
                assertEquals(accuracy, accuracy(loaded, test, manager), "the reloaded model scores as the trained one");
            }
        }
    }

    @Test
    void theReadmeShowsExactlyThisExample() throws IOException {
        ReadmeExamples.assertReadmeShows("djl-example", "djl/src/test/java/dev/softmaxlosses/djl/TrainWithDjlTest.java");
    }


    /** The share of {@code data} whose largest output is the label, batch by batch. */
    private static float accuracy(Model model, ArrayDataset data, NDManager manager) throws Exception {
        long correct = 0;
        long total = 0;
        ai.djl.training.ParameterStore store = new ai.djl.training.ParameterStore(manager, false);
        for (ai.djl.training.dataset.Batch batch : data.getData(manager)) {
            NDArray predicted = model.getBlock().forward(store, batch.getData(), false).head().argMax(1);
            NDArray labels = batch.getLabels().head();
            correct += predicted.eq(labels.toType(DataType.INT64, false)).countNonzero().getLong();
            total += labels.size();
            batch.close();
        }
        return (float) correct / total;
    }

    /** The streaming head (blocks of 3 of the 8 classes) with a learned scale trains too, scored by its predicted classes. */
    @Test
    void streamingHeadWithLearnedScaleTrains() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            MarginHead head = MarginHead.of("normface:s=4", CLASSES).streaming(3).learnableScale();
            try (Model model = Model.newInstance("normface")) {
                model.setBlock(network(head));
                DefaultTrainingConfig config = new DefaultTrainingConfig(head.loss())
                        .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.1f)).optMomentum(0.9f).build())
                        .addEvaluator(new PredictedClassAccuracy())
                        .addTrainingListeners(new EvaluatorTrainingListener());
                try (Trainer trainer = model.newTrainer(config)) {
                    trainer.initialize(new Shape(32, INPUTS));
                    EasyTrain.fit(trainer, 8, clusters(manager, 1024, 1), clusters(manager, 256, 2));
                    float accuracy = trainer.getTrainingResult().getValidateEvaluation("Accuracy");
                    assertTrue(accuracy >= 0.95f, "validation accuracy " + accuracy);
                    float scale = head.getParameters().get("scale").getArray().getFloat(0);
                    assertTrue(scale > 4.5f, "NormFace's scale grows from 4 while it trains: " + scale);
                }
            }
        }
    }

    private static Block network(MarginHead head) {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(64).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(8).build())
                .add(head);
    }

    /** {@code CLASSES} Gaussian clusters in {@code INPUTS} dimensions, {@code n} samples. */
    static ArrayDataset clusters(NDManager manager, int n, long seed) {
        Random centres = new Random(42);
        float[][] mean = new float[CLASSES][INPUTS];
        for (float[] m : mean) {
            for (int j = 0; j < INPUTS; j++) {
                m[j] = (float) centres.nextGaussian() * 2;
            }
        }
        Random random = new Random(seed);
        float[] x = new float[n * INPUTS];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            int c = random.nextInt(CLASSES);
            y[i] = c;
            for (int j = 0; j < INPUTS; j++) {
                x[i * INPUTS + j] = mean[c][j] + (float) random.nextGaussian() * 0.5f;
            }
        }
        return new ArrayDataset.Builder()
                .setData(manager.create(x, new Shape(n, INPUTS)))
                .optLabels(manager.create(y, new Shape(n)).toType(DataType.INT64, false))
                .setSampling(32, true)
                .optDataBatchifier(Batchifier.STACK)
                .build();
    }
}
