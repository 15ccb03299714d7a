package dev.softmaxlosses.bench;

import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.Vectorization;
import dev.softmaxlosses.spec.LossRegistry;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a user's JVM meets (issue 13): one JVM runs every shape of the softmax cross-entropy, the plain
 * Vector API loop on the same shapes ({@link PlainVectorLoop}) and four other logit losses in turn,
 * each for a short warm-up and a short measurement per round, so that each figure of the last round
 * is taken after all the others have run (and the JIT has compiled for all of them). Not JMH: one JVM,
 * its default flags, as a user starts it.
 *
 * <p>Prints per workload the ns per logit of the last round, the plain loop's on the same shape and
 * the ratio, the bytes allocated per call in the last round, and the seconds from the JVM's start
 * until the workload first ran within 1.2x of its final speed (measured over batches of about 5 ms).
 * Then each library workload runs alone in a fresh JVM of the same flags ({@code --isolated-warmup-ms}
 * of warm-up, 8 s as the JMH benchmarks, then {@code --isolated-measure-ms} measured; {@code
 * --no-isolated} skips this), and the table shows the mixed figure over the isolated one and the
 * isolated JVM's time to within 1.2x of its final speed.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Dsoftmaxlosses.parallel=false -cp bench/target/benchmarks.jar \
 *     dev.softmaxlosses.bench.MixedWorkload [--rounds 5] [--warmup-ms 300] [--measure-ms 200] [--no-isolated]
 *     [--isolated-warmup-ms 8000] [--isolated-measure-ms 1000] [--only LOSS@SHAPE]
 * </pre>
 */
public final class MixedWorkload {

    static final String[] SHAPES = {"4096x10", "1024x1000", "256x32768", "64x262144"};
    static final String[] OTHER_LOSSES = {"softmax_cross_entropy:label_smoothing=0.1", "focal", "multiclass_hinge",
            "softplus_lse"};
    static final String[] OTHER_SHAPES = {"1024x1000", "256x32768"};
    static final String CROSS_ENTROPY = "softmax_cross_entropy";
    static final String PLAIN = "plainloop";
    private static final long BATCH_NS = 5_000_000;
    private static final String RESULT = "RESULT";
    /** Looked up once: {@code ManagementFactory.getThreadMXBean()} allocates 792 bytes per call. */
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** What the JIT cannot drop: every call's value goes in here. */
    static volatile double sink;

    private MixedWorkload() {}

    @FunctionalInterface
    interface Call {
        double run();
    }

    /** One loss on one shape, with its speed history: (seconds since the JVM's start, ns per logit). */
    static final class Workload {
        final String loss;
        final String shape;
        final Call call;
        final double logits;
        final List<double[]> samples = new ArrayList<>();
        int batch = 1;
        double lastNsPerLogit = Double.NaN;
        double lastBytesPerCall = Double.NaN;

        Workload(String loss, String shape, Call call, double logits) {
            this.loss = loss;
            this.shape = shape;
            this.call = call;
            this.logits = logits;
        }

        String name() {
            return loss + "@" + shape;
        }

        /**
         * Runs batches for {@code millis}; returns {calls, nanoseconds, bytes allocated by the calls} (the
         * bookkeeping between batches is not counted).
         */
        long[] runFor(long millis, long startNs) {
            long end = System.nanoTime() + millis * 1_000_000;
            long calls = 0;
            long nanos = 0;
            long bytes = 0;
            double s = 0;
            do {
                long b0 = allocatedBytes();
                long t0 = System.nanoTime();
                for (int i = 0; i < batch; i++) {
                    s += call.run();
                }
                long t1 = System.nanoTime();
                bytes += allocatedBytes() - b0;
                samples.add(new double[] {(t1 - startNs) / 1e9, (t1 - t0) / (batch * logits)});
                calls += batch;
                nanos += t1 - t0;
                double perCall = (double) (t1 - t0) / batch;
                batch = (int) Math.max(1, Math.min(1 << 20, BATCH_NS / Math.max(1, perCall)));
            } while (System.nanoTime() < end);
            sink += s;
            return new long[] {calls, nanos, bytes};
        }

        void round(long warmupMs, long measureMs, long startNs) {
            runFor(warmupMs, startNs);
            long[] measured = runFor(measureMs, startNs);
            lastNsPerLogit = measured[1] / (measured[0] * logits);
            lastBytesPerCall = (double) measured[2] / measured[0];
        }

        /** Seconds from the JVM's start to the first batch within 1.2x of the final speed. */
        double secondsToFinalSpeed() {
            for (double[] s : samples) {
                if (s[1] <= 1.2 * lastNsPerLogit) {
                    return s[0];
                }
            }
            return Double.NaN;
        }
    }

    public static void main(String[] args) throws Exception {
        long startNs = System.nanoTime() - ManagementFactory.getRuntimeMXBean().getUptime() * 1_000_000;
        int rounds = 5;
        long warmupMs = 300;
        long measureMs = 200;
        long isolatedWarmupMs = 8000;
        long isolatedMeasureMs = 1000;
        boolean isolated = true;
        String only = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--warmup-ms" -> warmupMs = Long.parseLong(args[++i]);
                case "--measure-ms" -> measureMs = Long.parseLong(args[++i]);
                case "--no-isolated" -> isolated = false;
                case "--isolated-warmup-ms" -> isolatedWarmupMs = Long.parseLong(args[++i]);
                case "--isolated-measure-ms" -> isolatedMeasureMs = Long.parseLong(args[++i]);
                case "--only" -> only = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (--rounds N, --warmup-ms MS, --measure-ms MS, --no-isolated, --isolated-warmup-ms MS,"
                        + " --isolated-measure-ms MS, --only LOSS@SHAPE)");
            }
        }
        List<Workload> workloads = workloads(only);
        if (only != null) {
            if (workloads.isEmpty()) {
                throw new IllegalArgumentException("no workload " + only + " (LOSS@SHAPE, as the table names them)");
            }
            Workload w = workloads.get(0);
            w.round(isolatedWarmupMs, isolatedMeasureMs, startNs);
            System.out.printf(Locale.ROOT, "%s\t%s\t%.6f\t%.1f\t%.3f%n", RESULT, w.name(), w.lastNsPerLogit,
                    w.lastBytesPerCall, w.secondsToFinalSpeed());
            return;
        }
        System.out.printf(Locale.ROOT, "mixed workload: %d rounds of %d workloads in one JVM, %d ms warm-up + %d ms"
                + " measured each; kernels %s; JVM flags %s%n", rounds, workloads.size(), warmupMs, measureMs,
                Vectorization.kernels(), ManagementFactory.getRuntimeMXBean().getInputArguments());
        for (int r = 0; r < rounds; r++) {
            for (Workload w : workloads) {
                w.round(warmupMs, measureMs, startNs);
            }
            System.out.printf(Locale.ROOT, "round %d done at %.1f s%n", r + 1, (System.nanoTime() - startNs) / 1e9);
        }
        Map<String, double[]> alone = new LinkedHashMap<>();
        if (isolated) {
            for (Workload w : workloads) {
                if (!w.loss.equals(PLAIN)) {
                    alone.put(w.name(), runIsolated(w.name(), isolatedWarmupMs, isolatedMeasureMs));
                }
            }
        }
        System.out.println();
        System.out.print(table(workloads, alone, isolatedWarmupMs, isolatedMeasureMs));
    }

    /** The workloads in the order they run, or only the one named {@code only} ({@code LOSS@SHAPE}) unless null. */
    static List<Workload> workloads(String only) {
        List<String[]> plan = new ArrayList<>();
        for (String shape : SHAPES) {
            plan.add(new String[] {CROSS_ENTROPY, shape});
            plan.add(new String[] {PLAIN, shape});
        }
        for (String loss : OTHER_LOSSES) {
            for (String shape : OTHER_SHAPES) {
                plan.add(new String[] {loss, shape});
            }
        }
        Map<String, float[][]> data = new LinkedHashMap<>();
        List<Workload> out = new ArrayList<>();
        for (String[] p : plan) {
            if (only == null || only.equals(p[0] + "@" + p[1])) {
                out.add(workload(p[0], p[1], data));
            }
        }
        return out;
    }

    private static Workload workload(String loss, String shape, Map<String, float[][]> data) {
        int[] dims = Shapes.parse(shape);
        int rows = dims[0];
        int cols = dims[1];
        float[][] d = data.computeIfAbsent(shape, s -> new float[][] {Shapes.logits(rows, cols, 42),
                new float[rows * cols]});
        float[] logits = d[0];
        float[] grad = d[1];
        int[] labels = Shapes.labels(rows, cols, 7);
        Call call;
        if (loss.equals(PLAIN)) {
            call = () -> PlainVectorLoop.forwardBackward(logits, labels, rows, cols, grad);
        } else {
            LogitLoss l = (LogitLoss) LossRegistry.create(loss);
            call = () -> l.forwardBackward(logits, labels, rows, cols, grad);
        }
        return new Workload(loss, shape, call, (double) rows * cols);
    }

    /** Runs one workload alone in a fresh JVM of this one's flags: {ns/logit, bytes/call, s to 1.2x}. */
    private static double[] runIsolated(String name, long warmupMs, long measureMs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MixedWorkload.class.getName(), "--only", name,
                "--isolated-warmup-ms", Long.toString(warmupMs), "--isolated-measure-ms", Long.toString(measureMs)));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        double[] result = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                String[] f = line.split("\t");
                if (f.length == 5 && f[0].equals(RESULT)) {
                    result = new double[] {Double.parseDouble(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4])};
                }
            }
        }
        if (p.waitFor() != 0 || result == null) {
            throw new IllegalStateException("the isolated run of " + name + " failed (exit " + p.exitValue() + ")");
        }
        System.out.printf(Locale.ROOT, "isolated %-48s %8.3f ns/logit%n", name, result[0]);
        return result;
    }

    static String table(List<Workload> workloads, Map<String, double[]> alone, long isolatedWarmupMs, long isolatedMeasureMs) {
        Map<String, Double> plain = new LinkedHashMap<>();
        for (Workload w : workloads) {
            if (w.loss.equals(PLAIN)) {
                plain.put(w.shape, w.lastNsPerLogit);
            }
        }
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%-42s %-10s %9s %9s %8s %7s %9s %10s%n", "loss (last round)", "shape",
                "ns/logit", "plainloop", "x plain", "B/call", "1.2x at s", "x isolated"));
        for (Workload w : workloads) {
            Double p = w.loss.equals(PLAIN) ? null : plain.get(w.shape);
            double[] iso = alone.get(w.name());
            out.append(String.format(Locale.ROOT, "%-42s %-10s %9.3f %9s %8s %7.0f %9.1f %10s%n", w.loss, w.shape,
                    w.lastNsPerLogit, p == null ? "-" : String.format(Locale.ROOT, "%.3f", p),
                    p == null ? "-" : String.format(Locale.ROOT, "%.2f", w.lastNsPerLogit / p), w.lastBytesPerCall,
                    w.secondsToFinalSpeed(), iso == null ? "-" : String.format(Locale.ROOT, "%.2f", w.lastNsPerLogit / iso[0])));
        }
        if (!alone.isEmpty()) {
            out.append(String.format(Locale.ROOT, "%nisolated (each alone in a fresh JVM, %d ms warm-up, %d ms measured)%n",
                    isolatedWarmupMs, isolatedMeasureMs));
            out.append(String.format(Locale.ROOT, "%-53s %9s %7s %9s%n", "loss@shape", "ns/logit", "B/call", "1.2x at s"));
            alone.forEach((name, r) -> out.append(String.format(Locale.ROOT, "%-53s %9.3f %7.0f %9.1f%n", name, r[0], r[1],
                    r[2])));
        }
        out.append("ns/logit: time per call over the batch's logits; x plain: over the plain Vector API loop's in the same"
                + " JVM; B/call: bytes allocated per call; 1.2x at s: seconds from the JVM's start to the first 5 ms batch"
                + " within 1.2x of the final speed; x isolated: over the same workload alone in a fresh JVM.\n");
        return out.toString();
    }

    private static long allocatedBytes() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }
}
