package dev.softmaxlosses.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LogitBatch;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.djl.LogitLossAdapter;
import dev.softmaxlosses.logits.SoftmaxCrossEntropyLoss;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Where the time of {@link DjlLossBench}'s step goes, by {@code System.nanoTime} splits: the adapter's
 * evaluate and backward taken apart into the steps {@code LogitLossAdapter} and {@code GradientBridge}
 * take (the same calls, written out here: reading the logits into the host {@code float[]}, the labels,
 * the library's kernel, writing the gradient into a new tensor, the loss value, the bridge's dot
 * product and {@code stopGradient}, PyTorch's backward, closing the batch), then DJL's built-in loss
 * taken apart the same way (log-softmax, pick and mean, backward). Each step's mean (as JMH's average time) and
 * median over the measured steps, in ms and ns per logit, next to the whole step timed through the real adapter and the real
 * built-in loss.
 *
 * <pre>{@code java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Dai.djl.offline=true
 *   -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1 -Dsoftmaxlosses.parallel=false
 *   -cp 'bench/target/benchmarks.jar:bench/target/lib/*' dev.softmaxlosses.bench.DjlLossProfile [NxC [STEPS [RUNS]]]}</pre>
 * ({@code bench/run djl-profile [NxC [STEPS [RUNS]]]}; {@code DJL_MALLOC=jemalloc} for jemalloc). {@code RUNS}: which
 * of {@code parts,adapter,builtin} to run (all, in turn each step); one alone leaves the allocator in the state of a
 * JMH fork of that loss, which for glibc's malloc decides whether the step's tensors come back as fresh pages.
 */
public final class DjlLossProfile {

    private DjlLossProfile() {}

    private static final class Splits {
        final Map<String, long[]> times = new LinkedHashMap<>();
        final int steps;
        int step;
        long last;

        Splits(int steps) {
            this.steps = steps;
        }

        void start() {
            last = System.nanoTime();
        }

        void mark(String name) {
            long now = System.nanoTime();
            times.computeIfAbsent(name, k -> new long[steps])[step] += now - last;
            last = now;
        }

        void print(String title, int warm, double logits) {
            System.out.printf(Locale.ROOT, "%n%s (%d steps after %d)%n%-44s %10s %10s %10s %10s%n", title, steps - warm, warm,
                    "part", "mean ms", "ns/logit", "median ms", "ns/logit");
            double total = 0;
            double totalMedian = 0;
            for (Map.Entry<String, long[]> e : times.entrySet()) {
                long[] t = Arrays.copyOfRange(e.getValue(), warm, steps);
                Arrays.sort(t);
                double median = t[t.length / 2] / 1e6;
                double mean = Arrays.stream(t).average().orElse(Double.NaN) / 1e6;
                if (!e.getKey().startsWith("=")) {
                    total += mean;
                    totalMedian += median;
                }
                System.out.printf(Locale.ROOT, "%-44s %10.3f %10.3f %10.3f %10.3f%n", e.getKey(), mean, mean * 1e6 / logits,
                        median, median * 1e6 / logits);
            }
            System.out.printf(Locale.ROOT, "%-44s %10.3f %10.3f %10.3f %10.3f%n", "sum of the parts", total, total * 1e6 / logits,
                    totalMedian, totalMedian * 1e6 / logits);
        }
    }

    /**
     * Runs the profile on a thread of its own, as JMH runs a benchmark (with glibc's malloc a thread other
     * than the main one allocates from an arena of its own, which returns freed memory differently), or on
     * the main thread with {@code -Dprofile.mainThread=true}.
     */
    public static void main(String[] args) throws InterruptedException {
        if (Boolean.getBoolean("profile.mainThread")) {
            profile(args);
            return;
        }
        Thread worker = new Thread(() -> profile(args), "profile-worker");
        worker.start();
        worker.join();
    }

    /** A copy of {@code source} on {@code manager} that records gradients: a batch's logits, as a network hands them over. */
    private static NDArray trainableCopy(NDArray source, NDManager manager) {
        NDArray copy = source.duplicate();
        copy.attach(manager);
        copy.setRequiresGradient(true);
        return copy;
    }

    private static void profile(String[] args) {
        int[] dims = Shapes.parse(args.length > 0 ? args[0] : "256x32768");
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        int warm = steps / 3;
        java.util.Set<String> runs = java.util.Set.of((args.length > 2 ? args[2] : "parts,adapter,builtin").split(","));
        int n = dims[0];
        int c = dims[1];
        Shape shape = new Shape(n, c);
        double logits = (double) n * c;
        Engine engine = Engine.getEngine("PyTorch");
        System.out.println("PyTorch " + engine.getVersion() + ", LD_PRELOAD=" + System.getenv().getOrDefault("LD_PRELOAD", "")
                + ", shape " + n + "x" + c);
        try (NDManager base = engine.newBaseManager()) {
            Shapes.Batch b = Shapes.batch(n + "x" + c, 42);
            NDArray source = base.create(b.logits(), shape);
            long[] labels = Arrays.stream(b.labels()).asLongStream().toArray();
            SoftmaxCrossEntropyLoss kernel = SoftmaxCrossEntropyLoss.create();
            float[] host = new float[n * c];
            LossResult result = LossResult.forLogits(n, c);
            LogitLossAdapter adapter = LogitLossAdapter.of("softmax_cross_entropy");
            ai.djl.training.loss.Loss builtin = ai.djl.training.loss.Loss.softmaxCrossEntropyLoss();

            Splits parts = new Splits(steps);
            Splits whole = new Splits(steps);
            Splits djl = new Splits(steps);
            for (int s = 0; s < steps; s++) {
                parts.step = whole.step = djl.step = s;
                // The adapter's step written out.
                if (runs.contains("parts")) {
                parts.start();
                NDManager batch = base.newSubManager();
                NDArray z = trainableCopy(source, batch);
                NDArray y = batch.create(labels);
                parts.mark("batch: sub-manager, logits' clone, labels");
                try (GradientCollector gc = engine.newGradientCollector()) {
                    parts.start();
                    NDManager scope = batch.newSubManager();
                    z.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer().get(0, host, 0, n * c);
                    parts.mark("read: logits -> float[] (direct view, copy)");
                    long[] l = y.toLongArray();
                    int[] hard = new int[n];
                    for (int i = 0; i < n; i++) {
                        hard[i] = (int) l[i];
                    }
                    parts.mark("labels -> int[]");
                    kernel.compute(new LogitBatch(new FloatMatrix(host, n, c), new LogitBatch.Labels(hard), null), result);
                    parts.mark("kernel: fused CE forward+backward on float[]");
                    NDArray grad = batch.create(shape, DataType.FLOAT32);
                    parts.mark("write: new uninitialised gradient tensor");
                    grad.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer().put(0, result.gradLogits(), 0, n * c);
                    parts.mark("write: float[] -> tensor (copy)");
                    scope.close();
                    NDArray value = batch.create(new float[] {(float) result.loss()}, new Shape());
                    parts.mark("loss value tensor, scope closed");
                    NDArray flat = z.reshape(-1);
                    flat.attach(batch);
                    NDArray dot = grad.reshape(-1).dot(flat);
                    parts.mark("bridge: dot(grad, logits), recorded");
                    NDArray loss = value.add(dot.sub(dot.stopGradient()));
                    parts.mark("bridge: value + (s - stopGradient(s))");
                    gc.backward(loss);
                    parts.mark("backward (PyTorch: grad of dot = g, into z.grad)");
                }
                batch.close();
                parts.mark("close the batch (frees every tensor)");
                }

                // The real adapter, whole.
                if (runs.contains("adapter")) {
                whole.start();
                try (NDManager bm = base.newSubManager()) {
                    NDArray zz = trainableCopy(source, bm);
                    NDArray yy = bm.create(labels);
                    whole.mark("batch: sub-manager, logits' clone, labels");
                    try (GradientCollector gc = engine.newGradientCollector()) {
                        NDArray v = adapter.evaluate(new NDList(yy), new NDList(zz));
                        whole.mark("LogitLossAdapter.evaluate");
                        gc.backward(v);
                        whole.mark("backward");
                    }
                }
                whole.mark("close the batch");
                }

                // DJL's built-in loss, taken apart, then whole.
                if (runs.contains("builtin")) {
                djl.start();
                try (NDManager bm = base.newSubManager()) {
                    NDArray zz = trainableCopy(source, bm);
                    NDArray yy = bm.create(labels);
                    djl.mark("batch: sub-manager, logits' clone, labels");
                    try (GradientCollector gc = engine.newGradientCollector()) {
                        NDArray logp = zz.logSoftmax(-1);
                        djl.mark("built-in: logSoftmax");
                        NDArray v = logp.get(new NDIndex().addAllDim().addPickDim(yy)).neg().mean();
                        djl.mark("built-in: pick, neg, mean");
                        gc.backward(v);
                        djl.mark("built-in: backward");
                    }
                }
                djl.mark("close the batch");
                djl.start();
                try (NDManager bm = base.newSubManager()) {
                    NDArray zz = trainableCopy(source, bm);
                    try (GradientCollector gc = engine.newGradientCollector()) {
                        gc.backward(builtin.evaluate(new NDList(bm.create(labels)), new NDList(zz)));
                    }
                }
                djl.mark("= built-in, whole step (sum of the above)");
                }
            }
            if (runs.contains("parts")) {
                parts.print("adapter's step, taken apart", warm, logits);
            }
            if (runs.contains("adapter")) {
                whole.print("adapter's step through LogitLossAdapter", warm, logits);
            }
            if (runs.contains("builtin")) {
                djl.print("DJL's built-in Loss.softmaxCrossEntropyLoss()", warm, logits);
            }
        }
    }
}
