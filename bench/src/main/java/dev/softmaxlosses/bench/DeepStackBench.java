package dev.softmaxlosses.bench;

import dev.softmaxlosses.Vectorization;
import dev.softmaxlosses.logits.SoftmaxCrossEntropyLoss;

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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fused softmax cross-entropy on the SIMD kernels called directly ({@code depth=0}) or through
 * {@link DeepStack}'s twenty nested frames ({@code depth=20}), with the JVM's default flags (no
 * {@code -XX:MaxInlineLevel}). {@link DeepStackFlaggedBench} runs the same with
 * {@code -XX:MaxInlineLevel=30}: the goal of issue 13 is depth 20 without the flag within 1.1x of the
 * flagged figure.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 8, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Dsoftmaxlosses.parallel=false", "-Xmx4g"})
public class DeepStackBench {

    @Param({"4096x10", "1024x1000", "256x32768", "64x262144"})
    public String shape;

    @Param({"0", "20"})
    public int depth;

    private Shapes.Batch batch;
    private SoftmaxCrossEntropyLoss loss;

    @Setup(Level.Trial)
    public void setUp() {
        if (depth != 0 && depth != DeepStack.DEPTH) {
            throw new IllegalArgumentException("depth is 0 or " + DeepStack.DEPTH + ", not " + depth);
        }
        System.setProperty(Vectorization.PROPERTY, "simd");
        batch = Shapes.batch(shape, 42 + Thread.currentThread().threadId());
        loss = SoftmaxCrossEntropyLoss.create();
        Vectorization.kernels();
    }

    @Benchmark
    public double forwardBackward() {
        return depth == 0
                ? loss.forwardBackward(batch.logits(), batch.labels(), batch.rows(), batch.cols(), batch.grad())
                : DeepStack.call(loss, batch.logits(), batch.labels(), batch.rows(), batch.cols(), batch.grad());
    }
}
