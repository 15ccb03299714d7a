package dev.softmaxlosses.lab;

import dev.softmaxlosses.lab.data.Dataset;
import dev.softmaxlosses.lab.data.OpenSet;
import dev.softmaxlosses.lab.djl.DjlTrainer;
import dev.softmaxlosses.lab.metrics.Verification;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.train.TrainedModel;
import dev.softmaxlosses.lab.train.TrainingSettings;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What can be known to fail before any training, checked once the data is loaded: a run should not
 * end in an error after all its epochs. The held-out test images must give verification its pairs,
 * and the networks (their weights, gradients and momentum, and a batch's activations, for every run
 * that trains at once) must fit in the memory the JVM has left and in Java arrays.
 */
final class Preflight {

    /** The largest Java array. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private Preflight() {}

    static void check(OpenSet data, TrainingSettings settings, Backend backend, int atOnce) {
        verificationPairs(data);
        if (backend.engine() == Backend.Engine.JAVA) {
            memory(data, settings, atOnce);
        } else {
            String unfit = DjlTrainer.unfit(backend.model(), data.train());
            if (unfit != null) {
                throw new BadInputException(unfit);
            }
        }
    }

    /** Verification scores pairs of held-out test images: it needs two of one class, and two classes. */
    private static void verificationPairs(OpenSet data) {
        if (!data.hasHeldOut()) {
            return;
        }
        Dataset held = data.heldOutTest();
        long[] pairs = Verification.pairCounts(held.size(), held.labels());
        if (pairs[0] > 0 && pairs[1] > 0) {
            return;
        }
        int[] counts = held.classCounts();
        List<String> perClass = new ArrayList<>();
        for (int c = 0; c < counts.length; c++) {
            perClass.add(held.classNames().get(c) + ": " + counts[c]);
        }
        String what = pairs[0] == 0
                ? "no two test images of one held-out class (genuine pairs)"
                : "test images of only one held-out class (no impostor pairs)";
        throw new BadInputException("open-set verification would have " + what + "; the held-out classes' test images"
                + " are " + Messages.list(perClass, 8) + ". Hold out classes with at least two test images each"
                + " (--held-out), or give each class more images");
    }

    /**
     * The largest arrays and the memory of {@code atOnce} runs: per run, 3 floats per weight (value,
     * gradient, momentum), a batch's activations and their gradients (about 8 floats per unit), and
     * the embedding and logits of the largest test set.
     */
    private static void memory(OpenSet data, TrainingSettings s, int atOnce) {
        int[] hidden = s.hidden();
        int classes = data.knownCount();
        long batch = Math.min(s.batchSize(), data.train().size());
        long weights = 0;
        long units = 0;
        long width = data.train().dim();
        String biggest = null;
        long biggestSize = 0;
        for (int i = 0; i <= hidden.length; i++) {
            long next = i < hidden.length ? hidden[i] : s.embedding();
            long layer = width * next;
            if (layer > biggestSize) {
                biggestSize = layer;
                biggest = width + " x " + next;
            }
            weights += layer + 4 * next;
            units += next;
            width = next;
        }
        long head = (long) s.embedding() * classes;
        weights += head;
        long largestTest = Math.max(data.knownTest().size(), data.heldOutTest().size());
        long activations = 8 * batch * (units + data.train().dim() + classes)
                + (long) TrainedModel.CHUNK * (units + data.train().dim())
                + largestTest * (s.embedding() + classes);
        String network = String.format(Locale.ROOT, "the network (%d inputs, --hidden %s, --embedding %d, %d classes)",
                data.train().dim(), hidden.length == 0 ? "none" : join(hidden), s.embedding(), classes);
        if (biggestSize > MAX_ARRAY || head > MAX_ARRAY || batch * Math.max(width, classes) > MAX_ARRAY) {
            throw new BadInputException(network + " has a layer of " + (biggestSize >= head ? biggest
                    : s.embedding() + " x " + classes) + " weights, more than a Java array holds (" + MAX_ARRAY
                    + "); use narrower layers");
        }
        SoftmaxLab.requireMemory(4 * atOnce * (3 * weights + activations), network + " for " + atOnce + " run"
                + (atOnce == 1 ? "" : "s") + " at once", "use narrower layers or fewer --threads");
    }

    private static String join(int[] sizes) {
        StringBuilder b = new StringBuilder();
        for (int h : sizes) {
            b.append(b.isEmpty() ? "" : ",").append(h);
        }
        return b.toString();
    }
}
