package dev.softmaxlosses.djl;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.StreamingMarginHead;
import dev.softmaxlosses.scale.ShardedHead;
import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.Random2;
import dev.softmaxlosses.testing.ReadmeExamples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Partial FC head as a DJL loss: DJL's backward gives the head's {@code dL/dx} bit for bit, the
 * update waits for the training batch, a validation batch leaves no trace, and EasyTrain trains a
 * network through it.
 */
class PartialFcLossTest {

    private static final int C = 11;
    private static final int D = 6;
    private static final int N = 7;

    private static ShardedHead head(String spec, float[] w) {
        return ShardedHead.builder((MarginLoss) LossRegistry.create(spec), C, D).shards(3).block(2)
                .products(MatrixProducts.fixedOrder()).sampling(0.5, 3).sgd(0.1, 0.9, 5e-4)
                .weights(new FloatMatrix(w, C, D)).build();
    }

    @Test
    void djlsBackwardGivesTheHeadsGradientAndTheUpdateWaitsForTheBatch() {
        Random random = new Random(4);
        float[] w = Random2.uniform(random, C, D, 1);
        try (NDManager manager = NDManager.newBaseManager();
             ShardedHead twin = head("adaface:s=16", w);
             ShardedHead head = head("adaface:s=16", w)) {
            PartialFcLoss loss = PartialFcLoss.of(head);
            for (int step = 0; step < 3; step++) {
                float[] x = Random2.uniform(random, N, D, 2);
                int[] y = Random2.labels(random, N, C);
                ShardedHead.Step expected = twin.step(new FloatMatrix(x, N, D), y);
                NDArray embeddings = manager.create(x, new Shape(N, D));
                embeddings.setRequiresGradient(true);
                NDList labels = new NDList(manager.create(y));
                NDList predictions = new NDList(embeddings);
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray value = loss.evaluate(labels, predictions);
                    collector.backward(value);
                    assertEquals((float) expected.loss(), value.getFloat(), "step " + step);
                }
                assertArrayEquals(expected.gradFeatures(), embeddings.getGradient().toFloatArray(), "step " + step);
                assertTrue(head.hasPending());
                assertEquals(step, head.steps(), "no update before the batch is done");
                loss.evaluate(labels, predictions);
                assertEquals(step, head.steps(), "the same arrays again: no second computation");
                loss.update(0.1);
                assertArrayEquals(twin.weights(), head.weights(), "weights after step " + step);
                assertArrayEquals(twin.momentumBuffer(), head.momentumBuffer(), "momentum after step " + step);
                assertEquals(twin.loss().spec(), head.loss().spec(), "AdaFace's statistics after step " + step);
            }
            assertThrows(IllegalStateException.class, () -> loss.update(0.1), "nothing waits");
        }
    }

    @Test
    void theListenerUpdatesAfterATrainingBatchAndDropsAValidationBatch() {
        Random random = new Random(6);
        float[] w = Random2.uniform(random, C, D, 1);
        try (NDManager manager = NDManager.newBaseManager(); ShardedHead head = head("arcface:s=16,m=0.3", w)) {
            PartialFcLoss loss = PartialFcLoss.of(head);
            TrainingListener listener = loss.listener(Tracker.fixed(0.05f));
            NDList labels = new NDList(manager.create(Random2.labels(random, N, C)));
            loss.evaluate(labels, new NDList(manager.create(Random2.uniform(random, N, D, 2), new Shape(N, D))));
            listener.onValidationBatch(null, null);
            assertFalse(head.hasPending());
            assertArrayEquals(w, head.weights(), "a validation batch leaves the head as it was");
            assertEquals(0, head.steps());
            loss.evaluate(labels, new NDList(manager.create(Random2.uniform(random, N, D, 2), new Shape(N, D))));
            listener.onTrainingBatch(null, null);
            assertEquals(1, head.steps());
            assertEquals(0.05, head.learningRate(), 1e-9, "the tracker's rate");
            assertFalse(java.util.Arrays.equals(w, head.weights()), "a training batch updates the head");
            listener.onTrainingBatch(null, null);
            assertEquals(1, head.steps(), "a batch without a computation updates nothing");
        }
    }

    @Test
    void badInputsAreRefusedBeforeTheHeadIsTouched() {
        Random random = new Random(8);
        float[] w = Random2.uniform(random, C, D, 1);
        try (NDManager manager = NDManager.newBaseManager(); ShardedHead head = head("arcface", w)) {
            PartialFcLoss loss = PartialFcLoss.of(head);
            NDArray x = manager.create(new float[N * 4], new Shape(N, 4));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> loss.evaluate(new NDList(manager.create(new int[N])), new NDList(x)));
            assertTrue(e.getMessage().contains("the embeddings must be N x 6 (the head's dimension), got shape (7, 4)"),
                    e.getMessage());
            int[] bad = new int[N];
            bad[3] = C;
            e = assertThrows(IllegalArgumentException.class, () -> loss.evaluate(new NDList(manager.create(bad)),
                    new NDList(manager.create(new float[N * D], new Shape(N, D)))));
            assertTrue(e.getMessage().contains("labels[3] = 11 is out of range"), e.getMessage());
            assertFalse(head.hasPending());
            assertArrayEquals(w, head.weights());
        }
    }

    /**
     * EasyTrain with validation: the network learns through the head, which steps once per training
     * batch. README "Train with DJL" shows the code between the markers, word for word.
     */
    @Test
    void easyTrainTrainsANetworkThroughTheHead(@TempDir Path dir) throws Exception {
        int classes = 8;
        try (NDManager manager = NDManager.newBaseManager()) {
            ArrayDataset train = TrainWithDjlTest.clusters(manager, 1024, 1);
            ArrayDataset test = TrainWithDjlTest.clusters(manager, 256, 2);
            float validationLoss;
            float trainLoss;
            // partialfc-example:start
            MarginLoss arcface = (MarginLoss) LossRegistry.create("arcface:s=16,m=0.3");
            try (ShardedHead head = ShardedHead.builder(arcface, classes, 8).shards(2).threads(2)
                    .sampling(0.5, 1).initialWeights(1, 0.1).build();             // W and its SGD, off DJL's
                 Model model = Model.newInstance("partial-fc")) {
                PartialFcLoss loss = PartialFcLoss.of(head);
                model.setBlock(new SequentialBlock()
                        .add(Linear.builder().setUnits(64).build())
                        .add(Activation.reluBlock())
                        .add(Linear.builder().setUnits(8).build()));              // ends at the embedding
                DefaultTrainingConfig config = new DefaultTrainingConfig(loss)
                        .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.1f)).optMomentum(0.9f).build())
                        .addTrainingListeners(new EvaluatorTrainingListener(),
                                loss.listener(Tracker.fixed(0.1f)));              // the head's update, its rate
                try (Trainer trainer = model.newTrainer(config)) {
                    trainer.initialize(new Shape(32, 16));
                    EasyTrain.fit(trainer, 4, train, test);
                    validationLoss = trainer.getTrainingResult().getValidateLoss();
                    trainLoss = trainer.getTrainingResult().getTrainLoss();
                }
                head.save(dir.resolve("head.bin"));                               // any shard count loads it
                // partialfc-example:end
                assertEquals(4 * 1024 / 32, head.steps(), "one step per training batch; the validation batches add none");
                assertTrue(Float.isFinite(validationLoss) && Float.isFinite(trainLoss),
                        "the losses the evaluator listener took: " + validationLoss + ", " + trainLoss);
                assertTrue(accuracy(model, head, test, manager) >= 0.95, "test accuracy");
                try (ShardedHead loaded = ShardedHead.load(dir.resolve("head.bin"), arcface, 3, 1)) {
                    assertArrayEquals(head.weights(), loaded.weights());
                }
            }
        }
    }

    @Test
    void theReadmeShowsExactlyThisExample() throws IOException {
        ReadmeExamples.assertReadmeShows("partialfc-example", "djl/src/test/java/dev/softmaxlosses/djl/PartialFcLossTest.java");
    }

    /** The share of {@code data} whose embedding is nearest, by cosine, its own class's weight. */
    private static double accuracy(Model model, ShardedHead head, ArrayDataset data, NDManager manager) throws Exception {
        int classes = head.classes();
        int dim = head.dim();
        long right = 0;
        long total = 0;
        ParameterStore store = new ParameterStore(manager, false);
        FloatMatrix weights = new FloatMatrix(head.weights(), classes, dim);
        StreamingMarginHead plain = new StreamingMarginHead(head.loss(), classes);
        for (Batch batch : data.getData(manager)) {
            float[] e = model.getBlock().forward(store, batch.getData(), false).head().toFloatArray();
            int n = e.length / dim;
            int[] predicted = new int[n];
            plain.predictedClasses(new FloatMatrix(e, n, dim), weights, predicted, LossResult.forStreaming(n, classes, dim));
            long[] labels = batch.getLabels().head().toType(DataType.INT64, false).toLongArray();
            for (int r = 0; r < n; r++) {
                right += predicted[r] == labels[r] ? 1 : 0;
            }
            total += n;
            batch.close();
        }
        return (double) right / total;
    }
}
