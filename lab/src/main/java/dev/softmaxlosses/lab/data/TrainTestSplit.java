package dev.softmaxlosses.lab.data;

/**
 * A training set and a test set over the same classes, as a data source provides them.
 *
 * @param name  the data's name, as reports print it (e.g. {@code fashion-mnist-subset})
 * @param train the samples to learn from
 * @param test  the samples to measure on
 */
public record TrainTestSplit(String name, Dataset train, Dataset test) {

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
