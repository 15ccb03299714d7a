package dev.softmaxlosses.bench;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.Batchifier;
import dev.softmaxlosses.djl.LogitLossAdapter;
import dev.softmaxlosses.djl.MarginHead;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

/**
 * Whether a training run through DJL grows the process's native memory: {@code STEPS} training steps
 * (10,000) of small models on PyTorch's CPU engine, each as {@code EasyTrain.fit} does one
 * ({@code EasyTrain.trainBatch}, {@code trainer.step()}, the batch closed; DJL's basic listeners, which
 * evaluate the loss again for its metric, and {@code Accuracy}; an epoch's end every {@code EVERY} steps), printing the resident set
 * ({@code VmRSS} of {@code /proc/self/status}) every {@code EVERY} steps (1,000), with the arrays still
 * open on the model's manager (its parameters, the trainer's and the batches' arrays) and the Java heap
 * in use. {@code bench/run djl-memory} fixes the heap and touches it at the start
 * ({@code -Xms512m -Xmx512m -XX:+AlwaysPreTouch}), so that RSS grows only with native memory (and the
 * JIT's code). The models, in turn in one JVM:
 * <ul>
 *   <li>{@code builtin}: {@code Linear(256 -> 1000)} trained with DJL's {@code Loss.softmaxCrossEntropyLoss()},
 *       the baseline (what the engine and DJL do by themselves);</li>
 *   <li>{@code adapter}: the same with {@code LogitLossAdapter.of("softmax_cross_entropy")};</li>
 *   <li>{@code marginHead}: {@code Linear(256 -> 128)} then {@code MarginHead.of("arcface", 1000)}, trained
 *       with {@code head.loss()}.</li>
 * </ul>
 * Batches of 64 random features (fixed, seeded) with labels as float32 (DJL datasets' usual type), each
 * step's a PyTorch clone of them on the batch's manager.
 *
 * <pre>{@code bench/run djl-memory [STEPS [EVERY [MODEL...]]]}</pre>
 */
public final class DjlMemoryCheck {

    private static final int BATCH = 64;
    private static final int INPUT = 256;
    private static final int CLASSES = 1000;

    private DjlMemoryCheck() {}

    public static void main(String[] args) throws IOException {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int every = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        String[] models = args.length > 2 ? java.util.Arrays.copyOfRange(args, 2, args.length)
                : new String[] {"builtin", "adapter", "marginHead"};
        System.out.println("LD_PRELOAD=" + System.getenv().getOrDefault("LD_PRELOAD", "")
                + " MALLOC_CONF=" + System.getenv().getOrDefault("MALLOC_CONF", "") + "; start: " + rssLine());
        for (String name : models) {
            run(name, steps, every);
        }
    }

    private static void run(String name, int steps, int every) throws IOException {
        Block block;
        Loss loss;
        switch (name) {
            case "builtin" -> {
                block = new SequentialBlock().add(Linear.builder().setUnits(CLASSES).build());
                loss = Loss.softmaxCrossEntropyLoss();
            }
            case "adapter" -> {
                block = new SequentialBlock().add(Linear.builder().setUnits(CLASSES).build());
                loss = LogitLossAdapter.of("softmax_cross_entropy");
            }
            case "marginHead" -> {
                MarginHead head = MarginHead.of("arcface:s=32,m=0.3", CLASSES);
                block = new SequentialBlock().add(Linear.builder().setUnits(128).build()).add(head);
                loss = head.loss();
            }
            default -> throw new IllegalArgumentException("model " + name + ": builtin, adapter or marginHead");
        }
        Random random = new Random(1);
        float[] features = new float[BATCH * INPUT];
        float[] labels = new float[BATCH];
        for (int i = 0; i < features.length; i++) {
            features[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < BATCH; i++) {
            labels[i] = random.nextInt(CLASSES);
        }
        DefaultTrainingConfig config = new DefaultTrainingConfig(loss)
                .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.01f)).build())
                .addEvaluator(new Accuracy())
                .addTrainingListeners(TrainingListener.Defaults.basic());
        System.out.printf(Locale.ROOT, "%n%s: %d steps%n%8s %10s %10s %14s %12s %10s %10s%n", name, steps, "step", "RSS MB",
                "HWM MB", "arrays open", "heap MB", "ms/step", "loss");
        try (Model model = Model.newInstance(name, "PyTorch")) {
            model.setBlock(block);
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(BATCH, INPUT));
                NDManager manager = trainer.getManager();
                // The batch's arrays are PyTorch clones of fixed ones: arrays made from Java arrays would go
                // through direct ByteBuffers, freed only when the GC collects them, which shows as RSS growth
                // between collections (about 300 MB over 5,000 steps here) whatever the loss.
                NDArray xs = manager.create(features, new Shape(BATCH, INPUT));
                NDArray ys = manager.create(labels, new Shape(BATCH));
                long start = System.nanoTime();
                float last = Float.NaN;
                for (int step = 1; step <= steps; step++) {
                    NDManager bm = manager.newSubManager();
                    NDArray x = xs.duplicate();
                    NDArray y = ys.duplicate();
                    try (Batch batch = new Batch(bm, new NDList(x), new NDList(y), BATCH, Batchifier.STACK,
                            Batchifier.STACK, step, steps)) {
                        EasyTrain.trainBatch(trainer, batch);
                        trainer.step();
                    }
                    if (step % every == 0 || step == 1) {
                        last = trainer.getLoss().getAccumulator(EvaluatorTrainingListener.TRAIN_ALL);
                        trainer.notifyListeners(listener -> listener.onEpoch(trainer)); // an epoch of EVERY steps
                        long now = System.nanoTime();
                        long[] rss = rss();
                        Runtime rt = Runtime.getRuntime();
                        System.out.printf(Locale.ROOT, "%8d %10.1f %10.1f %14d %12.1f %10.3f %10.4f%n", step, rss[0] / 1024.0,
                                rss[1] / 1024.0, model.getNDManager().getManagedArrays().size(),
                                (rt.totalMemory() - rt.freeMemory()) / 1048576.0,
                                step == 1 ? Double.NaN : (now - start) / 1e6 / every, last);
                        start = now;
                    }
                }
            }
        }
    }

    /** VmRSS and VmHWM of this process, in kB. */
    private static long[] rss() throws IOException {
        long[] out = new long[2];
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                out[0] = Long.parseLong(line.replaceAll("[^0-9]", ""));
            } else if (line.startsWith("VmHWM:")) {
                out[1] = Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return out;
    }

    private static String rssLine() throws IOException {
        long[] r = rss();
        return String.format(Locale.ROOT, "VmRSS %.1f MB", r[0] / 1024.0);
    }
}
