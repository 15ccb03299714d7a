package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;
import dev.softmaxlosses.lab.Messages;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Image classes as folders: one or more folders or {@code .zip} archives (read in place by
 * {@link ImageArchive}) in which a class is a folder that directly holds image files
 * ({@link GreyImages#isImageName}). Classes may be nested ({@code alphabet/character/*.png}): a class is
 * named by its folder's path relative to the source's top with {@code /} between the parts
 * ({@code Greek/character01}). When every image of a source lies under one single top folder (as in
 * {@code images_background_small1/Greek/character01/0394_01.png}), that folder is left out of the names.
 * Images directly at the top (in no class folder) and other files are ignored.
 *
 * <p>Several sources are merged: a class with the same name in several sources is one class, and a file
 * name seen twice in one class is one image (the first source's). Classes are taken in natural order of
 * their names, images in natural order of their file names ({@code s2} before {@code s10}), so neither
 * depends on how a file system or an archive lists them.
 *
 * <p>The split is the {@linkplain FaceFolders face folders'}: of each class's images in natural order, the
 * last {@value #TEST_PERCENT}% (at least one, when the class has two or more) are the test set, the others
 * the training set. The ORL faces are such a folder, and load to the very numbers they always did.
 *
 * <p>Every image is made grey and scaled to {@code [0, 1]}; with a size, resized to {@code size x size} by
 * area averaging ({@link GreyImages}); without, every image must have the size of the first.
 */
public final class ImageFolders {

    /** The share of each class's images kept for testing, in percent. */
    public static final int TEST_PERCENT = 30;

    /** The largest Java array of floats: the training or test set of a data set is one. */
    static final long MAX_VALUES = Integer.MAX_VALUE - 8;

    private ImageFolders() {}

    /**
     * Whether {@code folder} holds an image class: an image file in a sub-folder, at any depth (hidden
     * files and folders, and {@code __MACOSX}, do not count).
     */
    public static boolean looksLikeImageFolder(Path folder) {
        try (Stream<Path> walk = Files.walk(folder, FileVisitOption.FOLLOW_LINKS)) {
            return walk.anyMatch(p -> {
                Path relative = folder.relativize(p);
                return relative.getNameCount() >= 2 && GreyImages.isImageName(p.getFileName().toString())
                        && !ImageArchive.skipped(relative.toString().replace('\\', '/')) && Files.isRegularFile(p);
            });
        } catch (IOException | UncheckedIOException e) {
            return false;
        }
    }

    /**
     * Loads the classes of {@code sources}, merged.
     *
     * @param sources folders or zip archives, as {@code --data} named them
     * @param size    the side every image is resized to, or null to keep the images' own size (which must
     *                then be the same for all)
     * @param invert  whether grey values become {@code 1 - v}
     * @param name    the data's name, as reports print it
     * @throws BadInputException for a source that is missing, neither a folder nor a zip archive, or corrupt;
     *                           a corrupt image (naming the archive and entry); fewer than 2 classes; images of
     *                           different sizes without a size; more images than memory holds
     */
    public static TrainTestSplit load(List<Path> sources, Integer size, boolean invert, String name) {
        return load(sources, size, invert, name, true);
    }

    /**
     * As {@link #load(List, Integer, boolean, String)}; {@code wholeClassesHeldOut} is the split's
     * {@link TrainTestSplit#heldOutWhole()} (false for the ORL faces, whose held-out classes have always
     * given only their test images).
     */
    static TrainTestSplit load(List<Path> sources, Integer size, boolean invert, String name, boolean wholeClassesHeldOut) {
        if (size != null) {
            GreyImages.checkSize(size); // before anything is read
        }
        List<ImageArchive> archives = new ArrayList<>();
        try {
            Map<String, Map<String, Ref>> classes = new TreeMap<>(ImageArchive::naturalOrder);
            for (Path source : sources) {
                ImageArchive archive = ImageArchive.open(source, "--data");
                archives.add(archive);
                collect(archive, archives.size() - 1, classes);
            }
            if (classes.size() < 2) {
                throw new BadInputException("--data " + describe(sources) + " holds " + classes.size()
                        + " class folder(s) with images; at least 2 are needed (one sub-folder of images per class,"
                        + " e.g. cat/1.png, dog/1.png)");
            }
            return read(archives, classes, size, invert, name, wholeClassesHeldOut);
        } finally {
            for (ImageArchive a : archives) {
                a.close();
            }
        }
    }

    /** Where an image lies: which archive, and its path there. */
    private record Ref(int archive, String file) {}

    /** Adds the classes of {@code archive}: its image files by class path, then by file name (first one wins). */
    private static void collect(ImageArchive archive, int index, Map<String, Map<String, Ref>> classes) {
        List<String> images = archive.files().stream().filter(f -> GreyImages.isImageName(f)).toList();
        String top = commonTop(images);
        for (String file : images) {
            String relative = top == null ? file : file.substring(top.length() + 1);
            int slash = relative.lastIndexOf('/');
            if (slash < 0) {
                continue; // an image in no class folder
            }
            String classPath = relative.substring(0, slash);
            String fileName = relative.substring(slash + 1);
            classes.computeIfAbsent(classPath, k -> new TreeMap<>(FaceFolders::naturalCompare))
                    .putIfAbsent(fileName, new Ref(index, file));
        }
    }

    /**
     * The single top folder under which every image lies with at least a class folder between, or null:
     * {@code images_background_small1} for {@code images_background_small1/Greek/character01/0394_01.png}.
     */
    static String commonTop(List<String> images) {
        String top = null;
        for (String f : images) {
            String[] parts = f.split("/");
            if (parts.length < 3 || (top != null && !top.equals(parts[0]))) {
                return null;
            }
            top = parts[0];
        }
        return top;
    }

    private static TrainTestSplit read(List<ImageArchive> archives, Map<String, Map<String, Ref>> classes, Integer size,
                                       boolean invert, String name, boolean wholeClassesHeldOut) {
        List<String> classNames = new ArrayList<>(classes.keySet());
        List<Ref> refs = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<Boolean> isTest = new ArrayList<>();
        int trainCount = 0;
        int testCount = 0;
        for (int c = 0; c < classNames.size(); c++) {
            List<Ref> files = new ArrayList<>(classes.get(classNames.get(c)).values());
            int n = files.size();
            int test = n < 2 ? 0 : Math.max(1, n * TEST_PERCENT / 100);
            for (int i = 0; i < n; i++) {
                refs.add(files.get(i));
                labels.add(c);
                boolean t = i >= n - test;
                isTest.add(t);
                if (t) {
                    testCount++;
                } else {
                    trainCount++;
                }
            }
        }
        // The first image sets the size when none is given; every other is checked against it.
        Ref first = refs.get(0);
        GreyImages.Grey firstGrey = GreyImages.decode(archives.get(first.archive()).read(first.file()),
                archives.get(first.archive()).describe(first.file()));
        int width = size != null ? size : firstGrey.width();
        int height = size != null ? size : firstGrey.height();
        int dim = Math.multiplyExact(width, height);
        requireRoom(refs.size(), dim, width, height, classNames.size());
        float[] trainFeatures = new float[trainCount * dim];
        float[] testFeatures = new float[testCount * dim];
        int[] trainLabels = new int[trainCount];
        int[] testLabels = new int[testCount];
        int[] slot = new int[refs.size()];
        int tr = 0;
        int te = 0;
        for (int i = 0; i < refs.size(); i++) {
            if (isTest.get(i)) {
                testLabels[te] = labels.get(i);
                slot[i] = te++;
            } else {
                trainLabels[tr] = labels.get(i);
                slot[i] = tr++;
            }
        }
        String firstName = archives.get(first.archive()).describe(first.file());
        AtomicReferenceArray<RuntimeException> errors = new AtomicReferenceArray<>(refs.size());
        IntStream.range(0, refs.size()).parallel().forEach(i -> {
            try {
                Ref ref = refs.get(i);
                ImageArchive archive = archives.get(ref.archive());
                String described = archive.describe(ref.file());
                GreyImages.Grey grey = i == 0 ? firstGrey : GreyImages.decode(archive.read(ref.file()), described);
                float[] row;
                if (size != null) {
                    row = GreyImages.resize(grey.values(), grey.width(), grey.height(), size);
                } else if (grey.width() != width || grey.height() != height) {
                    throw new BadInputException("image " + Messages.oneLine(described) + " is " + grey.width() + "x"
                            + grey.height() + ", but " + Messages.oneLine(firstName) + " is " + width + "x" + height
                            + "; every image must have the same size, or give --image-size N to resize them all to N x N");
                } else {
                    row = grey.values();
                }
                if (invert) {
                    for (int k = 0; k < row.length; k++) {
                        row[k] = 1f - row[k];
                    }
                }
                System.arraycopy(row, 0, isTest.get(i) ? testFeatures : trainFeatures, slot[i] * dim, dim);
            } catch (RuntimeException e) {
                errors.set(i, e);
            }
        });
        for (int i = 0; i < errors.length(); i++) {
            if (errors.get(i) != null) {
                throw errors.get(i); // the first bad image in the data's order, however the threads ran
            }
        }
        return new TrainTestSplit(name, new Dataset(name, trainFeatures, trainCount, dim, trainLabels, classNames, width),
                new Dataset(name, testFeatures, testCount, dim, testLabels, classNames, width), wholeClassesHeldOut);
    }

    /** Checks that {@code images x dim} floats fit a Java array and the memory left, before any is allocated. */
    private static void requireRoom(int images, int dim, int width, int height, int classes) {
        long values = (long) images * dim;
        String what = images + " images of " + width + "x" + height + " pixels in " + classes + " classes";
        if (values > MAX_VALUES) {
            throw new BadInputException(what + " are " + values + " values, more than a Java array holds (" + MAX_VALUES
                    + "); give a smaller --image-size or fewer images");
        }
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (4 * values > available) {
            System.gc();
            available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        }
        if (4 * values > available) {
            throw new BadInputException(what + " need about " + ((4 * values) >> 20) + " MB, more than the "
                    + (available >> 20) + " MB the JVM has left; give a smaller --image-size, fewer images, or more memory"
                    + " with SOFTMAX_LAB_JAVA_OPTS=-Xmx" + Math.max(2, 2 * (((4 * values) >> 30) + 1)) + "g");
        }
    }

    private static String describe(List<Path> sources) {
        List<String> names = sources.stream().map(p -> Messages.quote(p.toString())).toList();
        return String.join(" --data ", names);
    }

    /**
     * The group of each class name: its top-level folder, the part before the first {@code /}
     * ({@code Greek} for {@code Greek/character01}); when no name has a {@code /}, every class is in one
     * group, named {@code ""}.
     */
    public static List<String> groups(List<String> classNames) {
        boolean nested = classNames.stream().anyMatch(n -> n.contains("/"));
        List<String> groups = new ArrayList<>(classNames.size());
        for (String n : classNames) {
            int slash = n.indexOf('/');
            groups.add(!nested ? "" : slash < 0 ? n : n.substring(0, slash));
        }
        return List.copyOf(groups);
    }

    /** The classes of each group, in the classes' order; the groups in order of their first class. */
    public static Map<String, List<Integer>> classesByGroup(List<String> classNames) {
        Map<String, List<Integer>> byGroup = new LinkedHashMap<>();
        List<String> groups = groups(classNames);
        for (int c = 0; c < groups.size(); c++) {
            byGroup.computeIfAbsent(groups.get(c), k -> new ArrayList<>()).add(c);
        }
        return byGroup;
    }
}
