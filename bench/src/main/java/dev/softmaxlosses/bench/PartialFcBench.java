package dev.softmaxlosses.bench;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.scale.ShardedHead;
import dev.softmaxlosses.spec.LossRegistry;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
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
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * One training step of the Partial FC head ({@link ShardedHead}: ArcFace over {@code C} classes of
 * dimension {@code D} streamed in blocks of 4096, SGD with momentum) on a batch of {@code N}, per call,
 * in three modes side by side: {@code r1_shards1} (every class, one shard on one thread),
 * {@code r0.1_shards1} (class-centre sampling at rate 0.1) and {@code r1_shards2} (two shards on two
 * threads). The goals (issue 16): the sampled step at most 0.15x the full one, two shards at least
 * 1.7x as fast as one. {@link #main} prints the two ratios after JMH's table.
 *
 * <p>The default shape, {@code 256x512x20000}, is a smoke run; the shape of the goals is
 * {@code -p shape=256x512x1000000}:
 * <pre>
 *   bench/run partialfc -p shape=256x512x1000000
 * </pre>
 * Each mode runs in a JVM of its own with an 8 GB heap, within which the head must train.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Dsoftmaxlosses.parallel=false", "-Xmx8g"})
@State(Scope.Benchmark)
public class PartialFcBench {

    @Param({"256x512x20000"})
    public String shape;

    @Param({"r1_shards1", "r0.1_shards1", "r1_shards2"})
    public String mode;

    ShardedHead head;
    FloatMatrix features;
    int[] labels;
    float[] gradFeatures;

    @Setup(Level.Trial)
    public void setUp() {
        int[] dims = Shapes.parse(shape);
        int n = dims[0];
        int d = dims[1];
        int c = dims[2];
        double rate = Double.parseDouble(mode.substring(1, mode.indexOf('_')));
        int shards = Integer.parseInt(mode.substring(mode.indexOf("shards") + 6));
        MarginLoss loss = (MarginLoss) LossRegistry.create("arcface");
        head = ShardedHead.builder(loss, c, d).shards(shards).threads(shards).sgd(0.01, 0.9, 5e-4).sampling(rate, 1)
                .initialWeights(2, 0.01).build();
        features = new FloatMatrix(Shapes.logits(n, d, 1), n, d);
        labels = Shapes.labels(n, c, 3);
        gradFeatures = new float[n * d];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        head.close();
    }

    @Benchmark
    public double step() {
        return head.step(features, labels, gradFeatures);
    }

    /** JMH's arguments; runs this benchmark, then prints each shape's ratios beside the goals. */
    public static void main(String[] args) throws Exception {
        CommandLineOptions cli = new CommandLineOptions(args);
        Collection<RunResult> results = new Runner(new OptionsBuilder().parent(cli).include(PartialFcBench.class.getSimpleName())
                .build()).run();
        Map<String, Map<String, Double>> ms = new LinkedHashMap<>();
        for (RunResult r : results) {
            ms.computeIfAbsent(r.getParams().getParam("shape"), s -> new LinkedHashMap<>())
                    .put(r.getParams().getParam("mode"), r.getPrimaryResult().getScore());
        }
        System.out.println();
        for (Map.Entry<String, Map<String, Double>> e : ms.entrySet()) {
            Map<String, Double> m = e.getValue();
            Double full = m.get("r1_shards1");
            Double sampled = m.get("r0.1_shards1");
            Double two = m.get("r1_shards2");
            System.out.printf(Locale.ROOT, "%s  ms per step: r=1 %s, r=0.1 %s, 2 shards %s%n", e.getKey(), show(full),
                    show(sampled), show(two));
            if (full != null && sampled != null) {
                System.out.printf(Locale.ROOT, "  r=0.1 / r=1: %.3fx (goal <= 0.15x)%n", sampled / full);
            }
            if (full != null && two != null) {
                System.out.printf(Locale.ROOT, "  2 shards on 2 threads: %.2fx as fast as 1 (goal >= 1.7x)%n", full / two);
            }
        }
    }

    private static String show(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.2f", v);
    }
}
