package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A folder of faces in the ORL layout: one sub-folder per person ({@code s1} ... {@code s40}), each
 * holding that person's PGM images ({@code 1.pgm} ... {@code 10.pgm}). Every image must have the same
 * size. Folders and files are taken in natural order ({@code s2} before {@code s10}), so the classes
 * and the split do not depend on how the file system lists them.
 *
 * <p>There is no official split, so this one is fixed and documented: of each person's images in
 * natural order, the last {@value #TEST_PERCENT}% (at least one, when the person has two or more) are
 * the test set, the others the training set.
 */
public final class FaceFolders {

    /** The share of each person's images kept for testing, in percent. */
    public static final int TEST_PERCENT = 30;

    private FaceFolders() {}

    /** Whether {@code folder} looks like a face folder: a sub-folder holding a {@code .pgm} file. */
    public static boolean looksLikeFaceFolder(Path folder) {
        try (Stream<Path> people = Files.list(folder)) {
            return people.filter(Files::isDirectory).anyMatch(p -> !images(p).isEmpty());
        } catch (IOException | BadInputException e) {
            return false;
        }
    }

    /** Loads every person's images, scaled to [0, 1] by the maximum grey value. */
    public static TrainTestSplit load(Path folder, String name) {
        List<Path> people;
        try (Stream<Path> list = Files.list(folder)) {
            people = list.filter(Files::isDirectory).sorted(NATURAL).toList();
        } catch (IOException e) {
            throw new BadInputException("cannot list the face folder " + folder + ": " + e.getMessage());
        }
        List<String> classNames = new ArrayList<>();
        List<float[]> trainRows = new ArrayList<>();
        List<Integer> trainLabels = new ArrayList<>();
        List<float[]> testRows = new ArrayList<>();
        List<Integer> testLabels = new ArrayList<>();
        int width = -1;
        int height = -1;
        Path first = null;
        for (Path person : people) {
            List<Path> files = images(person);
            if (files.isEmpty()) {
                continue;
            }
            int label = classNames.size();
            classNames.add(person.getFileName().toString());
            int test = files.size() < 2 ? 0 : Math.max(1, files.size() * TEST_PERCENT / 100);
            for (int i = 0; i < files.size(); i++) {
                PgmImage image = PgmImage.read(files.get(i));
                if (first == null) {
                    first = files.get(i);
                    width = image.width();
                    height = image.height();
                } else if (image.width() != width || image.height() != height) {
                    throw new BadInputException("image " + files.get(i) + " is " + image.width() + "x" + image.height()
                            + ", but " + first + " is " + width + "x" + height + "; every face must have the same size");
                }
                float[] row = new float[image.pixels().length];
                for (int k = 0; k < row.length; k++) {
                    row[k] = image.pixels()[k] / (float) image.maxGrey();
                }
                boolean isTest = i >= files.size() - test;
                (isTest ? testRows : trainRows).add(row);
                (isTest ? testLabels : trainLabels).add(label);
            }
        }
        if (classNames.size() < 2) {
            throw new BadInputException("the face folder " + folder + " holds " + classNames.size()
                    + " person folder(s) with .pgm images; it needs at least 2 (one sub-folder per person)");
        }
        int dim = width * height;
        return new TrainTestSplit(name, stack(name, trainRows, trainLabels, dim, width, classNames),
                stack(name, testRows, testLabels, dim, width, classNames));
    }

    private static Dataset stack(String name, List<float[]> rows, List<Integer> labels, int dim, int width,
                                 List<String> classNames) {
        float[] features = new float[rows.size() * dim];
        int[] y = new int[rows.size()];
        for (int i = 0; i < y.length; i++) {
            System.arraycopy(rows.get(i), 0, features, i * dim, dim);
            y[i] = labels.get(i);
        }
        return new Dataset(name, features, y.length, dim, y, classNames, width);
    }

    private static List<Path> images(Path person) {
        try (Stream<Path> files = Files.list(person)) {
            return files.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".pgm"))
                    .filter(Files::isRegularFile).sorted(NATURAL).toList();
        } catch (IOException e) {
            throw new BadInputException("cannot list " + person + ": " + e.getMessage());
        }
    }

    /** Orders names with their digit runs compared as numbers: {@code s2 < s10}, {@code 9.pgm < 10.pgm}. */
    static final Comparator<Path> NATURAL = (a, b) -> naturalCompare(a.getFileName().toString(), b.getFileName().toString());

    static int naturalCompare(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i);
            char cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int si = i;
                int sj = j;
                while (i < a.length() && Character.isDigit(a.charAt(i))) {
                    i++;
                }
                while (j < b.length() && Character.isDigit(b.charAt(j))) {
                    j++;
                }
                String na = a.substring(si, i).replaceFirst("^0+(?=.)", "");
                String nb = b.substring(sj, j).replaceFirst("^0+(?=.)", "");
                int byLength = Integer.compare(na.length(), nb.length());
                if (byLength != 0) {
                    return byLength;
                }
                int byDigits = na.compareTo(nb);
                if (byDigits != 0) {
                    return byDigits;
                }
            } else {
                if (ca != cb) {
                    return Character.compare(ca, cb);
                }
                i++;
                j++;
            }
        }
        int rest = Integer.compare(a.length() - i, b.length() - j);
        return rest != 0 ? rest : a.compareTo(b);
    }
}
