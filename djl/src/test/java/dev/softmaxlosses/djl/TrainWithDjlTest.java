package dev.softmaxlosses.djl;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A DJL model trains with the adapters, through DJL's own loop, and saves and loads with its head. */
class TrainWithDjlTest {

    private static final int CLASSES = 8;
    private static final int INPUTS = 16;

    /** README "Train with DJL": the example, word for word from {@code // README begin} to {@code // README end}. */
    @Test
    void arcFaceTrainsSavesAndLoads(@TempDir Path dir) throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            ArrayDataset train = clusters(manager, 1024, 1);
            ArrayDataset test = clusters(manager, 256, 2);
            int classes = CLASSES;
            float accuracy;
            float[] predictions;
            // README begin
            MarginHead head = MarginHead.of("arcface:s=16,m=0.3", classes);
            try (Model model = Model.newInstance("arcface")) {
                model.setBlock(new SequentialBlock()
                        .add(Linear.builder().setUnits(64).build())
                        .add(Activation.reluBlock())
                        .add(Linear.builder().setUnits(8).build())    // the embedding
                        .add(head));                                  // W (classes x 8) lives here
                DefaultTrainingConfig config = new DefaultTrainingConfig(head.loss())
                        .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.1f)).optMomentum(0.9f).build())
                        .addEvaluator(new Accuracy())                 // on the head's inference logits
                        .addTrainingListeners(new EvaluatorTrainingListener());
                try (Trainer trainer = model.newTrainer(config)) {
                    trainer.initialize(new Shape(32, INPUTS));
                    EasyTrain.fit(trainer, 8, train, test);
                    accuracy = trainer.getTrainingResult().getValidateEvaluation("Accuracy");
                }
                model.save(dir, "arcface");
                // README end
                predictions = predict(model, manager);
            }
            assertTrue(accuracy >= 0.95f, "validation accuracy " + accuracy);

            try (Model loaded = Model.newInstance("arcface")) {
                loaded.setBlock(network(MarginHead.of("arcface:s=16,m=0.3", classes)));
                loaded.load(dir, "arcface");
                assertArrayEquals(predictions, predict(loaded, manager), "the reloaded model predicts the same logits");
            }
        }
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

    private static float[] predict(Model model, NDManager manager) {
        NDArray x = clusters(manager, 64, 3).get(manager, 0).getData().head().reshape(1, INPUTS);
        ai.djl.training.ParameterStore store = new ai.djl.training.ParameterStore(manager, false);
        NDList out = model.getBlock().forward(store, new NDList(x), false);
        return out.head().toFloatArray();
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
