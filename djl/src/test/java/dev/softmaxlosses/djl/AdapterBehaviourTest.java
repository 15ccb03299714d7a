package dev.softmaxlosses.djl;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.listener.EvaluatorTrainingListener;
import dev.softmaxlosses.LogitBatch;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.spec.LossRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The adapters under DJL's habits: two evaluations per batch, bad input, threads, half precision. */
class AdapterBehaviourTest {

    /** Counts the library's computations of a softmax cross-entropy. */
    private static final class CountingLoss implements LogitLoss {
        final LogitLoss inner = (LogitLoss) LossRegistry.create("softmax_cross_entropy");
        final AtomicInteger computations = new AtomicInteger();

        @Override public LossSpec spec() { return inner.spec(); }
        @Override public double forwardBackward(float[] logits, int[] labels, int rows, int cols, float[] gradOut) {
            computations.incrementAndGet();
            return inner.forwardBackward(logits, labels, rows, cols, gradOut);
        }
        @Override public void compute(LogitBatch batch, LossResult out) {
            computations.incrementAndGet();
            inner.compute(batch, out);
        }
        @Override public boolean takes(Class<? extends LogitBatch.Target> kind) { return inner.takes(kind); }
        @Override public boolean takesClassWeights() { return inner.takesClassWeights(); }
    }

    @Test
    void easyTrainComputesEachTrainingBatchOnce() throws Exception {
        CountingLoss counting = new CountingLoss();
        try (NDManager manager = NDManager.newBaseManager(); Model model = Model.newInstance("once")) {
            ArrayDataset data = TrainWithDjlTest.clusters(manager, 256, 1); // 8 batches of 32
            model.setBlock(new SequentialBlock().add(Linear.builder().setUnits(8).build()));
            DefaultTrainingConfig config = new DefaultTrainingConfig(new LogitLossAdapter(counting))
                    .addTrainingListeners(new EvaluatorTrainingListener());
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(32, 16));
                EasyTrain.fit(trainer, 2, data, null);
                assertEquals(2 * 8, counting.computations.get(), "one computation per training batch");
                assertFalse(Float.isNaN(trainer.getTrainingResult().getTrainLoss()));
            }
        }
    }

    @Test
    void badInputIsTheLibrarysErrorAndTouchesNothing() {
        LogitLoss library = (LogitLoss) LossRegistry.create("softmax_cross_entropy");
        LogitLossAdapter adapter = new LogitLossAdapter(library);
        try (NDManager m = NDManager.newBaseManager()) {
            float[] z = {1, 2, 3, 0, Float.NaN, 5};
            NDArray logits = m.create(z.clone(), new Shape(2, 3));
            logits.setRequiresGradient(true);
            int[] labels = {2, 7};
            String expected = assertThrows(IllegalArgumentException.class,
                    () -> library.compute(LogitBatch.of(z.clone(), 2, 3, labels))).getMessage();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> adapter.evaluate(new NDList(m.create(labels)), new NDList(logits)));
            assertEquals(expected, e.getMessage());
            assertArrayEquals(z, logits.toFloatArray(), "the logits are untouched");

            assertThrows(IllegalArgumentException.class,
                    () -> adapter.evaluate(new NDList(m.create(new int[] {0, 1, 2})), new NDList(logits)),
                    "three labels for two rows");
            IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
                    () -> adapter.evaluate(new NDList(m.create(new int[] {0})), new NDList(m.create(new float[] {1, 2}))));
            assertEquals("logits must be N x C, got shape (2)", rank.getMessage());
            IllegalArgumentException fractional = assertThrows(IllegalArgumentException.class,
                    () -> adapter.evaluate(new NDList(m.create(new float[] {0, 1.5f})), new NDList(m.create(new float[6], new Shape(2, 3)))));
            assertEquals("labels[1] = 1.5 is not a class index", fractional.getMessage());
        }
    }

    @Test
    void marginHeadBadLabelsLeaveTheWeightsAlone() throws Exception {
        MarginHead head = MarginHead.of("cosface:s=8,m=0.2", 4);
        try (Model model = Model.newInstance("bad")) {
            model.setBlock(head);
            try (Trainer trainer = model.newTrainer(new DefaultTrainingConfig(head.loss()))) {
                trainer.initialize(new Shape(3, 5));
                NDManager m = trainer.getManager();
                float[] before = head.getParameters().get("weight").getArray().toFloatArray();
                NDArray x = m.randomNormal(new Shape(3, 5));
                try (GradientCollector gc = trainer.newGradientCollector()) {
                    NDList out = trainer.forward(new NDList(x));
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> head.loss().evaluate(new NDList(m.create(new int[] {0, 4, 1})), out));
                    assertEquals(true, e.getMessage().contains("4"), e.getMessage());
                }
                NDArray w = head.getParameters().get("weight").getArray();
                assertArrayEquals(before, w.toFloatArray());
                assertEquals(0f, w.getGradient().abs().sum().getFloat(), "no gradient reached the weights");
            }
        }
    }

    /**
     * PyTorch records one gradient at a time (DJL's collector is global), so threads evaluate values: per
     * sample, each thread in its own host buffers, of batches of several shapes at once.
     */
    @Test
    void threadsEvaluateAtOnce() throws Exception {
        LogitLossAdapter adapter = LogitLossAdapter.of("softmax_cross_entropy:label_smoothing=0.1,reduction=none");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (NDManager m = NDManager.newBaseManager()) {
            List<Callable<float[]>> tasks = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                int seed = t % 4;
                tasks.add(() -> values(adapter, m, seed, 64 + seed, 100 + 7 * seed));
            }
            List<Future<float[]>> results = pool.invokeAll(tasks);
            for (int t = 0; t < 16; t++) {
                int seed = t % 4;
                assertArrayEquals(values(adapter, m, seed, 64 + seed, 100 + 7 * seed), results.get(t).get());
            }
        } finally {
            pool.shutdown();
        }
    }

    /**
     * Logits near the float32 range: the bridge's {@code sum(g * z)} is as large as the loss (each row's
     * share is {@code E_p[z] - z_y}, within the row's loss), so where the loss is finite so is the value.
     */
    @Test
    void extremeLogitsKeepAFiniteValueAndTheLibrarysGradient() {
        LogitLoss library = (LogitLoss) LossRegistry.create("softmax_cross_entropy");
        float[] z = {1.6e38f, -1.6e38f, 0, 1.6e38f, -1.6e38f, 0};   // a loss of 3.2e38 per row
        int[] labels = {1, 1};
        LossResult expected = library.compute(LogitBatch.of(z.clone(), 2, 3, labels));
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits = m.create(z.clone(), new Shape(2, 3));
            logits.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray v = new LogitLossAdapter(library).evaluate(new NDList(m.create(labels)), new NDList(logits));
                assertEquals((float) expected.loss(), v.getFloat());
                gc.backward(v);
            }
            assertArrayEquals(expected.gradLogits(), logits.getGradient().toFloatArray());
        }
    }

    /**
     * Float16 only: DJL 0.36's PyTorch JNI aborts the JVM ({@code terminate called without an active
     * exception}) when it makes any bfloat16 tensor on the CPU, by {@code toType} or {@code create}.
     */
    @Test
    void halfPrecisionLogitsAreComputedInFloat32() {
        LogitLossAdapter adapter = LogitLossAdapter.of("softmax_cross_entropy");
        for (DataType type : new DataType[] {DataType.FLOAT16}) {
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray half = m.randomNormal(new Shape(4, 6)).toType(type, false);
                NDArray single = half.toType(DataType.FLOAT32, false);
                NDArray labels = m.create(new int[] {0, 5, 2, 3});
                half.setRequiresGradient(true);
                single.setRequiresGradient(true);
                float value;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray v = adapter.evaluate(new NDList(labels), new NDList(half));
                    assertEquals(DataType.FLOAT32, v.getDataType());
                    value = v.getFloat();
                    gc.backward(v);
                }
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray v = adapter.evaluate(new NDList(labels), new NDList(single));
                    assertEquals(v.getFloat(), value, "the half-precision logits' value is their float32 value's");
                    gc.backward(v);
                }
                assertEquals(type, half.getGradient().getDataType());
                assertArrayEquals(single.getGradient().toType(type, false).toFloatArray(), half.getGradient().toFloatArray());
            }
        }
    }

    private static float[] values(LogitLossAdapter adapter, NDManager parent, long seed, int rows, int cols) {
        try (NDManager m = parent.newSubManager()) {
            java.util.Random random = new java.util.Random(seed);
            float[] z = new float[rows * cols];
            int[] y = new int[rows];
            for (int i = 0; i < z.length; i++) {
                z[i] = (float) random.nextGaussian() * 3;
            }
            for (int i = 0; i < rows; i++) {
                y[i] = random.nextInt(cols);
            }
            NDArray logits = m.create(z, new Shape(rows, cols));
            return adapter.evaluate(new NDList(m.create(y)), new NDList(logits)).toFloatArray();
        }
    }
}
