package dev.softmaxlosses.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * The fork spread of issue 13: runs a benchmark in many forks (20 unless {@code -f} says otherwise) and
 * prints, per parameter set, every fork's ns per logit sorted, the median, the worst and the worst over
 * the median, and with {@code -prof gc} every fork's bytes allocated per call. Arguments are JMH's own;
 * without an include pattern it runs {@code SoftmaxCrossEntropyBench} on the SIMD kernels at
 * 4096x10, 1024x1000 and 256x32768. The warm-up is the benchmark's (8 x 1 s) unless {@code -wi}/{@code -w}
 * say otherwise: issue 13 asks for the worst fork within 1.3x of the median after 8 s, within 1.5x
 * after 2 s, and 0 bytes per call in every fork.
 */
public final class ForkSpread {

    static final int DEFAULT_FORKS = 20;
    static final String DEFAULT_BENCHMARK = "SoftmaxCrossEntropyBench.forwardBackward";
    static final String[] DEFAULT_SHAPES = {"4096x10", "1024x1000", "256x32768"};

    private ForkSpread() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions cli = new CommandLineOptions(args);
        ChainedOptionsBuilder options = new OptionsBuilder().parent(cli);
        if (!cli.getForkCount().hasValue()) {
            options.forks(DEFAULT_FORKS);
        }
        if (cli.getIncludes().isEmpty()) {
            options.include(DEFAULT_BENCHMARK);
            if (!cli.getParameter("impl").hasValue()) {
                options.param("impl", "simd");
            }
            if (!cli.getParameter("shape").hasValue()) {
                options.param("shape", DEFAULT_SHAPES);
            }
        }
        Collection<RunResult> results = new Runner(options.build()).run();
        System.out.println();
        System.out.print(table(results));
    }

    static String table(Collection<RunResult> results) {
        StringBuilder out = new StringBuilder();
        for (RunResult r : results) {
            String shape = r.getParams().getParam("shape");
            int threads = r.getParams().getThreads();
            List<Double> ns = new ArrayList<>();
            List<Double> alloc = new ArrayList<>();
            for (BenchmarkResult fork : r.getBenchmarkResults()) {
                Result<?> primary = fork.getPrimaryResult();
                ns.add(shape == null ? primary.getScore()
                        : BenchReport.nsPerLogit(shape, primary.getScore(), primary.getScoreUnit(), threads));
                double norm = allocNorm(fork);
                if (!Double.isNaN(norm)) {
                    alloc.add(norm);
                }
            }
            List<Double> sorted = ns.stream().sorted().toList();
            double median = sorted.size() % 2 == 1 ? sorted.get(sorted.size() / 2)
                    : (sorted.get(sorted.size() / 2 - 1) + sorted.get(sorted.size() / 2)) / 2;
            double worst = sorted.get(sorted.size() - 1);
            String unit = shape == null ? r.getPrimaryResult().getScoreUnit() : "ns/logit";
            out.append(String.format(Locale.ROOT, "%s %s: %d forks, %d x %s warm-up%n",
                    r.getParams().getBenchmark().replaceFirst("^.*\\.([^.]+\\.[^.]+)$", "$1"), describe(r), ns.size(),
                    r.getParams().getWarmup().getCount(), r.getParams().getWarmup().getTime()));
            out.append(String.format(Locale.ROOT, "  %s, sorted: %s%n", unit,
                    sorted.stream().map(x -> String.format(Locale.ROOT, "%.3f", x)).collect(Collectors.joining(" "))));
            out.append(String.format(Locale.ROOT, "  best %.3f  median %.3f  worst %.3f  worst/median %.2f%n",
                    sorted.get(0), median, worst, worst / median));
            if (!alloc.isEmpty()) {
                out.append(String.format(Locale.ROOT,
                        "  bytes/call, most in a fork %.0f; per fork in fork order (gc.alloc.rate.norm): %s%n",
                        alloc.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN),
                        alloc.stream().map(x -> String.format(Locale.ROOT, "%.0f", x)).collect(Collectors.joining(" "))));
                out.append(String.format(Locale.ROOT, "  ns/logit in fork order: %s%n",
                        ns.stream().map(x -> String.format(Locale.ROOT, "%.3f", x)).collect(Collectors.joining(" "))));
            }
        }
        return out.toString();
    }

    /** Bytes allocated per call in this fork ({@code -prof gc}), or NaN without the profiler. */
    private static double allocNorm(BenchmarkResult fork) {
        for (String key : fork.getSecondaryResults().keySet()) {
            if (key.endsWith("gc.alloc.rate.norm")) {
                return fork.getSecondaryResults().get(key).getScore();
            }
        }
        return Double.NaN;
    }

    private static String describe(RunResult r) {
        List<String> parts = new ArrayList<>();
        for (String key : r.getParams().getParamsKeys()) {
            parts.add(key + "=" + r.getParams().getParam(key));
        }
        if (r.getParams().getThreads() > 1) {
            parts.add("threads=" + r.getParams().getThreads());
        }
        return String.join(" ", parts);
    }
}
