package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
    public static final int TEST_PERCENT = ImageFolders.TEST_PERCENT;

    private FaceFolders() {}

    /** Whether {@code folder} looks like a face folder: a sub-folder holding a {@code .pgm} file. */
    public static boolean looksLikeFaceFolder(Path folder) {
        try (Stream<Path> people = Files.list(folder)) {
            return people.filter(Files::isDirectory).anyMatch(p -> !images(p).isEmpty());
        } catch (IOException | BadInputException e) {
            return false;
        }
    }

    /**
     * Loads every person's images, scaled to [0, 1] by the maximum grey value: the {@link ImageFolders} of
     * {@code folder} at the images' own size, whose held-out classes give verification their test images only.
     */
    public static TrainTestSplit load(Path folder, String name) {
        return ImageFolders.load(List.of(folder), null, false, name, false);
    }

    private static List<Path> images(Path person) {
        try (Stream<Path> files = Files.list(person)) {
            return files.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".pgm"))
                    .filter(Files::isRegularFile).toList();
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
