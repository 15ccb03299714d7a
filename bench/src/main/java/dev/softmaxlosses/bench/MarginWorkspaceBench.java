package dev.softmaxlosses.bench;

import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.StreamingMarginHead;
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
 * A margin head's call, forward and backward, with the caller's result reused from call to call (run
 * with {@code -prof gc}: the head's own scratch is kept in the result). {@code mode}: the materialised
 * path ({@link MarginLoss#compute}); the streaming head keeping each block's products for its backward
 * ({@code streaming}, the default budget); the streaming head computing them again
 * ({@code streamingRecomputed}, a budget of 0 bytes: the least memory, a fourth matrix product).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:MaxInlineLevel=30", "--enable-native-access=ALL-UNNAMED",
        "-Dsoftmaxlosses.parallel=false", "-Xmx6g"})
public class MarginWorkspaceBench {

    @Param({"256x512x8192"})
    public String shape;

    @Param({"arcface"})
    public String loss;

    @Param({"materialized", "streaming", "streamingRecomputed"})
    public String mode;

    private FeatureBatch input;
    private LossResult result;
    private MarginLoss head;
    private StreamingMarginHead streaming;

    @Setup(Level.Trial)
    public void setUp() {
        int[] dims = Shapes.parse(shape);
        int n = dims[0];
        int d = dims[1];
        int c = dims[2];
        input = FeatureBatch.of(new FloatMatrix(Shapes.logits(n, d, 1), n, d), new FloatMatrix(Shapes.logits(c, d, 2), c, d),
                Shapes.labels(n, c, 3));
        head = (MarginLoss) LossRegistry.create(loss);
        long kept = mode.equals("streamingRecomputed") ? 0 : StreamingMarginHead.DEFAULT_KEPT_PRODUCT_BYTES;
        streaming = new StreamingMarginHead(head, StreamingMarginHead.DEFAULT_BLOCK, MatrixProducts.netlib(), kept);
        result = mode.equals("materialized") ? LossResult.forFeatures(n, c, d) : LossResult.forStreaming(n, c, d);
    }

    @Benchmark
    public LossResult forwardBackward() {
        if (mode.equals("materialized")) {
            head.compute(input, result);
        } else {
            streaming.compute(input, result);
        }
        return result;
    }
}
