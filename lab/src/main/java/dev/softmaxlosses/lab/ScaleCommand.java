package dev.softmaxlosses.lab;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.Loss;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.lab.report.ReportFolder;
import dev.softmaxlosses.lab.report.ScaleReport;
import dev.softmaxlosses.lab.scale.SyntheticIdentities;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.StreamingMarginHead;
import dev.softmaxlosses.scale.ShardedHead;
import dev.softmaxlosses.spec.LossRegistry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code softmax-lab scale}: trains a margin head alone, class-sharded ({@link ShardedHead}, Partial FC),
 * on synthetic identities ({@link SyntheticIdentities}) at the scale of face recognition (up to a
 * million classes), and says how fast it went and how much memory it took. There is no backbone: the
 * gradient with respect to the features is computed and dropped.
 *
 * <p>Refused before any work, one {@code error:} line and status 2: a bad option (naming it), a loss
 * on logits, a head that needs more memory than the JVM has ({@link ShardedHead#trainingBytes}). The
 * report ({@code --out}) follows {@link ReportFolder}'s rule, and the checkpoint ({@code --save}) is
 * written whole or not at all, replacing only a checkpoint.
 */
@Command(name = "scale", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains a margin head alone on synthetic identities at face-recognition scale: class-sharded"
                + " (Partial FC), with class-centre sampling; prints the loss, steps/s, samples/s and heap, then the"
                + " throughput, peak heap, final loss and the held-out accuracy (nearest class weight by cosine).",
                "Exit status: 0 done; 2 bad options, or too little memory (one error: line)."},
        footer = {"", "Example: softmax-lab scale --loss arcface:s=64,m=0.5 --classes 100000 --steps 50 --shards 2",
                "         SOFTMAX_LAB_JAVA_OPTS=-Xmx8g softmax-lab scale --loss arcface --classes 1000000 --sample-rate 0.1"})
final class ScaleCommand implements Callable<Integer> {

    static final int DEFAULT_CLASSES = 10_000;

    @Option(names = "--loss", paramLabel = "SPEC", order = 1,
            description = "The margin loss, e.g. arcface:s=64,m=0.5, cosface:s=64,m=0.35, adaface, magface (required"
                    + " unless --resume, whose loss is the checkpoint's).")
    String loss;

    @Option(names = "--classes", paramLabel = "C", order = 2, converter = Count.class,
            description = "Identities (class centres on the unit sphere), 1e6 or 1000000 (default: " + DEFAULT_CLASSES + ").")
    Integer classes;

    @Option(names = "--dim", paramLabel = "D", order = 3, description = "Feature dimension (default: 512).")
    Integer dim;

    @Option(names = "--batch", paramLabel = "N", order = 4, defaultValue = "256", converter = Count.class,
            description = "Samples per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--steps", paramLabel = "N", order = 5, defaultValue = "100", converter = Count.class,
            description = "Steps to take in this run; a resumed run goes on from the checkpoint's step (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--shards", paramLabel = "K", order = 6, defaultValue = "1",
            description = "Class shards, each owning a contiguous range of classes (default: ${DEFAULT-VALUE}).")
    int shards;

    @Option(names = "--threads", paramLabel = "T", order = 7,
            description = "Threads the shards run on, 1 to --shards (default: --shards).")
    Integer threads;

    @Option(names = "--sample-rate", paramLabel = "R", order = 8,
            description = "Partial FC's class-centre sampling: each step uses the batch's classes and a fraction R of the"
                    + " others, in (0, 1] (default: 1, every class).")
    Double sampleRate;

    @Option(names = "--lr", paramLabel = "RATE", order = 9, description = "SGD learning rate (default: 0.1).")
    Double lr;

    @Option(names = "--momentum", paramLabel = "MU", order = 10, description = "SGD momentum, in [0, 1] (default: 0.9).")
    Double momentum;

    @Option(names = "--weight-decay", paramLabel = "WD", order = 11, description = "SGD weight decay (default: 5e-4).")
    Double weightDecay;

    @Option(names = "--seed", paramLabel = "N", order = 12,
            description = "Seed of the class centres, the batches, the initial weights and the sampling (default: 1).")
    Long seed;

    @Option(names = "--block", paramLabel = "B", order = 13, defaultValue = "" + StreamingMarginHead.DEFAULT_BLOCK,
            description = "Classes each shard walks at a time (default: ${DEFAULT-VALUE}).")
    int block;

    @Option(names = "--noise", paramLabel = "SIGMA", order = 14, defaultValue = "0.5",
            description = "The samples' spread around their class centre: centre + SIGMA g / sqrt(D), g standard Gaussian,"
                    + " about atan(SIGMA) away (default: ${DEFAULT-VALUE}, about 27 degrees).")
    double noise;

    @Option(names = "--feature-norm", paramLabel = "A", order = 15, defaultValue = "1",
            description = "The samples' norm (default: ${DEFAULT-VALUE}); the losses that read it (adaface, magface) want"
                    + " their own range, e.g. --feature-norm 30 for magface.")
    double featureNorm;

    @Option(names = "--norm-spread", paramLabel = "Q", order = 16, defaultValue = "0",
            description = "Each sample's norm drawn uniformly from A (1 +- Q), Q in [0, 1) (default: ${DEFAULT-VALUE}).")
    double normSpread;

    @Option(names = "--log-every", paramLabel = "K", order = 17, defaultValue = "10", converter = Count.class,
            description = "Print a line every K steps (default: ${DEFAULT-VALUE}).")
    int logEvery;

    @Option(names = "--eval-samples", paramLabel = "M", order = 18, defaultValue = "1024", converter = Count.class,
            description = "Held-out samples of the final accuracy; 0 skips it (default: ${DEFAULT-VALUE}).")
    int evalSamples;

    @Option(names = "--out", paramLabel = "FOLDER", order = 19,
            description = "Also write the report there: metrics.json and loss-curve.png (a new or empty folder, or a report"
                    + " of the lab, replaced whole when the run succeeds).")
    Path outDir;

    @Option(names = "--save", paramLabel = "FILE", order = 20,
            description = "Save the head (weights, momentum, step) there at the end: a new file, or a checkpoint to replace.")
    Path save;

    @Option(names = "--resume", paramLabel = "FILE", order = 21,
            description = "Start from a checkpoint of --save: its loss, classes, dimension, optimizer, sampling and step."
                    + " Give the same --batch, --noise and norms as the run that saved it to go on as one run.")
    Path resume;

    @ParentCommand
    SoftmaxLab lab;

    /** The loss as the user gave it, or as the checkpoint holds it. */
    private String shown;

    @Spec
    CommandSpec spec;

    /** {@code 1000000}, {@code 1e6} or {@code 1_000_000}: a whole number of at most {@link Integer#MAX_VALUE}. */
    static final class Count implements CommandLine.ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            String v = value.strip().replace("_", "");
            double d;
            try {
                d = v.matches("[+-]?\\d+") ? Long.parseLong(v) : Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a whole number");
            }
            if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a whole number of at most "
                        + Integer.MAX_VALUE);
            }
            return (int) d;
        }
    }

    /** A checkpoint's header: what the head was saved with. */
    record Checkpoint(String spec, int classes, int dim, double lr, double momentum, double weightDecay, long step,
                      double sampleRate, long seed) {

        static Checkpoint read(Path file) {
            String shown = "--resume " + Messages.quote(file.toString());
            try {
                String spec = ShardedHead.checkpointSpec(file);
                try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
                    in.skipNBytes(8 + 4);
                    in.readUTF();
                    return new Checkpoint(spec, in.readInt(), in.readInt(), in.readDouble(), in.readDouble(), in.readDouble(),
                            in.readLong(), in.readDouble(), in.readLong());
                }
            } catch (java.nio.file.NoSuchFileException e) {
                throw new BadInputException(shown + " does not exist");
            } catch (IOException e) {
                throw new BadInputException(shown + ": " + Messages.reason(e));
            }
        }
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            return run(out);
        } catch (BadInputException | IllegalArgumentException e) {
            return SoftmaxLab.badInput(err, e.getMessage());
        }
    }

    private int run(PrintWriter out) {
        Checkpoint from = resume == null ? null : Checkpoint.read(resume);
        MarginLoss marginLoss = marginLoss(from);
        shown = loss != null ? loss.strip() : from.spec();
        int c = pick("--classes", classes, from == null ? null : from.classes(), DEFAULT_CLASSES);
        int d = pick("--dim", dim, from == null ? null : from.dim(), 512);
        double rate = pick("--sample-rate", sampleRate, from == null ? null : from.sampleRate(), 1.0);
        double mu = pick("--momentum", momentum, from == null ? null : from.momentum(), 0.9);
        double wd = pick("--weight-decay", weightDecay, from == null ? null : from.weightDecay(), 5e-4);
        long s = pick("--seed", seed, from == null ? null : from.seed(), 1L);
        double learningRate = lr != null ? lr : from != null ? from.lr() : 0.1;
        int t = threads == null ? shards : threads;
        check(c >= 1, "--classes must be >= 1, got " + c);
        check(d >= 1, "--dim must be >= 1, got " + d);
        check(batch >= 1, "--batch must be >= 1, got " + batch);
        check(steps >= 1, "--steps must be >= 1, got " + steps);
        check(shards >= 1, "--shards must be >= 1, got " + shards);
        check(t >= 1, "--threads must be >= 1, got " + t);
        check(t <= shards, "--threads must be at most --shards (" + shards + "), got " + t);
        check(rate > 0 && rate <= 1, "--sample-rate must be in (0, 1], got " + rate);
        check(block >= 1, "--block must be >= 1, got " + block);
        check(learningRate >= 0 && !Double.isInfinite(learningRate), "--lr must be finite and >= 0, got " + learningRate);
        check(mu >= 0 && mu <= 1, "--momentum must be in [0, 1], got " + mu);
        check(wd >= 0 && !Double.isInfinite(wd), "--weight-decay must be finite and >= 0, got " + wd);
        check(logEvery >= 1, "--log-every must be >= 1, got " + logEvery);
        check(evalSamples >= 0, "--eval-samples must be >= 0, got " + evalSamples);
        check((long) batch * d <= FloatMatrix.MAX_VALUES, "--batch " + batch + " of --dim " + d
                + " features are more values than a Java array holds");
        check((long) evalSamples * d <= FloatMatrix.MAX_VALUES, "--eval-samples " + evalSamples + " of --dim " + d
                + " features are more values than a Java array holds");
        SyntheticIdentities data = new SyntheticIdentities(c, d, s, noise, featureNorm, normSpread);
        if (save != null) {
            checkSave(save, resume);
        }
        Path report = outDir == null ? null : ReportFolder.checkTarget(outDir);
        if (report != null && save != null && save.toAbsolutePath().normalize().startsWith(report)) {
            throw new BadInputException("--save " + Messages.quote(save.toString()) + " lies in the report's folder "
                    + Messages.quote(outDir.toString()) + "; give the checkpoint a place of its own");
        }
        long needed = ShardedHead.trainingBytes(c, d, batch, rate, shards, Math.min(block, Math.max(1, c)))
                + 8L * batch * d + 4L * batch;
        String what = String.format(Locale.ROOT, "training %d classes x %d dims (batch %d, sample rate %s, %d shard%s)",
                c, d, batch, number(rate), shards, shards == 1 ? "" : "s");
        SoftmaxLab.requireMemory(needed, what, "use fewer --classes, a smaller --dim or --batch, or a --sample-rate below 1");

        try (ReportFolder folder = report == null ? null : ReportFolder.open(outDir)) {
            long maxHeap = Runtime.getRuntime().maxMemory();
            out.printf(Locale.ROOT, "softmax-lab scale: %s, %d classes x %d dims, batch %d, %d shard%s on %d thread%s,"
                            + " sample rate %s, %d steps from step %d%n", shown, c, d, batch, shards,
                    shards == 1 ? "" : "s", t, t == 1 ? "" : "s", number(rate), steps, from == null ? 0 : from.step());
            out.printf(Locale.ROOT, "memory: the head needs about %d MB of the JVM's %d MB%n", mb(needed), mb(maxHeap));
            lab.requireWorkingStdout(out);
            resetPeaks();
            ShardedHead head = from == null
                    ? ShardedHead.builder(marginLoss, c, d).shards(shards).threads(t).block(block)
                            .sgd(learningRate, mu, wd).sampling(rate, s).initialWeights(s, 0.01).build()
                    : load(marginLoss, t);
            try {
                if (from != null && lr != null) {
                    head.setLearningRate(learningRate);
                }
                ScaleReport.Run result = train(head, data, out, marginLoss, needed, maxHeap, t);
                if (save != null) {
                    saveCheckpoint(head);
                    out.printf(Locale.ROOT, "checkpoint: %s (step %d)%n", save, head.steps());
                }
                result = evaluate(head, data, out, result);
                head = null;
                if (folder != null) {
                    ScaleReport.write(folder.path(), result);
                    Path written = folder.commit();
                    out.printf(Locale.ROOT, "report: %s%n", written);
                }
            } finally {
                if (head != null) {
                    head.close();
                }
            }
            out.flush();
            return 0;
        } catch (IOException e) {
            throw new BadInputException("cannot write the report into " + Messages.quote(String.valueOf(outDir)) + ": "
                    + Messages.reason(e));
        }
    }

    private ScaleReport.Run train(ShardedHead head, SyntheticIdentities data, PrintWriter out, MarginLoss marginLoss,
                                  long needed, long maxHeap, int t) {
        int d = data.dim();
        float[] x = new float[batch * d];
        int[] y = new int[batch];
        FloatMatrix features = new FloatMatrix(x, batch, d);
        float[] grad = new float[batch * d];
        long[] stepNumbers = new long[steps];
        double[] losses = new double[steps];
        out.printf(Locale.ROOT, "%8s %12s %9s %10s %8s%n", "step", "loss", "steps/s", "samples/s", "heap MB");
        long start = System.nanoTime();
        long intervalStart = start;
        int intervalSteps = 0;
        for (int i = 0; i < steps; i++) {
            long step = head.steps();
            data.batch(step, x, y);
            double l = head.step(features, y, grad);
            if (!Double.isFinite(l)) {
                throw new BadInputException("the loss became " + l + " at step " + (step + 1)
                        + "; try a lower --lr or a smaller scale s");
            }
            stepNumbers[i] = step + 1;
            losses[i] = l;
            intervalSteps++;
            if ((i + 1) % logEvery == 0 || i == steps - 1) {
                long now = System.nanoTime();
                double perSecond = intervalSteps / ((now - intervalStart) / 1e9);
                out.printf(Locale.ROOT, "%8d %12.6f %9.3f %10.1f %8d%n", step + 1, l, perSecond, perSecond * batch,
                        mb(heapUsed()));
                out.flush();
                intervalStart = now;
                intervalSteps = 0;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double perSecond = steps / seconds;
        long peak = peakHeap();
        out.printf(Locale.ROOT, "done: %d steps in %.1f s: %.3f steps/s, %.1f samples/s; peak heap %d MB (the head holds"
                        + " %d MB, estimated %d MB); final loss %.6f%n", steps, seconds, perSecond, perSecond * batch, mb(peak),
                mb(head.heldBytes()), mb(needed), losses[steps - 1]);
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("classes", head.classes());
        settings.put("dim", d);
        settings.put("batch", batch);
        settings.put("steps", steps);
        settings.put("first_step", stepNumbers[0] - 1);
        settings.put("shards", head.shards());
        settings.put("threads", t);
        settings.put("sample_rate", head.sampleRate());
        settings.put("learning_rate", head.learningRate());
        settings.put("momentum", head.momentum());
        settings.put("weight_decay", head.weightDecay());
        settings.put("seed", head.samplingSeed());
        settings.put("block", head.block());
        settings.put("noise", noise);
        settings.put("feature_norm", featureNorm);
        settings.put("norm_spread", normSpread);
        settings.put("resumed_from", resume == null ? null : resume.toString());
        settings.put("loss_spec", marginLoss.spec().toString());
        return new ScaleReport.Run(shown, settings, stepNumbers, losses, seconds, perSecond,
                perSecond * batch, needed, head.heldBytes(), peak, maxHeap, null, 0);
    }

    /**
     * The fraction of a held-out batch whose nearest class weight (cosine, no margin) is its own class's;
     * closes the head. It needs a copy of the weights: skipped, with a line saying so, when the heap
     * has no room for it.
     */
    private ScaleReport.Run evaluate(ShardedHead head, SyntheticIdentities data, PrintWriter out, ScaleReport.Run run) {
        try {
            if (evalSamples == 0) {
                return run;
            }
            int d = data.dim();
            long rows = (long) head.classes() * head.loss().subCentres();
            long copy = 4L * rows * d;
            Runtime rt = Runtime.getRuntime();
            long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
            if (copy + 8L * evalSamples * d > free) {
                System.gc();
                free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
            }
            if (copy + 8L * evalSamples * d > free || copy > FloatMatrix.MAX_VALUES * 4L) {
                out.printf(Locale.ROOT, "accuracy: not measured: it needs a copy of the weights (%d MB), more than the"
                        + " %d MB the JVM has left; give it more with SOFTMAX_LAB_JAVA_OPTS=-Xmx..g%n", mb(copy), mb(free));
                return run;
            }
            float[] weights = head.weights();
            MarginLoss trained = head.loss();
            head.close();
            float[] x = new float[evalSamples * d];
            int[] y = new int[evalSamples];
            data.heldOut(x, y);
            int[] predicted = new int[evalSamples];
            new StreamingMarginHead(trained, block).predictedClasses(new FloatMatrix(x, evalSamples, d),
                    new FloatMatrix(weights, weights.length / d, d), predicted, LossResult.forLogits(0, 0));
            int right = 0;
            for (int i = 0; i < evalSamples; i++) {
                right += predicted[i] == y[i] ? 1 : 0;
            }
            double accuracy = right / (double) evalSamples;
            out.printf(Locale.ROOT, "accuracy: %.4f (%d of %d held-out samples nearest their own class's weight, by cosine)%n",
                    accuracy, right, evalSamples);
            long peak = Math.max(run.peakHeapBytes(), peakHeap());
            return new ScaleReport.Run(run.loss(), run.settings(), run.steps(), run.losses(), run.seconds(),
                    run.stepsPerSecond(), run.samplesPerSecond(), run.trainingBytes(), run.heldBytes(), peak,
                    run.maxHeapBytes(), accuracy, evalSamples);
        } finally {
            head.close();
        }
    }

    private MarginLoss marginLoss(Checkpoint from) {
        if (loss == null && from == null) {
            throw new BadInputException("--loss is missing: give a margin loss, e.g. --loss arcface:s=64,m=0.5");
        }
        String text = loss != null ? loss : from.spec();
        Loss created;
        try {
            created = LossRegistry.create(text);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--loss " + text + ": " + e.getMessage());
        }
        if (!(created instanceof MarginLoss margin)) {
            throw new BadInputException("--loss " + text + " is a loss on logits; scale trains a margin head over class"
                    + " weights: give a margin loss, e.g. arcface:s=64,m=0.5, cosface or adaface");
        }
        if (from != null && !margin.spec().toString().equals(from.spec())) {
            throw new BadInputException("--loss " + text + " is not the loss of --resume " + Messages.quote(resume.toString())
                    + " (" + from.spec() + "); leave --loss out to go on with it");
        }
        return margin;
    }

    /** The option's value: given, the checkpoint's (which a given value must equal), or the default. */
    private static <T> T pick(String option, T given, T saved, T fallback) {
        if (given != null && saved != null && !given.equals(saved)) {
            throw new BadInputException(option + " " + given + " differs from the checkpoint of --resume (" + saved
                    + "); leave " + option + " out to go on with it");
        }
        return given != null ? given : saved != null ? saved : fallback;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new BadInputException(message);
        }
    }

    private ShardedHead load(MarginLoss marginLoss, int t) {
        try {
            return ShardedHead.load(resume, marginLoss, shards, t, block, MatrixProducts.standard());
        } catch (IOException e) {
            throw new BadInputException("--resume " + Messages.quote(resume.toString()) + ": " + Messages.reason(e));
        }
    }

    /**
     * Refuses a {@code --save} that is a folder, in a folder that does not exist or is not writable, or a
     * file that is not a checkpoint (the lab replaces only its own).
     */
    private static void checkSave(Path file, Path resume) {
        String shown = "--save " + Messages.quote(file.toString());
        if (file.toString().isBlank()) {
            throw new BadInputException("--save is empty (is a shell variable unset?); give the checkpoint's file name");
        }
        if (Files.isDirectory(file)) {
            throw new BadInputException(shown + " is a folder; give a file name for the checkpoint");
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new BadInputException("the folder of " + shown + " does not exist");
        }
        if (!Files.isWritable(parent)) {
            throw new BadInputException("cannot write " + shown + ": the folder " + Messages.quote(parent.toString())
                    + " is not writable");
        }
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            boolean checkpoint;
            try {
                checkpoint = Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && ShardedHead.checkpointSpec(file) != null;
            } catch (IOException e) {
                checkpoint = false;
            }
            if (!checkpoint) {
                throw new BadInputException(shown + " exists and is not a checkpoint of a sharded head; the lab replaces"
                        + " only its own checkpoints: give a new file");
            }
        }
    }

    /**
     * Saves the head whole or not at all ({@link ShardedHead#save}: a temporary file renamed over it);
     * a run stopped meanwhile (Ctrl-C, kill) removes that temporary file from a shutdown hook.
     */
    private void saveCheckpoint(ShardedHead head) {
        Path target = save.toAbsolutePath();
        Path parent = target.getParent();
        String glob = "." + target.getFileName() + "*.tmp";
        Set<Path> before = temporaries(parent, glob);
        Thread cleanup = new Thread(() -> {
            for (Path p : temporaries(parent, glob)) {
                if (!before.contains(p)) {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException ignored) {
                        // a hidden temporary file left behind is harmless
                    }
                }
            }
        }, "softmax-lab checkpoint cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            head.save(target, true);
        } catch (IOException e) {
            throw new BadInputException("cannot write --save " + Messages.quote(save.toString()) + ": " + Messages.reason(e));
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs
            }
        }
    }

    private static Set<Path> temporaries(Path folder, String glob) {
        Set<Path> found = new HashSet<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(folder, glob)) {
            stream.forEach(found::add);
        } catch (IOException e) {
            // nothing to clean
        }
        return found;
    }

    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    private static long mb(long bytes) {
        return (bytes + (1 << 19)) >> 20;
    }

    private static long heapUsed() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static List<MemoryPoolMXBean> heapPools() {
        List<MemoryPoolMXBean> pools = new ArrayList<>();
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.isValid()) {
                pools.add(p);
            }
        }
        return pools;
    }

    private static void resetPeaks() {
        heapPools().forEach(MemoryPoolMXBean::resetPeakUsage);
    }

    /** The heap's peak: the sum of the heap pools' peaks since {@link #resetPeaks} (an upper bound: they may peak apart). */
    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean p : heapPools()) {
            sum += p.getPeakUsage().getUsed();
        }
        return Math.max(sum, heapUsed());
    }

}
