package dev.softmaxlosses.bench;

import dev.softmaxlosses.Vectorization;
import dev.softmaxlosses.logits.FocalLoss;
import dev.softmaxlosses.logits.LseHingeLoss;
import dev.softmaxlosses.logits.MaxHingeLoss;
import dev.softmaxlosses.logits.MulticlassHingeLoss;
import dev.softmaxlosses.logits.SoftmaxCrossEntropyLoss;
import dev.softmaxlosses.logits.SoftplusLseLoss;
import dev.softmaxlosses.spec.LossRegistry;

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
 * The other logit losses' hot paths on the SIMD kernels, next to the cross-entropy they are held to
 * (goal: within 1.3x of it). {@code softmax_cross_entropy:label_smoothing=0.1} shows the cost of the
 * smoothing term. The forks run with the JVM's default flags (no {@code -XX:MaxInlineLevel}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 8, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Dsoftmaxlosses.parallel=false", "-Xmx4g"})
public class LogitLossBench {

    @Param({"1024x1000", "256x32768"})
    public String shape;

    @Param({"softmax_cross_entropy", "softmax_cross_entropy:label_smoothing=0.1", "focal", "multiclass_hinge",
            "max_hinge", "lse_hinge", "softplus_lse"})
    public String loss;

    private Shapes.Batch batch;
    private HotPath hotPath;

    /** The allocation-free entry point every hard-label logit loss has. */
    @FunctionalInterface
    interface HotPath {
        double forwardBackward(float[] logits, int[] labels, int rows, int cols, float[] grad);
    }

    @Setup(Level.Trial)
    public void setUp() {
        System.setProperty(Vectorization.PROPERTY, "simd");
        batch = Shapes.batch(shape, 42 + Thread.currentThread().threadId());
        Object created = LossRegistry.create(loss);
        hotPath = switch (created) {
            case SoftmaxCrossEntropyLoss l -> l::forwardBackward;
            case FocalLoss l -> l::forwardBackward;
            case MulticlassHingeLoss l -> l::forwardBackward;
            case MaxHingeLoss l -> l::forwardBackward;
            case LseHingeLoss l -> l::forwardBackward;
            case SoftplusLseLoss l -> l::forwardBackward;
            default -> throw new IllegalArgumentException(loss + " has no logit hot path");
        };
    }

    @Benchmark
    public double forwardBackward() {
        return hotPath.forwardBackward(batch.logits(), batch.labels(), batch.rows(), batch.cols(), batch.grad());
    }

}
