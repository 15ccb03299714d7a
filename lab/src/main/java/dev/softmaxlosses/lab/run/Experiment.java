package dev.softmaxlosses.lab.run;

import dev.softmaxlosses.Loss;
import dev.softmaxlosses.lab.data.OpenSet;
import dev.softmaxlosses.lab.djl.DjlTrainer;
import dev.softmaxlosses.lab.metrics.RunMetrics;
import dev.softmaxlosses.lab.train.TrainedModel;
import dev.softmaxlosses.lab.train.Trainer;
import dev.softmaxlosses.lab.train.TrainingSettings;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Trains and measures every loss of a comparison, {@code threads} at a time. Each run uses one thread
 * from start to end, so a run's numbers are the same however many go at once; the results come back
 * in the order of the losses.
 */
public final class Experiment {

    private Experiment() {}

    /**
     * Runs every loss on {@code data} with {@code settings}.
     *
     * @param specs   the losses' spec strings, as given (one per loss)
     * @param losses  the losses built from them
     * @param backend the engine and network that train them
     * @throws Trainer.DivergedException when a loss diverges (the other runs are stopped)
     */
    public static List<RunResult> run(OpenSet data, List<String> specs, List<Loss> losses, TrainingSettings settings,
                                      Backend backend, int threads, Progress progress) throws InterruptedException {
        return run(data, specs, losses, settings, backend, threads, progress, RunExtras.NONE);
    }

    /**
     * As {@link #run(OpenSet, List, List, TrainingSettings, Backend, int, Progress)}, with {@code extras}: a
     * one-shot measurement on the held-out classes, a hand-off of each model before it is released.
     *
     * @throws Trainer.DivergedException when a loss diverges (the other runs are stopped)
     */
    public static List<RunResult> run(OpenSet data, List<String> specs, List<Loss> losses, TrainingSettings settings,
                                      Backend backend, int threads, Progress progress, RunExtras extras)
            throws InterruptedException {
        int batch = Math.min(settings.batchSize(), data.train().size());
        int n = data.train().size();
        long steps = (long) (n / batch + (n % batch >= 2 ? 1 : 0)) * settings.epochs();
        AtomicInteger names = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, losses.size())), r -> {
            Thread t = new Thread(r, "softmax-lab-run-" + names.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<RunResult>> futures = new ArrayList<>();
            for (int i = 0; i < losses.size(); i++) {
                int index = i;
                futures.add(pool.submit(() -> {
                    try (Progress.Run display = progress.start(index, losses.size(), specs.get(index), steps, settings.epochs())) {
                        TrainedModel model = train(backend, losses.get(index), data, settings, display);
                        RunMetrics metrics;
                        try {
                            metrics = RunMetrics.of(model, data, extras.oneShot());
                            if (extras.save() != null) {
                                extras.save().accept(index, model);
                            }
                        } finally {
                            model.release();
                        }
                        RunResult result = new RunResult(specs.get(index), losses.get(index), model, metrics);
                        display.finished(result);
                        return result;
                    }
                }));
            }
            List<RunResult> results = new ArrayList<>();
            for (Future<RunResult> f : futures) {
                try {
                    results.add(f.get());
                } catch (ExecutionException e) {
                    for (Future<RunResult> other : futures) {
                        other.cancel(true);
                    }
                    Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException re) {
                        throw re;
                    }
                    if (cause instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(cause);
                }
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    /** One loss trained by the backend's engine (DJL's classes load only when it is asked for). */
    private static TrainedModel train(Backend backend, Loss loss, OpenSet data, TrainingSettings settings,
                                      Trainer.Listener listener) {
        return switch (backend.engine()) {
            case JAVA -> Trainer.train(loss, data.train(), data.knownTest(), settings, listener);
            case DJL -> DjlTrainer.train(loss, data.train(), data.knownTest(), settings, backend.model(), listener);
        };
    }
}
