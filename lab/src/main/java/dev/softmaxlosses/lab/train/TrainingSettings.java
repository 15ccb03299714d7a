package dev.softmaxlosses.lab.train;

import java.util.Arrays;

/**
 * Everything that decides a training run besides the loss and the data. Two runs with equal settings
 * on equal data give the same numbers, bit for bit.
 *
 * @param hidden        hidden layer widths
 * @param embedding     the embedding's width (2 for the plots)
 * @param activation    the hidden layers' nonlinearity
 * @param batchNorm     whether the hidden layers are batch-normalised
 * @param epochs        passes over the training set
 * @param batchSize     samples per step
 * @param learningRate  the base learning rate
 * @param schedule      how the rate falls
 * @param momentum      SGD's momentum
 * @param weightDecay   L2 weight decay on weight matrices
 * @param seed          seeds the initial weights, the order of the batches and the augmentation
 * @param augment       what is done to each training image before the network sees it
 * @param partialFc     whether the margin family's class weights train in a Partial FC head, and how
 */
public record TrainingSettings(int[] hidden, int embedding, Activation activation, boolean batchNorm, int epochs,
                               int batchSize, double learningRate, Schedule schedule, double momentum,
                               double weightDecay, long seed, Augmentation augment, PartialFc partialFc) {

    /** Settings with the plain head. */
    public TrainingSettings(int[] hidden, int embedding, Activation activation, boolean batchNorm, int epochs,
                            int batchSize, double learningRate, Schedule schedule, double momentum, double weightDecay,
                            long seed, Augmentation augment) {
        this(hidden, embedding, activation, batchNorm, epochs, batchSize, learningRate, schedule, momentum, weightDecay,
                seed, augment, PartialFc.OFF);
    }

    /** Settings without augmentation. */
    public TrainingSettings(int[] hidden, int embedding, Activation activation, boolean batchNorm, int epochs,
                            int batchSize, double learningRate, Schedule schedule, double momentum, double weightDecay,
                            long seed) {
        this(hidden, embedding, activation, batchNorm, epochs, batchSize, learningRate, schedule, momentum, weightDecay,
                seed, Augmentation.NONE);
    }

    /** The widest layer the small trainer takes: wider ones are beyond what it is for, and soon beyond memory. */
    public static final int MAX_WIDTH = 1 << 16;

    public TrainingSettings {
        hidden = hidden.clone();
        java.util.Objects.requireNonNull(augment, "augment");
        java.util.Objects.requireNonNull(partialFc, "partialFc");
        for (int h : hidden) {
            if (h < 1 || h > MAX_WIDTH) {
                throw new IllegalArgumentException("--hidden sizes must be at " + (h < 1 ? "least 1" : "most " + MAX_WIDTH)
                        + ", got " + h);
            }
        }
        if (embedding < 1 || embedding > MAX_WIDTH) {
            throw new IllegalArgumentException("--embedding must be at " + (embedding < 1 ? "least 1" : "most " + MAX_WIDTH)
                    + ", got " + embedding);
        }
        for (int i = 0; i < hidden.length; i++) {
            long next = i + 1 < hidden.length ? hidden[i + 1] : embedding;
            if (hidden[i] * next > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("--hidden " + Arrays.toString(hidden).replaceAll("[\\[\\] ]", "")
                        + " with --embedding " + embedding + " makes a layer of " + hidden[i] + " x " + next
                        + " weights, more than a Java array holds; use narrower layers");
            }
        }
        if (epochs < 1) {
            throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
        }
        if (batchSize < 2) {
            throw new IllegalArgumentException("--batch-size must be at least 2, got " + batchSize);
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("--lr must be a finite number > 0, got " + learningRate);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("--momentum must lie in [0, 1), got " + momentum);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("--weight-decay must be a finite number >= 0, got " + weightDecay);
        }
    }

    @Override
    public int[] hidden() {
        return hidden.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainingSettings s && Arrays.equals(hidden, s.hidden) && embedding == s.embedding
                && activation == s.activation && batchNorm == s.batchNorm && epochs == s.epochs
                && batchSize == s.batchSize && Double.compare(learningRate, s.learningRate) == 0
                && schedule == s.schedule && Double.compare(momentum, s.momentum) == 0
                && Double.compare(weightDecay, s.weightDecay) == 0 && seed == s.seed && augment == s.augment
                && partialFc.equals(s.partialFc);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(hidden) * 31 + java.util.Objects.hash(embedding, activation, batchNorm, epochs, batchSize,
                learningRate, schedule, momentum, weightDecay, seed, augment, partialFc);
    }

    @Override
    public String toString() {
        return "hidden=" + Arrays.toString(hidden) + ", embedding=" + embedding + ", activation=" + activation
                + ", batchNorm=" + batchNorm + ", epochs=" + epochs + ", batchSize=" + batchSize + ", lr=" + learningRate
                + ", schedule=" + schedule + ", momentum=" + momentum + ", weightDecay=" + weightDecay + ", seed=" + seed
                + ", augment=" + augment.optionName() + (partialFc.on() ? ", partialFc=" + partialFc : "");
    }
}
