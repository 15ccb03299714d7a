package dev.softmaxlosses.lab.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.softmaxlosses.lab.train.TrainedModel;

import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * Starts DJL's PyTorch engine the way the lab needs it, and collects gradients per thread.
 *
 * <p><b>Offline, one thread per operation.</b> DJL must take PyTorch's native library from the jar on
 * the class path, never download it ({@code ai.djl.offline=true}), and every operation runs on the
 * thread that calls it ({@code ai.djl.pytorch.num_threads=1}, one inter-op thread): a run is
 * single-threaded, as the lab's own trainer, so its numbers do not depend on how many go at once. Both
 * are set here unless the JVM was given them ({@code SOFTMAX_LAB_JAVA_OPTS}).
 *
 * <p><b>Gradients per thread.</b> DJL's {@code PtGradientCollector} allows one collector in the whole
 * JVM at a time (a static flag), which would serialise the runs that the lab trains at once. PyTorch
 * itself keeps its gradient mode per thread and differentiates independent graphs concurrently, so the
 * lab's {@link #collector()} switches the mode of the calling thread only and calls PyTorch's backward
 * itself, through DJL's JNI bindings of this version (0.36). A run's thread otherwise keeps the
 * mode off ({@link #startRunThread}), so that the optimiser updates the parameters in place.
 */
final class DjlRuntime {

    private static volatile Engine engine;

    private DjlRuntime() {}

    /**
     * The PyTorch engine, started on first use; its random seed set to {@code seed} (nothing the lab
     * does draws from it: the initial weights and the batch order come from the lab's own seeded
     * sources, so that they do not depend on the order in which concurrent runs start).
     *
     * @throws IllegalStateException when the engine cannot start, with PyTorch's reason
     */
    static synchronized Engine start(long seed) {
        if (engine == null) {
            setIfAbsent("ai.djl.offline", "true");
            setIfAbsent("ai.djl.pytorch.num_threads", "1");
            setIfAbsent("ai.djl.pytorch.num_interop_threads", "1");
            try {
                engine = Engine.getEngine("PyTorch");
            } catch (RuntimeException | LinkageError e) {
                throw new IllegalStateException("DJL's PyTorch engine did not start: " + e.getMessage(), e);
            }
        }
        engine.setRandomSeed((int) seed);
        return engine;
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** Gradient mode off on the calling thread, which trains a run: PyTorch's default for a new thread is on. */
    static void startRunThread() {
        JniUtils.setGradMode(false);
    }

    /** Records the calling thread's operations for one backward pass, then restores its gradient mode. */
    static GradientCollector collector() {
        boolean before = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        return new GradientCollector() {
            @Override
            public void backward(NDArray target) {
                try (NDArray ones = target.onesLike()) {
                    JniUtils.backward((PtNDArray) target, (PtNDArray) ones, false, false);
                }
            }

            @Override
            public void zeroGradients() {
                throw new UnsupportedOperationException("the lab's optimiser zeroes each gradient it applies");
            }

            @Override
            public void close() {
                JniUtils.setGradMode(before);
            }
        };
    }

    /**
     * The embeddings by {@code block} of the {@code n} rows of {@code dim} values in {@code rows}, in
     * inference mode, {@link TrainedModel#CHUNK} rows at a time (each chunk's
     * arrays on a sub-manager of {@code manager}, closed after it), as one array of {@code n x d}, {@code d}
     * the width the block gives; {@code shape} turns a count of rows into the block's input shape. Both a
     * trained DJL model and a saved one embed through here, so they give the same numbers bit for bit.
     */
    static float[] embed(Block block, NDManager manager, float[] rows, int n, int dim, IntFunction<Shape> shape) {
        return withoutGradients(() -> {
            float[] out = new float[0];
            int d = 0;
            for (int start = 0; start < n; start += TrainedModel.CHUNK) {
                int m = Math.min(TrainedModel.CHUNK, n - start);
                try (NDManager scope = manager.newSubManager()) {
                    float[] x = Arrays.copyOfRange(rows, start * dim, (start + m) * dim);
                    float[] e = inferRows(block, scope, x, m, shape);
                    if (start == 0) {
                        d = e.length / m;
                        out = new float[Math.multiplyExact(n, d)];
                    }
                    System.arraycopy(e, 0, out, start * d, Math.min(e.length, m * d));
                }
            }
            return out;
        });
    }

    /**
     * The inference output of {@code block} for the {@code n} rows of {@code x}, shaped by {@code shape}
     * (rows to the input's shape), as one float array. A single row goes through as two equal rows and
     * the first output is kept (rows are independent in inference): PyTorch's convolution hands a batch of
     * one small image to NNPACK, whose failed start on CPUs it does not support prints a warning per
     * layer on stderr, where two rows take oneDNN's path.
     */
    private static float[] inferRows(Block block, NDManager scope, float[] x, int n, IntFunction<Shape> shape) {
        int rows = n == 1 ? 2 : n;
        float[] input = n == 1 ? Arrays.copyOf(x, 2 * x.length) : x;
        if (n == 1) {
            System.arraycopy(x, 0, input, x.length, x.length);
        }
        float[] out = block.forward(new ParameterStore(scope, false), new NDList(scope.create(input, shape.apply(rows))),
                false).head().toFloatArray();
        return n == 1 ? Arrays.copyOf(out, out.length / 2) : out;
    }

    /** Runs {@code action} with the calling thread's gradient mode off (inference), then restores it. */
    static <T> T withoutGradients(java.util.function.Supplier<T> action) {
        boolean before = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            return action.get();
        } finally {
            JniUtils.setGradMode(before);
        }
    }
}
