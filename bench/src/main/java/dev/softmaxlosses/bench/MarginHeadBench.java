package dev.softmaxlosses.bench;

import dev.softmaxlosses.spec.LossRegistry;
import dev.ludovic.netlib.blas.BLAS;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.StreamingMarginHead;

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
 * A margin head, forward and backward to the features and the class weights, per call of one batch:
 * {@code N x D} features against {@code C x D} weights. {@code mode}: the materialised path
 * ({@link MarginLoss#compute}) or the streaming head ({@link StreamingMarginHead}). {@link #blasOnly}
 * does the same three products and nothing else: the rate the head is held to. GFLOP/s count
 * {@code 3 * 2 N D C} floating-point operations per call.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:MaxInlineLevel=30", "--enable-native-access=ALL-UNNAMED",
        "-Dsoftmaxlosses.parallel=false", "-Xmx6g"})
public class MarginHeadBench {

    @Param({"256x512x8192", "256x512x65536"})
    public String shape;

    @Param({"arcface", "cosface", "sphereface"})
    public String loss;

    @Param({"materialized", "streaming"})
    public String mode;

    private FeatureBatch input;
    private LossResult result;
    private MarginLoss head;
    private StreamingMarginHead streaming;
    private float[] features;
    private float[] weights;
    private float[] cos;
    private float[] gradFeatures;
    private float[] gradWeights;
    private int n;
    private int d;
    private int c;

    @Setup(Level.Trial)
    public void setUp() {
        int[] dims = Shapes.parse(shape);
        n = dims[0];
        d = dims[1];
        c = dims[2];
        features = Shapes.logits(n, d, 1);
        weights = Shapes.logits(c, d, 2);
        int[] labels = Shapes.labels(n, c, 3);
        input = FeatureBatch.of(new FloatMatrix(features, n, d), new FloatMatrix(weights, c, d), labels);
        head = (MarginLoss) LossRegistry.create(loss);
        streaming = new StreamingMarginHead(head);
        result = mode.equals("streaming") ? LossResult.forStreaming(n, c, d) : LossResult.forFeatures(n, c, d);
        cos = new float[n * c];
        gradFeatures = new float[n * d];
        gradWeights = new float[c * d];
    }

    @Benchmark
    public LossResult forwardBackward() {
        if (mode.equals("streaming")) {
            streaming.compute(input, result);
        } else {
            head.compute(input, result);
        }
        return result;
    }

    /** The three products of a forward and backward, by the BLAS alone (row-major, as the head does them). */
    @Benchmark
    public float[] blasOnly() {
        BLAS blas = BLAS.getInstance();
        blas.sgemm("T", "N", c, n, d, 1f, weights, d, features, d, 0f, cos, c);
        blas.sgemm("N", "N", d, n, c, 1f, weights, d, cos, c, 0f, gradFeatures, d);
        blas.sgemm("N", "T", d, c, n, 1f, features, d, cos, c, 0f, gradWeights, d);
        return gradWeights;
    }
}
