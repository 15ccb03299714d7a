package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Image classes in folders and zips: naming, nesting, merging, the split, sizes, the held-out set, errors. */
class ImageFoldersTest {

    @TempDir
    Path dir;

    /** {@code count} 3x3 PNGs {@code 1.png ...} in {@code classPath}, image {@code i} the pattern of seed {@code seed + i}. */
    private static void put(Map<String, byte[]> files, String classPath, int count, int seed) {
        for (int i = 1; i <= count; i++) {
            files.put(classPath + "/" + i + ".png", ImageFiles.png(ImageFiles.pattern(3, 3, seed + i)));
        }
    }

    private static float[] row(Dataset d, int r) {
        return Arrays.copyOfRange(d.features(), r * d.dim(), (r + 1) * d.dim());
    }

    @Test
    void nestedClassesAreNamedByTheirPathAndSplitAsTheFacesAre() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        put(files, "Latin/character10", 10, 0);
        put(files, "Latin/character2", 3, 100);
        put(files, "Greek/character01", 1, 200);
        put(files, "Greek", 2, 300);               // a folder that holds images and a class folder: two classes
        files.put("README.txt", new byte[] {1});
        files.put("Latin/notes.txt", new byte[] {1});
        files.put("loose.png", ImageFiles.png(ImageFiles.pattern(3, 3, 9)));   // in no class folder: ignored
        Path folder = ImageFiles.writeFolder(dir.resolve("alphabets"), files);
        assertTrue(ImageFolders.looksLikeImageFolder(folder));

        TrainTestSplit split = ImageFolders.load(List.of(folder), null, false, "alphabets");
        List<String> classes = List.of("Greek", "Greek/character01", "Latin/character2", "Latin/character10");
        assertEquals(classes, split.train().classNames());
        assertEquals(List.of("Greek", "Greek", "Latin", "Latin"), split.train().classGroups());
        // the last 30% of each class (at least one of two or more) are test: 2 -> 1, 1 -> 0, 3 -> 1, 10 -> 3
        assertArrayEquals(new int[] {1, 1, 2, 7}, split.train().classCounts());
        assertArrayEquals(new int[] {1, 0, 1, 3}, split.test().classCounts());
        assertTrue(split.heldOutWhole());
        assertEquals(9, split.train().dim());
        assertEquals(3, split.train().width());
        // Latin/character10's test images are 8.png, 9.png, 10.png (natural order), its training images 1 ... 7
        assertArrayEquals(ImageFiles.patternValues(3, 3, 8), row(split.test(), 2), 0f);
        assertArrayEquals(ImageFiles.patternValues(3, 3, 10), row(split.test(), 4), 0f);
        assertArrayEquals(ImageFiles.patternValues(3, 3, 1), row(split.train(), 4), 0f);
    }

    @Test
    void aSingleTopFolderIsLeftOutOfTheNames() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        put(files, "images_background_small1/Greek/character01", 2, 0);
        put(files, "images_background_small1/Latin/character01", 2, 10);
        files.put("__MACOSX/images_background_small1/Greek/character01/._1.png", new byte[] {0});
        files.put("images_background_small1/.DS_Store", new byte[] {0});
        Path zip = ImageFiles.writeZip(dir.resolve("small1.zip"), files);
        TrainTestSplit split = ImageFolders.load(List.of(zip), null, false, "small1");
        assertEquals(List.of("Greek/character01", "Latin/character01"), split.train().classNames());

        // one level of classes under one top folder: the top folder goes, the classes stay
        Map<String, byte[]> flat = new LinkedHashMap<>();
        put(flat, "faces/s1", 2, 0);
        put(flat, "faces/s2", 2, 0);
        Path flatZip = ImageFiles.writeZip(dir.resolve("faces.zip"), flat);
        assertEquals(List.of("s1", "s2"), ImageFolders.load(List.of(flatZip), null, false, "faces").train().classNames());
        assertEquals("faces", ImageFolders.commonTop(List.of("faces/s1/1.png", "faces/s2/1.png")));
        assertEquals(null, ImageFolders.commonTop(List.of("s1/1.png", "s2/1.png")));
        assertEquals(null, ImageFolders.commonTop(List.of("a/s1/1.png", "b/s2/1.png")));
    }

    @Test
    void sourcesMergeClassByClassAndAFileSeenTwiceIsOneImage() {
        Map<String, byte[]> first = new LinkedHashMap<>();
        put(first, "set1/Greek/character01", 4, 0);
        put(first, "set1/Korean/character01", 2, 50);
        Map<String, byte[]> second = new LinkedHashMap<>();
        // the same Greek files (1 ... 4, different bytes: the first source's must win) and one more
        for (int i = 1; i <= 5; i++) {
            second.put("set2/Greek/character01/" + i + ".png", ImageFiles.png(ImageFiles.pattern(3, 3, 1000 + i)));
        }
        put(second, "set2/Tagalog/character01", 3, 70);
        Path a = ImageFiles.writeZip(dir.resolve("set1.zip"), first);
        Path b = ImageFiles.writeFolder(dir.resolve("set2"), second);   // a folder and a zip merge alike

        TrainTestSplit split = ImageFolders.load(List.of(a, b), null, false, "merged");
        assertEquals(List.of("Greek/character01", "Korean/character01", "Tagalog/character01"), split.train().classNames());
        int[] total = new int[3];
        for (Dataset d : List.of(split.train(), split.test())) {
            int[] counts = d.classCounts();
            for (int c = 0; c < 3; c++) {
                total[c] += counts[c];
            }
        }
        assertArrayEquals(new int[] {5, 2, 3}, total, "Greek: 4 files of the first source and 5.png of the second");
        // Greek's training images 1 ... 4 are the first source's; its test image, 5.png, the second's
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(ImageFiles.patternValues(3, 3, i + 1), row(split.train(), i), 0f);
        }
        assertArrayEquals(ImageFiles.patternValues(3, 3, 1005), row(split.test(), 0), 0f);

        // the other order: the second source's Greek 1 ... 4 win
        TrainTestSplit other = ImageFolders.load(List.of(b, a), null, false, "merged");
        assertArrayEquals(ImageFiles.patternValues(3, 3, 1001), row(other.train(), 0), 0f);
    }

    @Test
    void resizesAndInvertsEveryImage() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("dark/1.png", ImageFiles.png(ImageFiles.grey(2, 2, 0, 0, 0, 0)));
        files.put("dark/2.jpg", ImageFiles.encode(ImageFiles.grey(4, 4, new int[16]), "jpeg"));
        files.put("light/1.pgm", new PgmImage(3, 1, 255, new int[] {255, 255, 255}).toBytes());
        files.put("light/2.png", ImageFiles.png(ImageFiles.grey(1, 1, 255)));
        Path zip = ImageFiles.writeZip(dir.resolve("mixed.zip"), files);

        BadInputException e = assertThrows(BadInputException.class, () -> ImageFolders.load(List.of(zip), null, false, "mixed"));
        assertTrue(e.getMessage().contains("image " + zip + "!/dark/2.jpg is 4x4, but " + zip + "!/dark/1.png is 2x2")
                && e.getMessage().contains("same size") && e.getMessage().contains("--image-size"), e.getMessage());

        TrainTestSplit split = ImageFolders.load(List.of(zip), 2, true, "mixed");
        assertEquals(4, split.train().dim());
        assertEquals(2, split.train().width());
        assertArrayEquals(new float[] {1, 1, 1, 1, 0, 0, 0, 0}, split.train().features(), 0.01f);
        assertArrayEquals(new float[] {1, 1, 1, 1, 0, 0, 0, 0}, split.test().features(), 0.01f);
    }

    @Test
    void theHeldOutClassesOfImageFoldersGiveAllTheirImages() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        put(files, "A/x", 4, 0);
        put(files, "A/y", 4, 10);
        put(files, "B/x", 4, 20);
        put(files, "B/y", 4, 30);
        TrainTestSplit split = ImageFolders.load(List.of(ImageFiles.writeFolder(dir.resolve("ab"), files)), null, false, "ab");
        OpenSet set = OpenSet.of(split, new int[] {2, 3});
        assertTrue(set.heldOutWhole());
        assertEquals(List.of("B/x", "B/y"), set.heldOutTest().classNames());
        assertArrayEquals(new int[] {0, 0, 0, 0, 1, 1, 1, 1}, set.heldOutTest().labels(), "every image, class by class");
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(ImageFiles.patternValues(3, 3, 21 + i), row(set.heldOutTest(), i), 0f, "in natural order");
        }
        assertEquals(6, set.train().size());
        assertEquals(2, set.knownTest().size());

        OpenSet faces = OpenSet.of(new TrainTestSplit("ab", split.train(), split.test()), new int[] {2, 3});
        assertFalse(faces.heldOutWhole());
        assertEquals(2, faces.heldOutTest().size(), "other data: the held-out classes' test images only");

        OpenSet none = OpenSet.of(split, new int[0]);
        assertFalse(none.hasHeldOut());
        assertEquals(4, none.knownCount());
        assertEquals(12, none.train().size());
        assertEquals(0, none.heldOutTest().size());
    }

    @Test
    void groupsAreTheTopLevelFolders() {
        assertEquals(List.of("Greek", "Greek", "Latin", "loose"),
                ImageFolders.groups(List.of("Greek/a", "Greek/b/c", "Latin/a", "loose")));
        assertEquals(List.of("", "", ""), ImageFolders.groups(List.of("s1", "s2", "s3")), "flat names: one group");
        assertEquals(Map.of("Greek", List.of(0, 1), "Latin", List.of(2)),
                ImageFolders.classesByGroup(List.of("Greek/a", "Greek/b", "Latin/a")));
    }

    @Test
    void refusesTooFewClassesAndCorruptImages() throws IOException {
        Map<String, byte[]> one = new LinkedHashMap<>();
        put(one, "only", 3, 0);
        Path folder = ImageFiles.writeFolder(dir.resolve("one"), one);
        BadInputException e = assertThrows(BadInputException.class, () -> ImageFolders.load(List.of(folder), null, false, "one"));
        assertTrue(e.getMessage().contains("holds 1 class folder(s) with images; at least 2 are needed"), e.getMessage());

        Map<String, byte[]> files = new LinkedHashMap<>();
        put(files, "a", 2, 0);
        put(files, "b", 2, 0);
        byte[] good = files.get("b/2.png");
        files.put("b/2.png", Arrays.copyOf(good, good.length / 2));
        files.put("c/1.png", "not an image".getBytes());
        Path zip = ImageFiles.writeZip(dir.resolve("bad.zip"), files);
        e = assertThrows(BadInputException.class, () -> ImageFolders.load(List.of(zip), 2, false, "bad"));
        assertTrue(e.getMessage().startsWith("image " + zip + "!/b/2.png is corrupt"), "the first bad image: " + e.getMessage());

        e = assertThrows(BadInputException.class, () -> ImageFolders.load(List.of(zip), 0, false, "bad"));
        assertEquals("--image-size must lie in [1, 1024], got 0", e.getMessage());
    }

    @Test
    void refusesMoreValuesThanAnArrayHoldsBeforeAllocatingThem() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        byte[] dot = ImageFiles.png(ImageFiles.grey(1, 1, 7));
        for (int i = 0; i < 2100; i++) {
            files.put("c" + (i % 2) + "/" + i + ".png", dot);
        }
        Path zip = ImageFiles.writeZip(dir.resolve("many.zip"), files);
        // 2100 images of 1024 x 1024 floats: 2.2 billion values
        BadInputException e = assertThrows(BadInputException.class, () -> ImageFolders.load(List.of(zip), 1024, false, "many"));
        assertTrue(e.getMessage().startsWith("2100 images of 1024x1024 pixels in 2 classes are 2202009600 values, more than"
                + " a Java array holds"), e.getMessage());
    }
}
