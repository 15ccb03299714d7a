package dev.softmaxlosses.lab.train;

import dev.softmaxlosses.Loss;
import dev.softmaxlosses.lab.data.Dataset;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Trains an {@link Mlp} with a loss's {@link Head} by SGD. Small on purpose: it exists to feed the
 * losses. Every run with the same settings starts from the same initial network and sees the same
 * batches in the same order, whatever the loss, so a comparison of losses compares only the losses.
 * A run uses one thread, so its numbers do not depend on how many runs go at once.
 */
public final class Trainer {

    /** Hears about a run's progress; called on the training thread. */
    public interface Listener {
        /** After each step: {@code done} of {@code total} steps. */
        void stepDone(long done, long total);

        /** After each epoch. */
        default void epochDone(EpochStats stats) {}
    }

    /** A loss that turned the network's numbers into NaN or infinity. */
    public static final class DivergedException extends RuntimeException {
        public DivergedException(String message) {
            super(message, null, false, false);
        }
    }

    private Trainer() {}

    /**
     * Trains on {@code train} and measures the test accuracy on {@code test} after each epoch.
     *
     * @throws DivergedException when the loss or the features stop being finite
     */
    public static MlpModel train(Loss loss, Dataset train, Dataset test, TrainingSettings s, Listener listener) {
        long start = System.nanoTime();
        Random init = new Random(s.seed());
        Random order = new Random(s.seed() * 0x9E3779B97F4A7C15L + 1);
        Random distortions = augmentationRandom(s.seed());
        Mlp network = new Mlp(train.dim(), s.hidden(), s.embedding(), s.activation(), s.batchNorm(), init);
        Head head = Head.forLoss(loss, s.embedding(), train.classes(), init, s);
        List<Parameter> parameters = new ArrayList<>(network.parameters());
        parameters.addAll(head.parameters());
        Sgd sgd = new Sgd(parameters, s.momentum(), s.weightDecay());

        int n = train.size();
        int batch = Math.min(s.batchSize(), n);
        // A last batch of one sample has no batch statistics; it is dropped (the next epoch reshuffles).
        int steps = n / batch + (n % batch >= 2 ? 1 : 0);
        long total = (long) steps * s.epochs();
        int[] permutation = new int[n];
        for (int i = 0; i < n; i++) {
            permutation[i] = i;
        }
        int dim = train.dim();
        List<EpochStats> history = new ArrayList<>();
        long done = 0;
        try {
            for (int epoch = 1; epoch <= s.epochs(); epoch++) {
                shuffle(permutation, order);
                double lossSum = 0;
                double targetSum = 0;
                double normSum = 0;
                long correct = 0;
                long seen = 0;
                double rate = 0;
                for (int step = 0; step < steps; step++) {
                    if (Thread.currentThread().isInterrupted()) {
                        throw new java.util.concurrent.CancellationException("training was interrupted");
                    }
                    int from = step * batch;
                    int size = Math.min(batch, n - from);
                    float[] x = new float[size * dim];
                    int[] y = new int[size];
                    for (int r = 0; r < size; r++) {
                        int row = permutation[from + r];
                        System.arraycopy(train.features(), row * dim, x, r * dim, dim);
                        y[r] = train.labels()[row];
                    }
                    s.augment().apply(x, size, train.width(), train.height(), distortions);
                    float[] embedding = network.forward(x, size, true);
                    rate = s.schedule().rate(s.learningRate(), (int) done, steps, s.epochs());
                    Head.Step result;
                    try {
                        result = head.train(embedding, size, y, rate);
                    } catch (IllegalArgumentException e) {
                        throw new DivergedException(loss.spec() + " diverged in epoch " + epoch + ": " + e.getMessage());
                    }
                    if (!Double.isFinite(result.loss())) {
                        throw new DivergedException(loss.spec() + " diverged in epoch " + epoch + ": the loss became "
                                + result.loss());
                    }
                    network.backward(result.gradEmbedding());
                    sgd.step(rate);
                    lossSum += result.loss() * size;
                    targetSum += result.targetProbability();
                    correct += result.correct();
                    seen += size;
                    normSum += sumOfNorms(embedding, size, s.embedding());
                    done++;
                    listener.stepDone(done, total);
                }
                TrainedModel snapshot = new MlpModel(network, head, history, 0);
                double testAccuracy = accuracy(snapshot, test);
                EpochStats stats = new EpochStats(epoch, rate, lossSum / seen, (double) correct / seen, testAccuracy,
                        targetSum / seen, normSum / seen);
                history.add(stats);
                listener.epochDone(stats);
            }
        } finally {
            head.finish();
        }
        return new MlpModel(network, head, List.copyOf(history), (System.nanoTime() - start) / 1e9);
    }

    /** The share of {@code data} whose inference logits pick the right class. */
    public static double accuracy(TrainedModel model, Dataset data) {
        if (data.size() == 0) {
            return Double.NaN;
        }
        float[] e = model.embed(data);
        float[] logits = model.logits(e, data.size());
        int c = model.classes();
        int right = 0;
        for (int r = 0; r < data.size(); r++) {
            if (Head.argmax(logits, r * c, c) == data.labels()[r]) {
                right++;
            }
        }
        return (double) right / data.size();
    }

    /** The source of a run's augmentation, apart from the initial weights' and the batch order's. */
    public static Random augmentationRandom(long seed) {
        return new Random(seed * 0xD1B54A32D192ED03L + 2);
    }

    /** Fisher-Yates with the run's own random source. */
    private static void shuffle(int[] a, Random random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    private static double sumOfNorms(float[] e, int n, int d) {
        double sum = 0;
        for (int r = 0; r < n; r++) {
            double sq = 0;
            for (int k = 0; k < d; k++) {
                sq += (double) e[r * d + k] * e[r * d + k];
            }
            sum += Math.sqrt(sq);
        }
        return sum;
    }
}
