package dev.softmaxlosses.lab.data;

import java.util.List;
import java.util.Objects;

/**
 * Labelled samples as the trainer reads them: {@code size} rows of {@code dim} values in [0, 1]
 * (pixels divided by their maximum), row-major, with one label per row in {@code [0, classes)}.
 * Class names come with the data so that plots and tables can say "Trouser" rather than "1".
 *
 * @param name       what the data is, as reports print it
 * @param features   {@code size x dim} values, row-major
 * @param size       the number of samples
 * @param dim        the number of values per sample
 * @param labels     one class index per sample
 * @param classNames one name per class; its length is the class count
 * @param width      for images, the width in pixels of the {@code dim / width} rows of a sample (a
 *                   convolutional network needs it); for other data {@code dim}, one row
 */
public record Dataset(String name, float[] features, int size, int dim, int[] labels, List<String> classNames,
                      int width) {

    public Dataset {
        Objects.requireNonNull(name, "name");
        classNames = List.copyOf(classNames);
        if (dim > 0 && (width < 1 || dim % width != 0)) {
            throw new IllegalArgumentException("a sample of " + dim + " values is no image " + width + " pixels wide");
        }
        if ((long) size * dim != features.length || labels.length != size) {
            throw new IllegalArgumentException("a dataset of " + size + " samples of " + dim + " values needs "
                    + (long) size * dim + " values and " + size + " labels, got " + features.length + " and " + labels.length);
        }
        for (int i = 0; i < size; i++) {
            if (labels[i] < 0 || labels[i] >= classNames.size()) {
                throw new IllegalArgumentException(name + ": label " + labels[i] + " of sample " + i
                        + " is out of range for " + classNames.size() + " classes");
            }
        }
    }

    /** Samples that are not images: one row of {@code dim} values each. */
    public Dataset(String name, float[] features, int size, int dim, int[] labels, List<String> classNames) {
        this(name, features, size, dim, labels, classNames, Math.max(1, dim));
    }

    /** For images, their height in pixels ({@code dim / width}); 1 for other data. */
    public int height() {
        return dim / width;
    }

    /** The number of classes (named or not present). */
    public int classes() {
        return classNames.size();
    }

    /**
     * The group of each class: its top-level folder, the first part of its name ({@code Greek} for
     * {@code Greek/character01}, an alphabet of Omniglot); when no class name has a {@code /}, every class is
     * in one group, {@code ""}. See {@link ImageFolders#groups} and {@link ImageFolders#classesByGroup}.
     */
    public List<String> classGroups() {
        return ImageFolders.groups(classNames);
    }

    /** How many samples each class has. */
    public int[] classCounts() {
        int[] counts = new int[classes()];
        for (int label : labels) {
            counts[label]++;
        }
        return counts;
    }

    /** The samples at {@code rows}, in that order, under the same class names. */
    public Dataset select(int[] rows) {
        float[] f = new float[Math.multiplyExact(rows.length, dim)];
        int[] l = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(features, rows[i] * dim, f, i * dim, dim);
            l[i] = labels[rows[i]];
        }
        return new Dataset(name, f, rows.length, dim, l, classNames, width);
    }
}
