package dev.softmaxlosses.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.loss.Loss;
import dev.softmaxlosses.djl.LogitLossAdapter;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The loss part of a DJL training step on PyTorch's CPU engine: evaluate the loss on {@code N x C} logits
 * that require a gradient, then {@code GradientCollector.backward}, per call. As in a training batch, the
 * call's arrays (the logits, copied from a fixed source as a model's forward would write them, the labels,
 * and everything the loss and the backward make) live on a sub-manager of the call, closed at its end.
 * {@code loss}: {@code djl}, DJL's built-in {@code Loss.softmaxCrossEntropyLoss()} (log-softmax, pick,
 * mean, under PyTorch's autograd); {@code adapter}, {@code LogitLossAdapter.of("softmax_cross_entropy")}
 * (the library's fused kernels on the host, the gradient through {@code GradientBridge}); {@code none},
 * the call's own part that both include (the sub-manager, the logits' copy, the labels, closing).
 *
 * <p>One thread everywhere: PyTorch's intra- and inter-op pools at 1 thread
 * ({@code ai.djl.pytorch.num_threads}, {@code num_interop_threads}), the library's row parallelism off.
 * The allocator is the process's: glibc's malloc as shipped, or jemalloc with {@code LD_PRELOAD}
 * ({@code bench/run djl-jemalloc}), which JMH's forks inherit. Before measuring, each fork checks that
 * the two losses agree on this batch (value and gradient).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Dsoftmaxlosses.parallel=false", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1",
        "-Dai.djl.pytorch.num_interop_threads=1", "-Xmx4g"})
public class DjlLossBench {

    @Param({"1024x1000", "256x32768"})
    public String shape;

    @Param({"djl", "adapter", "none"})
    public String loss;

    private NDManager base;
    private NDArray source;
    private long[] labels;
    private Shape logitShape;
    private Loss djlLoss;
    private Engine engine;

    @Setup(Level.Trial)
    public void setUp() {
        Shapes.Batch b = Shapes.batch(shape, 42);
        engine = Engine.getEngine("PyTorch");
        base = engine.newBaseManager();
        logitShape = new Shape(b.rows(), b.cols());
        source = base.create(b.logits(), logitShape);
        labels = new long[b.rows()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = b.labels()[i];
        }
        djlLoss = switch (loss) {
            case "djl" -> Loss.softmaxCrossEntropyLoss();
            case "adapter", "none" -> LogitLossAdapter.of("softmax_cross_entropy");
            default -> throw new IllegalArgumentException("loss " + loss);
        };
        checkAgreement();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        base.close();
    }

    @Benchmark
    public float forwardBackward() {
        try (NDManager batch = base.newSubManager()) {
            NDArray z = source.duplicate(); // PyTorch's clone: a new tensor, as a forward writes
            z.attach(batch);
            z.setRequiresGradient(true);
            NDArray y = batch.create(labels);
            if (loss.equals("none")) {
                return labels.length;
            }
            try (GradientCollector gc = engine.newGradientCollector()) {
                NDArray value = djlLoss.evaluate(new NDList(y), new NDList(z));
                gc.backward(value);
                return value.getFloat();
            }
        }
    }

    /** The built-in loss and the adapter on this batch: the same value and gradient, else the fork stops. */
    private void checkAgreement() {
        float[][] value = new float[2][];
        float[][] grad = new float[2][];
        Loss[] both = {Loss.softmaxCrossEntropyLoss(), LogitLossAdapter.of("softmax_cross_entropy")};
        for (int k = 0; k < 2; k++) {
            try (NDManager batch = base.newSubManager()) {
                NDArray z = source.duplicate();
                z.attach(batch);
                z.setRequiresGradient(true);
                try (GradientCollector gc = engine.newGradientCollector()) {
                    NDArray v = both[k].evaluate(new NDList(batch.create(labels)), new NDList(z));
                    gc.backward(v);
                    value[k] = v.toFloatArray();
                }
                NDArray g = z.getGradient();
                grad[k] = g.toFloatArray();
                g.close();
            }
        }
        double maxDiff = 0;
        for (int i = 0; i < grad[0].length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(grad[0][i] - grad[1][i]));
        }
        double valueDiff = Math.abs(value[0][0] - value[1][0]);
        if (valueDiff > 1e-4 * Math.abs(value[0][0]) || maxDiff > 1e-6) {
            throw new IllegalStateException("DJL's loss and the adapter disagree at " + shape + ": values " + value[0][0]
                    + " and " + value[1][0] + ", largest gradient difference " + maxDiff);
        }
    }
}
