package dev.softmaxlosses.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs a set of benchmarks in one go and prints the table issue 5 asks for: ns per logit of each
 * logit kernel with its multiple of the copy bound measured in the same run, and GFLOP/s of the
 * margin head's three products (netlib's BLAS alone, and through the library's products) and of the
 * head, each with its multiple of the rate through {@code MatrixProducts.netlib()} and its share of the
 * rate through {@code MatrixProducts.standard()}, the heads' default. Arguments are JMH's own (include patterns,
 * {@code -p}, {@code -t}, {@code -wi}, ...).
 */
public final class BenchReport {

    private BenchReport() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions cli = new CommandLineOptions(args);
        ChainedOptionsBuilder options = new OptionsBuilder().parent(cli);
        Collection<RunResult> results = new Runner(options.build()).run();
        System.out.println();
        System.out.println(table(results));
    }

    static String table(Collection<RunResult> results) {
        Map<String, Double> copyNsPerLogit = new LinkedHashMap<>();
        Map<String, double[]> deep = new LinkedHashMap<>();
        Map<String, double[]> rowThreads = new LinkedHashMap<>();
        Map<String, Map<String, Double>> djlLoss = new LinkedHashMap<>();
        Map<String, Map<String, Double>> djlHead = new LinkedHashMap<>();
        Map<String, Double> netlibMs = new LinkedHashMap<>();
        Map<String, Double> standardMs = new LinkedHashMap<>();
        List<RunResult> products = new ArrayList<>();
        List<RunResult> rest = new ArrayList<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            String shape = r.getParams().getParam("shape");
            if (name.contains(".DeepStack")) {
                int column = (name.contains("Flagged") ? 0 : 2) + (r.getParams().getParam("depth").equals("0") ? 0 : 1);
                deep.computeIfAbsent(shape, s -> nans(4))[column] = nsPerLogit(r);
            } else if (name.endsWith("DjlLossBench.forwardBackward")) {
                djlLoss.computeIfAbsent(shape, k -> new LinkedHashMap<>()).put(r.getParams().getParam("loss"), nsPerLogit(r));
            } else if (name.endsWith("DjlArcFaceBench.forwardBackward")) {
                djlHead.computeIfAbsent(shape, k -> new LinkedHashMap<>()).put(r.getParams().getParam("impl"),
                        r.getPrimaryResult().getScore() * unitToNs(r.getPrimaryResult().getScoreUnit()) / 1e6);
            } else if (name.endsWith("RowParallelBench.forwardBackward")) {
                rowThreads.computeIfAbsent(shape, s -> nans(2))[r.getParams().getParam("threads").equals("1") ? 0 : 1] =
                        nsPerLogit(r);
            } else if (name.endsWith("CopyBandwidthBench.copy")) {
                copyNsPerLogit.put(r.getParams().getParam("shape"), nsPerLogit(r));
            } else if (PRODUCTS.containsKey(name.substring(name.lastIndexOf('.') + 1)) && name.contains("MarginHeadBench.")) {
                products.add(r);
                if (name.endsWith(".productsNetlib")) {
                    netlibMs.put(r.getParams().getParam("shape"), r.getPrimaryResult().getScore());
                } else if (name.endsWith(".productsStandard")) {
                    standardMs.put(r.getParams().getParam("shape"), r.getPrimaryResult().getScore());
                }
            } else {
                rest.add(r);
            }
        }
        StringBuilder out = new StringBuilder();
        if (!copyNsPerLogit.isEmpty()
                || rest.stream().anyMatch(r -> !r.getParams().getBenchmark().endsWith("MarginHeadBench.forwardBackward"))) {
            out.append(String.format(Locale.ROOT, "%-40s %-12s %-8s %12s %14s%n", "benchmark", "shape", "threads",
                    "ns/logit", "x copy bound"));
        }
        copyNsPerLogit.forEach((shape, ns) -> out.append(String.format(Locale.ROOT, "%-40s %-12s %-8s %12.3f %14s%n",
                "copy (the bound)", shape, "", ns, "1.00")));
        for (RunResult r : rest) {
            String name = r.getParams().getBenchmark();
            String shape = r.getParams().getParam("shape");
            if (name.endsWith("MarginHeadBench.forwardBackward")) {
                continue;
            }
            String label = shortName(name) + " " + describe(r);
            double ns = nsPerLogit(r);
            Double bound = copyNsPerLogit.get(shape);
            out.append(String.format(Locale.ROOT, "%-40s %-12s %-8d %12.3f %14s%n", label, shape,
                    r.getParams().getThreads(), ns, bound == null ? "-" : String.format(Locale.ROOT, "%.2f", ns / bound)));
        }
        if (!rowThreads.isEmpty()) {
            out.append(String.format(Locale.ROOT, "%n%-40s %-12s %12s %12s %12s%n", "row parallelism (library's own)", "shape",
                    "1 thread", "2 threads", "speed-up"));
            rowThreads.forEach((shape, ns) -> out.append(String.format(Locale.ROOT, "%-40s %-12s %12.3f %12.3f %12.2f%n",
                    "softmax CE simd, ns/logit", shape, ns[0], ns[1], ns[0] / ns[1])));
        }
        if (!deep.isEmpty()) {
            out.append(String.format(Locale.ROOT, "%n%-12s %13s %13s %13s %13s %14s%n", "deep stack", "flag, depth 0",
                    "flag, 20", "no flag, 0", "no flag, 20", "no flag 20/flag 0"));
            deep.forEach((shape, ns) -> out.append(String.format(Locale.ROOT, "%-12s %13.3f %13.3f %13.3f %13.3f %14.2f%n",
                    shape, ns[0], ns[1], ns[2], ns[3], ns[3] / ns[0])));
            out.append("(ns/logit; flag: -XX:MaxInlineLevel=30; depth: nested frames above the call)\n");
        }
        djlTables(out, djlLoss, djlHead);
        boolean head = rest.stream().anyMatch(r -> r.getParams().getBenchmark().endsWith("MarginHeadBench.forwardBackward"))
                || !products.isEmpty();
        if (head) {
            out.append(String.format(Locale.ROOT, "%n%-44s %-14s %10s %10s %12s %12s%n", "margin head", "shape", "ms/call",
                    "GFLOP/s", "x netlib()", "of products"));
            for (RunResult r : products) {
                String name = r.getParams().getBenchmark();
                headRow(out, PRODUCTS.get(name.substring(name.lastIndexOf('.') + 1)), r, netlibMs, standardMs);
            }
            for (RunResult r : rest) {
                if (r.getParams().getBenchmark().endsWith("MarginHeadBench.forwardBackward")) {
                    headRow(out, r.getParams().getParam("loss") + " " + r.getParams().getParam("mode"), r, netlibMs, standardMs);
                }
            }
            out.append("(x netlib(): the time of the three products through MatrixProducts.netlib() over this one's;"
                    + " of products: the time of the three products through MatrixProducts.standard() over this one's)\n");
        }
        return out.toString();
    }

    /**
     * The DJL benchmarks' tables: the loss step's ns per logit, DJL's built-in loss and the adapter, whole
     * and less the batch's own part ({@code loss=none}); the ArcFace head's ms per step, PyTorch's operations
     * and the MarginHead, with the multiple (PyTorch's time over this one's). The allocator is the one the
     * forks inherited ({@code LD_PRELOAD}, {@code MALLOC_CONF}).
     */
    private static void djlTables(StringBuilder out, Map<String, Map<String, Double>> loss, Map<String, Map<String, Double>> head) {
        if (loss.isEmpty() && head.isEmpty()) {
            return;
        }
        String preload = System.getenv().getOrDefault("LD_PRELOAD", "");
        String conf = System.getenv().getOrDefault("MALLOC_CONF", "");
        out.append(String.format(Locale.ROOT, "%nDJL 0.36 / PyTorch, 1 thread; allocator: %s%s%n",
                preload.isEmpty() ? "glibc malloc (as shipped)" : "LD_PRELOAD=" + preload,
                preload.isEmpty() ? "" : conf.isEmpty() ? " (its default MALLOC_CONF)" : " MALLOC_CONF=" + conf));
        if (!loss.isEmpty()) {
            out.append(String.format(Locale.ROOT, "%-30s %-11s %10s %10s %10s %10s %10s %10s %8s%n", "softmax CE step, ns/logit",
                    "shape", "batch", "built-in", "adapter", "x", "built-in-b", "adapter-b", "x"));
            loss.forEach((shape, v) -> {
                double none = v.getOrDefault("none", Double.NaN);
                double djl = v.getOrDefault("djl", Double.NaN);
                double ours = v.getOrDefault("adapter", Double.NaN);
                out.append(String.format(Locale.ROOT, "%-30s %-11s %10.3f %10.3f %10.3f %10.2f %10.3f %10.3f %8.2f%n",
                        "evaluate + backward", shape, none, djl, ours, djl / ours, djl - none, ours - none,
                        (djl - none) / (ours - none)));
            });
            out.append("(batch: the step's own part, loss=none: sub-manager, the logits' clone, closing; -b: less it;"
                    + " x: built-in over adapter)\n");
        }
        if (!head.isEmpty()) {
            out.append(String.format(Locale.ROOT, "%-30s %-15s %10s %10s %10s %10s %10s%n", "ArcFace head step, ms",
                    "shape", "pytorch", "head", "x", "streaming", "x"));
            head.forEach((shape, v) -> {
                double torch = v.getOrDefault("pytorch", Double.NaN);
                double ours = v.getOrDefault("head", Double.NaN);
                double streaming = v.getOrDefault("headStreaming", Double.NaN);
                out.append(String.format(Locale.ROOT, "%-30s %-15s %10.1f %10.1f %10.2f %10.1f %10.2f%n", "forward + backward",
                        shape, torch, ours, torch / ours, streaming, torch / streaming));
            });
            out.append("(pytorch: the formula in DJL's operations under autograd; head: MarginHead + head.loss();"
                    + " streaming: MarginHead.streaming; x: pytorch over it)\n");
        }
    }

    private static double[] nans(int n) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, Double.NaN);
        return a;
    }

    /** The product benchmarks of {@code MarginHeadBench}, in the table's words. */
    private static final Map<String, String> PRODUCTS = Map.of(
            "blasOnly", "3 products: netlib's BLAS alone",
            "productsNetlib", "3 products: MatrixProducts.netlib()",
            "productsStandard", "3 products: MatrixProducts.standard()");

    private static void headRow(StringBuilder out, String label, RunResult r, Map<String, Double> netlibMs,
                                Map<String, Double> standardMs) {
        String shape = r.getParams().getParam("shape");
        double ms = r.getPrimaryResult().getScore();
        Double netlib = netlibMs.get(shape);
        Double standard = standardMs.get(shape);
        out.append(String.format(Locale.ROOT, "%-44s %-14s %10.2f %10.1f %12s %12s%n", label, shape, ms, gflops(shape, ms),
                netlib == null ? "-" : String.format(Locale.ROOT, "%.2f", netlib / ms),
                standard == null ? "-" : String.format(Locale.ROOT, "%.2f", standard / ms)));
    }

    private static String shortName(String benchmark) {
        return benchmark.substring(benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1) + 1)
                .replace(".forwardBackward", "");
    }

    private static String describe(RunResult r) {
        List<String> parts = new ArrayList<>();
        for (String key : r.getParams().getParamsKeys()) {
            if (!key.equals("shape")) {
                parts.add(r.getParams().getParam(key));
            }
        }
        return String.join(" ", parts);
    }

    /** Time per call over the logits of one call, in nanoseconds, over all threads' logits. */
    private static double nsPerLogit(RunResult r) {
        return nsPerLogit(r.getParams().getParam("shape"), r.getPrimaryResult().getScore(),
                r.getPrimaryResult().getScoreUnit(), r.getParams().getThreads());
    }

    /** A score (time per call in {@code unit}, such as {@code us/op}) as ns per logit over all threads' logits. */
    static double nsPerLogit(String shape, double score, String unit, int threads) {
        int[] dims = Shapes.parse(shape);
        double logits = (double) dims[0] * dims[dims.length - 1];
        return score * unitToNs(unit) / logits / threads;
    }

    private static double unitToNs(String unit) {
        return switch (unit.substring(0, unit.indexOf('/'))) {
            case "ns" -> 1;
            case "us" -> 1e3;
            case "ms" -> 1e6;
            case "s" -> 1e9;
            default -> throw new IllegalArgumentException("unit " + unit);
        };
    }

    private static double gflops(String shape, double ms) {
        int[] dims = Shapes.parse(shape);
        return 3 * 2.0 * dims[0] * dims[1] * dims[2] / (ms * 1e6);
    }
}
