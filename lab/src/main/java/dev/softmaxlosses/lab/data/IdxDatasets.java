package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * MNIST-style data sets: four IDX files, {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
 * {@code t10k-images-idx3-ubyte} and {@code t10k-labels-idx1-ubyte}, each gzipped or not (also under
 * the original MNIST spelling {@code train-images.idx3-ubyte}). Pixels become floats in [0, 1].
 */
public final class IdxDatasets {

    /** The ten Fashion-MNIST classes, in label order (Zalando's names). */
    public static final List<String> FASHION_MNIST_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress",
            "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** The four files of a split, by their stem. */
    static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    static final List<String> STEMS = List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);

    private IdxDatasets() {}

    /**
     * Loads the four files of {@code folder}. Class names: Fashion-MNIST's when the folder's name says
     * {@code fashion}, otherwise the labels themselves ("0" to "9" for MNIST).
     */
    public static TrainTestSplit load(Path folder, String name) {
        List<String> missing = new ArrayList<>();
        Path[] files = new Path[STEMS.size()];
        for (int i = 0; i < files.length; i++) {
            files[i] = find(folder, STEMS.get(i));
            if (files[i] == null) {
                missing.add(STEMS.get(i) + "[.gz]");
            }
        }
        if (!missing.isEmpty()) {
            throw new BadInputException("the data folder " + folder + " lacks " + String.join(", ", missing)
                    + " (an MNIST-style folder holds the four IDX files)");
        }
        boolean fashion = folder.toAbsolutePath().normalize().toString().toLowerCase(Locale.ROOT).contains("fashion");
        return split(name, IdxFile.read(files[0]), files[0].toString(), IdxFile.read(files[1]), files[1].toString(),
                IdxFile.read(files[2]), files[2].toString(), IdxFile.read(files[3]), files[3].toString(),
                fashion ? FASHION_MNIST_CLASSES : null);
    }

    /** Whether {@code folder} holds at least the training images of an MNIST-style set. */
    public static boolean looksLikeIdxFolder(Path folder) {
        return find(folder, TRAIN_IMAGES) != null || find(folder, TRAIN_LABELS) != null;
    }

    /**
     * Loads the four files from class-path resources under {@code prefix} (each {@code STEM.gz}).
     * The bundled subset goes through here: the same reader as files on disk.
     */
    public static TrainTestSplit loadResources(String prefix, String name, List<String> classNames) {
        IdxFile[] parts = new IdxFile[STEMS.size()];
        for (int i = 0; i < parts.length; i++) {
            String resource = prefix + "/" + STEMS.get(i) + ".gz";
            try (InputStream in = IdxDatasets.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new BadInputException("the lab's jar lacks its bundled data " + resource + "; rebuild it");
                }
                parts[i] = IdxFile.read(in, resource);
            } catch (IOException e) {
                throw new BadInputException("cannot read the bundled data " + resource + ": " + e.getMessage());
            }
        }
        return split(name, parts[0], STEMS.get(0), parts[1], STEMS.get(1), parts[2], STEMS.get(2), parts[3], STEMS.get(3),
                classNames);
    }

    private static TrainTestSplit split(String name, IdxFile trainImages, String trainImagesName, IdxFile trainLabels,
                                        String trainLabelsName, IdxFile testImages, String testImagesName,
                                        IdxFile testLabels, String testLabelsName, List<String> classNames) {
        int classes = Math.max(maxLabel(trainLabels) + 1, maxLabel(testLabels) + 1);
        List<String> names = classNames;
        if (names == null) {
            names = new ArrayList<>();
            for (int c = 0; c < classes; c++) {
                names.add(Integer.toString(c));
            }
        } else if (classes > names.size()) {
            throw new BadInputException("the labels of " + name + " go up to " + (classes - 1) + ", but it has only "
                    + names.size() + " classes");
        }
        Dataset train = dataset(name, trainImages, trainImagesName, trainLabels, trainLabelsName, names);
        Dataset test = dataset(name, testImages, testImagesName, testLabels, testLabelsName, names);
        if (train.dim() != test.dim() || train.width() != test.width()) {
            throw new BadInputException("the training images of " + name + " are " + train.width() + "x" + train.height()
                    + " pixels, the test images " + test.width() + "x" + test.height());
        }
        return new TrainTestSplit(name, train, test);
    }

    /** Images ({@code count x rows x cols}) and their labels ({@code count}) as a data set. */
    static Dataset dataset(String name, IdxFile images, String imagesName, IdxFile labels, String labelsName,
                           List<String> classNames) {
        int[] d = images.dims();
        if (d.length != 3) {
            throw new BadInputException(imagesName + " holds " + d.length + "-dimensional data; images are 3-dimensional"
                    + " (count, rows, columns)");
        }
        int[] l = labels.dims();
        if (l.length != 1) {
            throw new BadInputException(labelsName + " holds " + l.length + "-dimensional data; labels are 1-dimensional");
        }
        if (d[0] != l[0]) {
            throw new BadInputException(imagesName + " holds " + d[0] + " images but " + labelsName + " "
                    + l[0] + " labels");
        }
        if (d[1] == 0 || d[2] == 0) {
            throw new BadInputException(imagesName + " holds images of " + d[1] + "x" + d[2] + " pixels; an image needs"
                    + " at least one");
        }
        int dim = d[1] * d[2];
        byte[] pixels = images.data();
        float[] features = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            features[i] = (pixels[i] & 0xff) / 255f;
        }
        byte[] raw = labels.data();
        int[] y = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            y[i] = raw[i] & 0xff;
        }
        return new Dataset(name, features, d[0], dim, y, classNames, d[2]);
    }

    private static int maxLabel(IdxFile labels) {
        int max = -1;
        for (byte b : labels.data()) {
            max = Math.max(max, b & 0xff);
        }
        return max;
    }

    /** The file of {@code stem} in {@code folder}: gzipped or not, dashed or dotted; null when absent. */
    static Path find(Path folder, String stem) {
        String dotted = stem.replace("-idx", ".idx");
        for (String candidate : List.of(stem + ".gz", stem, dotted + ".gz", dotted)) {
            Path p = folder.resolve(candidate);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }
}
