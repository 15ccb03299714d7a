package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The face-recognition protocol on any labelled data: some classes are held out of training
 * altogether, and the model is judged on whether its features tell their samples apart (open-set
 * verification) while the other classes give the usual test accuracy.
 *
 * @param name           the data's name
 * @param train          training samples of the known classes, labelled {@code 0 .. K-1}
 * @param knownTest      test samples of the known classes, labelled as {@code train}
 * @param heldOutTest    the held-out classes' samples for verification, labelled {@code 0 .. H-1}: their test
 *                       samples, or all their samples when the data says so ({@link TrainTestSplit#heldOutWhole()},
 *                       image folders), each class's training samples then its test samples; empty when
 *                       nothing is held out
 * @param knownClasses   the known classes' indices in the original data
 * @param heldOutClasses the held-out classes' indices in the original data
 * @param allClassNames  every class name of the original data
 * @param heldOutWhole   whether {@code heldOutTest} holds all the held-out classes' samples (training and test
 *                       split), as for image folders, rather than their test samples only
 */
public record OpenSet(String name, Dataset train, Dataset knownTest, Dataset heldOutTest, int[] knownClasses,
                      int[] heldOutClasses, List<String> allClassNames, boolean heldOutWhole) {

    /** A split whose held-out set is the held-out classes' test samples. */
    public OpenSet(String name, Dataset train, Dataset knownTest, Dataset heldOutTest, int[] knownClasses,
                   int[] heldOutClasses, List<String> allClassNames) {
        this(name, train, knownTest, heldOutTest, knownClasses, heldOutClasses, allClassNames, false);
    }

    /**
     * The default held-out classes: the last 30% of the classes, rounded up (7, 8, 9 of ten; the last 12
     * people of the 40 ORL faces). Three of ten leaves enough classes to learn an embedding from and
     * enough held-out pairs of different classes for a FAR of 1e-3 to mean something.
     */
    public static int[] defaultHeldOut(int classes) {
        int h = (int) Math.ceil(classes * 0.3);
        int[] heldOut = new int[h];
        for (int i = 0; i < h; i++) {
            heldOut[i] = classes - h + i;
        }
        return heldOut;
    }

    /**
     * Splits {@code data}, holding out {@code heldOut} (original class indices): none (then every class
     * trains and there is no verification), or at least two.
     */
    public static OpenSet of(TrainTestSplit data, int[] heldOut) {
        int classes = data.train().classes();
        boolean[] isHeldOut = new boolean[classes];
        for (int c : heldOut) {
            if (c < 0 || c >= classes) {
                throw new BadInputException("--held-out class " + c + " does not exist: " + data.name() + " has classes 0 to "
                        + (classes - 1));
            }
            if (isHeldOut[c]) {
                throw new BadInputException("--held-out class " + c + " is given twice");
            }
            isHeldOut[c] = true;
        }
        if (heldOut.length == 1) {
            throw new BadInputException("--held-out needs at least 2 classes (verification compares pairs of different"
                    + " held-out classes), got " + heldOut.length + "; or --held-out none to train on every class");
        }
        if (classes - heldOut.length < 2) {
            throw new BadInputException("--held-out leaves " + (classes - heldOut.length) + " of the " + classes
                    + " classes of " + data.name() + " for training; at least 2 are needed");
        }
        int[] known = new int[classes - heldOut.length];
        int[] held = heldOut.clone();
        Arrays.sort(held);
        int[] map = new int[classes];
        int k = 0;
        for (int c = 0; c < classes; c++) {
            if (!isHeldOut[c]) {
                map[c] = k;
                known[k++] = c;
            }
        }
        for (int i = 0; i < held.length; i++) {
            map[held[i]] = i;
        }
        List<String> names = data.train().classNames();
        Dataset train = relabel(data.train(), isHeldOut, false, map, pick(names, known));
        Dataset knownTest = relabel(data.test(), isHeldOut, false, map, pick(names, known));
        Dataset heldOutTest = data.heldOutWhole() ? whole(data, held, map, pick(names, held))
                : relabel(data.test(), isHeldOut, true, map, pick(names, held));
        if (train.size() == 0) {
            throw new BadInputException(data.name() + " has no training samples of the known classes");
        }
        if (knownTest.size() == 0 || (held.length > 0 && heldOutTest.size() < 2)) {
            throw new BadInputException(data.name() + " has too few test samples: " + knownTest.size() + " of the known classes, "
                    + heldOutTest.size() + " of the held-out ones");
        }
        return new OpenSet(data.name(), train, knownTest, heldOutTest, known, held, names, data.heldOutWhole());
    }

    /**
     * This split with at most {@code perClass} training samples of each class, the first in the data's
     * order; the test sets unchanged.
     */
    public OpenSet withTrainPerClass(int perClass) {
        if (perClass < 1) {
            throw new BadInputException("--train-per-class must be at least 1, got " + perClass);
        }
        int[] taken = new int[train.classes()];
        int[] rows = new int[train.size()];
        int n = 0;
        for (int i = 0; i < train.size(); i++) {
            if (taken[train.labels()[i]]++ < perClass) {
                rows[n++] = i;
            }
        }
        return n == train.size() ? this : new OpenSet(name, train.select(Arrays.copyOf(rows, n)), knownTest, heldOutTest,
                knownClasses, heldOutClasses, allClassNames, heldOutWhole);
    }

    /**
     * This split with every known class also entered rotated by 90, 180 and 270 degrees (clockwise), as
     * three new classes, in the training and the known test set alike: the class augmentation of the
     * Omniglot few-shot work (Santoro et al. 2016, Vinyals et al. 2016), where a turned character is
     * another character. The held-out classes stay as they are. Their names are the class's with
     * {@code @90}, {@code @180}, {@code @270}.
     *
     * @throws BadInputException when the samples are not square images
     */
    public OpenSet withClassRotations() {
        if (train.width() != train.height() || train.height() < 2) {
            throw new BadInputException("--class-rotations turns square images; the samples of " + name + " are "
                    + train.width() + "x" + train.height());
        }
        int k = train.classes();
        List<String> names = new ArrayList<>(train.classNames());
        List<String> all = new ArrayList<>(allClassNames);
        int[] known = Arrays.copyOf(knownClasses, 4 * k);
        for (int quarter = 1; quarter < 4; quarter++) {
            for (int c = 0; c < k; c++) {
                String rotated = train.classNames().get(c) + "@" + 90 * quarter;
                names.add(rotated);
                known[quarter * k + c] = all.size();
                all.add(rotated);
            }
        }
        return new OpenSet(name, rotations(train, names), rotations(knownTest, names), heldOutTest, known, heldOutClasses,
                all, heldOutWhole);
    }

    /** {@code d}'s samples, then three times turned a further quarter clockwise, labelled {@code quarter * k + c}. */
    private static Dataset rotations(Dataset d, List<String> names) {
        int n = d.size();
        int s = d.width();
        int dim = d.dim();
        int k = d.classes();
        float[] f = Arrays.copyOf(d.features(), Math.multiplyExact(4, n * dim));
        int[] labels = new int[4 * n];
        for (int quarter = 0; quarter < 4; quarter++) {
            for (int i = 0; i < n; i++) {
                labels[quarter * n + i] = quarter * k + d.labels()[i];
                if (quarter > 0) {
                    int from = ((quarter - 1) * n + i) * dim;
                    int to = (quarter * n + i) * dim;
                    for (int y = 0; y < s; y++) {
                        for (int x = 0; x < s; x++) {
                            f[to + y * s + x] = f[from + (s - 1 - x) * s + y];
                        }
                    }
                }
            }
        }
        return new Dataset(d.name(), f, 4 * n, dim, labels, names, s);
    }

    /** Whether classes are held out, and so open-set verification measured; false for {@code --held-out none}. */
    public boolean hasHeldOut() {
        return heldOutClasses.length > 0;
    }

    /** The number of classes trained on. */
    public int knownCount() {
        return knownClasses.length;
    }

    private static Dataset relabel(Dataset d, boolean[] isHeldOut, boolean keepHeldOut, int[] map, List<String> names) {
        int count = 0;
        for (int label : d.labels()) {
            if (isHeldOut[label] == keepHeldOut) {
                count++;
            }
        }
        int[] rows = new int[count];
        int r = 0;
        for (int i = 0; i < d.size(); i++) {
            if (isHeldOut[d.labels()[i]] == keepHeldOut) {
                rows[r++] = i;
            }
        }
        Dataset picked = d.select(rows);
        int[] labels = picked.labels().clone();
        for (int i = 0; i < labels.length; i++) {
            labels[i] = map[labels[i]];
        }
        return new Dataset(d.name(), picked.features(), picked.size(), picked.dim(), labels, names, d.width());
    }

    /** Every sample of the classes {@code held}, class by class, each class's training samples before its test samples. */
    private static Dataset whole(TrainTestSplit data, int[] held, int[] map, List<String> names) {
        Dataset train = data.train();
        Dataset test = data.test();
        int dim = train.dim();
        int count = 0;
        boolean[] isHeld = new boolean[train.classes()];
        for (int c : held) {
            isHeld[c] = true;
        }
        for (int label : train.labels()) {
            count += isHeld[label] ? 1 : 0;
        }
        for (int label : test.labels()) {
            count += isHeld[label] ? 1 : 0;
        }
        float[] features = new float[Math.multiplyExact(count, dim)];
        int[] labels = new int[count];
        int r = 0;
        for (int c : held) {
            for (Dataset d : List.of(train, test)) {
                for (int i = 0; i < d.size(); i++) {
                    if (d.labels()[i] == c) {
                        System.arraycopy(d.features(), i * dim, features, r * dim, dim);
                        labels[r++] = map[c];
                    }
                }
            }
        }
        return new Dataset(data.name(), features, count, dim, labels, names, train.width());
    }

    private static List<String> pick(List<String> names, int[] classes) {
        List<String> out = new ArrayList<>();
        for (int c : classes) {
            out.add(names.get(c));
        }
        return out;
    }
}
