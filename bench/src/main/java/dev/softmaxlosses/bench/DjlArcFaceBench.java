package dev.softmaxlosses.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.softmaxlosses.djl.MarginHead;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * An ArcFace head ({@code s = 64, m = 0.5}) forward and backward through DJL on PyTorch's CPU engine, one
 * training step's head per call: {@code N x D} features that require a gradient (copied from a fixed
 * source onto the call's sub-manager, as a backbone would write them) against {@code C x D} class weights
 * held as a parameter, the gradients landing in the features' and the weights' gradient arrays.
 * {@code impl}:
 * <ul>
 *   <li>{@code pytorch}: the formula in DJL's operations under PyTorch's autograd, as a DJL user writes it:
 *       normalise {@code x} and {@code W}, {@code cos = x W^T}, clip, {@code acos}, {@code + m} on the
 *       target through {@code oneHot}, {@code cos}, {@code * s}, log-softmax, pick the target, mean,
 *       backward;</li>
 *   <li>{@code head}: {@code MarginHead.of("arcface", C)} and {@code head.loss()} (evaluate and backward),
 *       whose forward also writes the {@code N x C} inference logits;</li>
 *   <li>{@code headStreaming}: the same head in streaming mode ({@code streaming(DEFAULT_BLOCK)}), no
 *       {@code N x C} array.</li>
 * </ul>
 * The threads and allocators are {@link DjlLossBench}'s. Each fork first checks at a small shape
 * ({@code 256 x 512 x 1024}) that its path gives PyTorch's loss and gradients.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Dsoftmaxlosses.parallel=false", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1",
        "-Dai.djl.pytorch.num_interop_threads=1", "-Xmx8g"})
public class DjlArcFaceBench {

    static final float S = 64;
    static final float M = 0.5f;
    static final String SPEC = "arcface:s=64,m=0.5";

    @Param({"256x512x8192", "256x512x65536"})
    public String shape;

    @Param({"pytorch", "head", "headStreaming"})
    public String impl;

    private Engine engine;
    private NDManager base;
    private Step step;

    @Setup(Level.Trial)
    public void setUp() {
        engine = Engine.getEngine("PyTorch");
        base = engine.newBaseManager();
        checkAgreement(engine, base, impl);
        step = new Step(engine, base, Shapes.parse(shape), impl);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        base.close();
    }

    @Benchmark
    public float forwardBackward() {
        return step.run(null);
    }

    /** One shape's features, labels and head, and one training step's head through {@code impl}. */
    static final class Step {
        final Engine engine;
        final NDManager base;
        final String impl;
        final int n;
        final int c;
        final Shape featureShape;
        final NDArray source;
        final long[] labels;
        final MarginHead head;
        final NDArray w;
        final ParameterStore store;

        Step(Engine engine, NDManager base, int[] dims, String impl) {
            this.engine = engine;
            this.base = base;
            this.impl = impl;
            n = dims[0];
            int d = dims[1];
            c = dims[2];
            featureShape = new Shape(n, d);
            source = base.create(Shapes.logits(n, d, 1), featureShape);
            int[] y = Shapes.labels(n, c, 3);
            labels = new long[n];
            for (int i = 0; i < n; i++) {
                labels[i] = y[i];
            }
            MarginHead h = MarginHead.of(SPEC, c);
            head = impl.equals("headStreaming") ? h.streaming(StreamingMarginHead.DEFAULT_BLOCK) : h;
            head.initialize(base, DataType.FLOAT32, featureShape);
            w = head.getParameters().get("weight").getArray();
            store = new ParameterStore(base, false);
        }

        /**
         * One step; with {@code out} non-null, also the loss, the features' gradient and the weights'
         * gradient of this step alone (the weights' gradient zeroed first).
         */
        float run(float[][] out) {
            if (out != null && w.hasGradient()) {
                NDArray g = w.getGradient();
                g.subi(g);
                g.close();
            }
            try (NDManager batch = base.newSubManager()) {
                NDArray x = source.duplicate(); // PyTorch's clone: a new tensor, as a forward writes
                x.attach(batch);
                x.setRequiresGradient(true);
                NDArray y = batch.create(labels);
                float value;
                try (GradientCollector gc = engine.newGradientCollector()) {
                    NDArray loss = impl.equals("pytorch") ? pytorch(batch, x, y) : ours(x, y);
                    gc.backward(loss);
                    value = loss.getFloat();
                }
                if (out != null) {
                    out[0] = new float[] {value};
                    NDArray gx = x.getGradient();
                    NDArray gw = w.getGradient();
                    out[1] = gx.toFloatArray();
                    out[2] = gw.toFloatArray();
                    gx.close();
                    gw.close();
                }
                return value;
            }
        }

        private NDArray ours(NDArray x, NDArray y) {
            NDList outputs = head.forward(store, new NDList(x), true);
            return head.loss().evaluate(new NDList(y), outputs);
        }

        /** ArcFace in DJL's operations; every array made lands on {@code batch}, none on the weights' manager. */
        private NDArray pytorch(NDManager batch, NDArray x, NDArray y) {
            NDArray xn = x.div(x.norm(new int[] {1}, true).maximum(1e-12f));
            NDArray wNorm = w.norm(new int[] {1}, true);
            wNorm.attach(batch);
            NDArray wn = w.div(wNorm.maximum(1e-12f));
            wn.attach(batch);
            NDArray cos = xn.matMul(wn.transpose()).clip(-1 + 1e-7f, 1 - 1e-7f);
            NDArray theta = cos.acos().add(y.oneHot(c).mul(M));
            NDArray logits = theta.cos().mul(S);
            NDArray logp = logits.logSoftmax(1);
            return logp.get(new NDIndex().addAllDim().addPickDim(y)).neg().mean();
        }
    }

    /**
     * Runs {@code impl} and the PyTorch formula on a small shape and throws unless the loss and both
     * gradients agree (the bound of the sine in the exact derivative aside, they are the same function).
     */
    static void checkAgreement(Engine engine, NDManager base, String impl) {
        int[] small = {256, 512, 1024};
        float[][] ours = new float[3][];
        float[][] reference = new float[3][];
        try (NDManager m = base.newSubManager()) {
            Step mine = new Step(engine, m, small, impl);
            mine.run(ours);
            Step theirs = new Step(engine, m, small, "pytorch");
            mine.w.copyTo(theirs.w);
            theirs.run(reference);
        }
        String[] names = {"loss", "feature gradient", "weight gradient"};
        for (int k = 0; k < 3; k++) {
            double scale = 0;
            double diff = 0;
            for (int i = 0; i < reference[k].length; i++) {
                scale = Math.max(scale, Math.abs(reference[k][i]));
                diff = Math.max(diff, Math.abs(reference[k][i] - ours[k][i]));
            }
            if (!(diff <= 1e-3 * scale)) {
                throw new IllegalStateException(impl + " and PyTorch's ArcFace disagree on the " + names[k]
                        + ": largest difference " + diff + " where the largest value is " + scale);
            }
        }
    }
}
