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
 * The fused softmax cross-entropy, forward and backward (mean loss and the full gradient) of a whole
 * batch per call. {@code impl}: the library on its SIMD kernels, on its scalar kernels, the plain
 * three-pass Vector API loop a user would write ({@link PlainVectorLoop}, the peer baseline), or the
 * naive baseline. The forks run with the JVM's default flags (no {@code -XX:MaxInlineLevel}): the
 * speed users meet. Each JMH thread ({@code -t}) runs its own batch; the library's own row
 * parallelism is off so that the thread count is JMH's. Each parameter set runs in its own fork, which is what lets
 * {@code @Setup} choose the kernels before the provider first runs. The warm-up is 8 seconds: on 2
 * cores the JIT takes about 5 to settle on its final code for the Vector API kernels (measured per
 * iteration, the exponential pass over 1024x1000 took 50, 1.2, 0.9, 3.2 and then 0.41 ms), and a shorter warm-up
 * measures part of that.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 8, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Dsoftmaxlosses.parallel=false", "-Xmx4g"})
public class SoftmaxCrossEntropyBench {

    @Param({"4096x10", "1024x1000", "256x32768", "64x262144"})
    public String shape;

    @Param({"simd", "scalar", "plainloop", "naive"})
    public String impl;

    private Shapes.Batch batch;
    private SoftmaxCrossEntropyLoss loss;

    @Setup(Level.Trial)
    public void setUp() {
        System.setProperty(Vectorization.PROPERTY, impl.equals("simd") ? "simd" : "scalar");
        batch = Shapes.batch(shape, 42 + Thread.currentThread().threadId());
        loss = SoftmaxCrossEntropyLoss.create();
        if ((impl.equals("simd") || impl.equals("scalar")) && !Vectorization.kernels().startsWith(impl)) {
            throw new IllegalStateException("asked for " + impl + " kernels, got " + Vectorization.kernels());
        }
    }

    @Benchmark
    public double forwardBackward() {
        Shapes.Batch b = batch;
        return switch (impl) {
            case "naive" -> NaiveSoftmaxCrossEntropy.forwardBackward(b.logits(), b.labels(), b.rows(), b.cols(), b.grad());
            case "plainloop" -> PlainVectorLoop.forwardBackward(b.logits(), b.labels(), b.rows(), b.cols(), b.grad());
            default -> loss.forwardBackward(b.logits(), b.labels(), b.rows(), b.cols(), b.grad());
        };
    }
}
