package dev.softmaxlosses.bench;

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
 * The memory bound, measured in the same run: copying a batch's logits into its gradient buffer
 * reads 4 bytes and writes 4 bytes per logit, exactly the traffic a perfectly fused forward and
 * backward needs. A kernel's time over this one's is its multiple of the bound.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class CopyBandwidthBench {

    @Param({"4096x10", "1024x1000", "256x32768", "64x262144"})
    public String shape;

    private float[] source;
    private float[] target;

    @Setup(Level.Trial)
    public void setUp() {
        int[] dims = Shapes.parse(shape);
        source = Shapes.logits(dims[0], dims[1], 3 + Thread.currentThread().threadId());
        target = new float[source.length];
    }

    @Benchmark
    public float[] copy() {
        System.arraycopy(source, 0, target, 0, source.length);
        return target;
    }
}
