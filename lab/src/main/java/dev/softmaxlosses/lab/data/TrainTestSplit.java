package dev.softmaxlosses.lab.data;

/**
 * A training set and a test set over the same classes, as a data source provides them.
 *
 * @param name  the data's name, as reports print it (e.g. {@code fashion-mnist-subset})
 * @param train the samples to learn from
 * @param test  the samples to measure on
 * @param heldOutWhole whether a class held out of training gives open-set verification all its samples,
 *              training and test split alike (image folders: every drawing of an unseen class), or only
 *              its test samples (the bundled, IDX and face data sets, as they always have)
 */
public record TrainTestSplit(String name, Dataset train, Dataset test, boolean heldOutWhole) {

    /** A split whose held-out classes give verification their test samples only. */
    public TrainTestSplit(String name, Dataset train, Dataset test) {
        this(name, train, test, false);
    }

    public TrainTestSplit {
        if (!train.classNames().equals(test.classNames())) {
            throw new IllegalArgumentException("the training and test sets of " + name + " have different classes");
        }
        if (train.dim() != test.dim()) {
            throw new IllegalArgumentException("the training samples of " + name + " have " + train.dim()
                    + " values, the test samples " + test.dim());
        }
    }
}
