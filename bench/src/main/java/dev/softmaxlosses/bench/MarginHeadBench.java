package dev.softmaxlosses.bench;

import dev.softmaxlosses.spec.LossRegistry;
import dev.ludovic.netlib.blas.BLAS;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.linalg.MatrixProducts;
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
 * ({@link MarginLoss#compute}) or the streaming head ({@link StreamingMarginHead}), both on the default
 * products ({@link MatrixProducts#standard()}), with the result reused from call to call (run with
 * {@code -prof gc}: a call allocates nothing of its own); {@code -p mode=streamingRecomputed} runs the
 * streaming head computing each block's products again in its backward instead of keeping them. The products alone, side by side, once per shape: the
 * same three products ({@code cos = F W^T}, {@code G W}, {@code G^T F}) by netlib's default BLAS called
 * directly ({@link #blasOnly}, the baseline), through {@link MatrixProducts#netlib()} (in the slices the
 * heads gave it before, {@link #productsNetlib}) and through {@link MatrixProducts#standard()}
 * ({@link #productsStandard}: the Vector API SGEMM when no native BLAS is found). GFLOP/s count
 * {@code 3 * 2 N D C} floating-point operations per call ({@code bench/run} prints them).
 *
 * <p>The forks run with the default JIT flags (no {@code -XX:MaxInlineLevel}): the products must be fast
 * without them. A native BLAS for comparison: {@code -jvmArgsAppend
 * -Ddev.ludovic.netlib.blas.nativeLibPath=/path/to/libopenblas.so} with {@code OPENBLAS_NUM_THREADS=1}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Dsoftmaxlosses.parallel=false", "-Xmx6g"})
public class MarginHeadBench {

    /** The operands and outputs of the three products of one shape. */
    @State(Scope.Thread)
    public static class Operands {
        @Param({"256x512x8192", "256x512x65536"})
        public String shape;

        float[] features;
        float[] weights;
        float[] cos;
        float[] gradFeatures;
        float[] gradWeights;
        int n;
        int d;
        int c;

        @Setup(Level.Trial)
        public void setUp() {
            int[] dims = Shapes.parse(shape);
            n = dims[0];
            d = dims[1];
            c = dims[2];
            features = Shapes.logits(n, d, 1);
            weights = Shapes.logits(c, d, 2);
            cos = new float[n * c];
            gradFeatures = new float[n * d];
            gradWeights = new float[c * d];
        }

        /** The three products of a forward and backward through {@code products}, row-major, as the head does them. */
        float[] threeProducts(MatrixProducts products) {
            products.timesTransposed(features, n, d, weights, 0, c, cos);
            products.times(cos, n, c, weights, 0, d, gradFeatures, false);
            products.transposedTimes(cos, n, c, features, d, gradWeights);
            return gradWeights;
        }
    }

    /** A head over one shape's batch. */
    @State(Scope.Thread)
    public static class Head {
        @Param({"256x512x8192", "256x512x65536"})
        public String shape;

        @Param({"arcface", "cosface", "sphereface"})
        public String loss;

        @Param({"materialized", "streaming"})
        public String mode;

        FeatureBatch input;
        LossResult result;
        MarginLoss head;
        StreamingMarginHead streaming;

        @Setup(Level.Trial)
        public void setUp() {
            int[] dims = Shapes.parse(shape);
            int n = dims[0];
            int d = dims[1];
            int c = dims[2];
            input = FeatureBatch.of(new FloatMatrix(Shapes.logits(n, d, 1), n, d), new FloatMatrix(Shapes.logits(c, d, 2), c, d),
                    Shapes.labels(n, c, 3));
            head = (MarginLoss) LossRegistry.create(loss);
            streaming = mode.equals("streamingRecomputed")
                    ? new StreamingMarginHead(head, StreamingMarginHead.DEFAULT_BLOCK, MatrixProducts.standard(), 0)
                    : new StreamingMarginHead(head);
            result = mode.equals("materialized") ? LossResult.forFeatures(n, c, d) : LossResult.forStreaming(n, c, d);
        }
    }

    @Benchmark
    public LossResult forwardBackward(Head h) {
        if (h.mode.startsWith("streaming")) {
            h.streaming.compute(h.input, h.result);
        } else {
            h.head.compute(h.input, h.result);
        }
        return h.result;
    }

    /** The three products by netlib's default BLAS alone, whole, row-major as the head does them. */
    @Benchmark
    public float[] blasOnly(Operands o) {
        BLAS blas = BLAS.getInstance();
        blas.sgemm("T", "N", o.c, o.n, o.d, 1f, o.weights, o.d, o.features, o.d, 0f, o.cos, o.c);
        blas.sgemm("N", "N", o.d, o.n, o.c, 1f, o.weights, o.d, o.cos, o.c, 0f, o.gradFeatures, o.d);
        blas.sgemm("N", "T", o.d, o.c, o.n, 1f, o.features, o.d, o.cos, o.c, 0f, o.gradWeights, o.d);
        return o.gradWeights;
    }

    /** The three products through {@link MatrixProducts#netlib()}: netlib's BLAS in slices of 4096 classes. */
    @Benchmark
    public float[] productsNetlib(Operands o) {
        return o.threeProducts(MatrixProducts.netlib());
    }

    /** The three products through {@link MatrixProducts#standard()}, the heads' default. */
    @Benchmark
    public float[] productsStandard(Operands o) {
        return o.threeProducts(MatrixProducts.standard());
    }
}
