package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PGM images and folders of faces: round trips, the plain format, comments, damage, the ORL layout. */
class PgmImageTest {

    @TempDir
    Path dir;

    private static PgmImage image(int width, int height, int maxGrey, int seed) {
        int[] pixels = new int[width * height];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (i * 37 + seed * 11) % (maxGrey + 1);
        }
        return new PgmImage(width, height, maxGrey, pixels);
    }

    @Test
    void roundTripsBinaryImagesOfOneAndTwoBytesPerPixel() {
        for (int maxGrey : new int[] {255, 15, 1023, 65535}) {
            PgmImage original = image(5, 3, maxGrey, 1);
            PgmImage back = PgmImage.parse(original.toBytes(), "x.pgm");
            assertEquals(5, back.width());
            assertEquals(3, back.height());
            assertEquals(maxGrey, back.maxGrey());
            assertArrayEquals(original.pixels(), back.pixels());
        }
    }

    @Test
    void readsThePlainFormatWithComments() {
        String text = "P2\n# made by hand\n3 2 # width height\n9\n0 1 2\n# a comment between rows\n7 8 9\n";
        PgmImage p = PgmImage.parse(text.getBytes(StandardCharsets.US_ASCII), "plain.pgm");
        assertArrayEquals(new int[] {0, 1, 2, 7, 8, 9}, p.pixels());
        assertEquals(9, p.maxGrey());
    }

    @Test
    void readsACommentInABinaryHeader() {
        byte[] body = image(2, 2, 255, 3).toBytes();
        String header = "P5\n2 2\n255\n";
        byte[] withComment = ("P5\n# ORL\n2 2\n255\n").getBytes(StandardCharsets.US_ASCII);
        byte[] bytes = Arrays.copyOf(withComment, withComment.length + 4);
        System.arraycopy(body, header.length(), bytes, withComment.length, 4);
        assertArrayEquals(image(2, 2, 255, 3).pixels(), PgmImage.parse(bytes, "c.pgm").pixels());
    }

    private static String rejected(byte[] bytes) {
        BadInputException e = assertThrows(BadInputException.class, () -> PgmImage.parse(bytes, "bad.pgm"));
        assertTrue(e.getMessage().startsWith("bad.pgm"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void refusesDamagedImages() {
        byte[] good = image(4, 4, 255, 2).toBytes();
        assertTrue(rejected("P6\n4 4\n255\n".getBytes(StandardCharsets.US_ASCII)).contains("expected P5 (binary) or P2 (plain)"));
        assertTrue(rejected(Arrays.copyOf(good, good.length - 3)).contains("truncated"));
        assertTrue(rejected("P5\n4 x\n255\n".getBytes(StandardCharsets.US_ASCII)).contains("the height is 'x'"));
        assertTrue(rejected("P5\n4 4\n".getBytes(StandardCharsets.US_ASCII)).contains("ends before the maximum grey value"));
        assertTrue(rejected("P5\n0 4\n255\n".getBytes(StandardCharsets.US_ASCII)).contains("0x4"));
        assertTrue(rejected("P2\n2 1\n9\n3 12\n".getBytes(StandardCharsets.US_ASCII)).contains("pixel 1 is 12"));
        assertTrue(rejected("P5\n2 1\n70000\n".getBytes(StandardCharsets.US_ASCII)).contains("70000"));
    }

    private void person(Path root, String name, int images, int width, int height) throws IOException {
        Path folder = Files.createDirectories(root.resolve(name));
        for (int i = 1; i <= images; i++) {
            Files.write(folder.resolve(i + ".pgm"), image(width, height, 255, i + name.length()).toBytes());
        }
    }

    @Test
    void loadsAFaceFolderInNaturalOrderWithTheDocumentedSplit() throws IOException {
        Path root = Files.createDirectory(dir.resolve("faces"));
        person(root, "s10", 10, 4, 5);
        person(root, "s2", 10, 4, 5);
        person(root, "s1", 4, 4, 5);
        Files.writeString(root.resolve("README"), "not a person");
        assertTrue(FaceFolders.looksLikeFaceFolder(root));
        TrainTestSplit split = FaceFolders.load(root, "faces");
        assertEquals(List.of("s1", "s2", "s10"), split.train().classNames());
        assertArrayEquals(new int[] {3, 7, 7}, split.train().classCounts(), "the last 30% (at least one) of each person is test");
        assertArrayEquals(new int[] {1, 3, 3}, split.test().classCounts());
        assertEquals(20, split.train().dim());
        // the first test image of s2 is 8.pgm (natural order: 1 ... 10)
        int[] expected = image(4, 5, 255, 8 + 2).pixels();
        int row = 1;   // s1 has one test image first
        for (int k = 0; k < 20; k++) {
            assertEquals(expected[k] / 255f, split.test().features()[row * 20 + k], 0f);
        }
    }

    @Test
    void refusesFacesOfDifferentSizes() throws IOException {
        Path root = Files.createDirectory(dir.resolve("faces"));
        person(root, "s1", 3, 4, 5);
        person(root, "s2", 3, 5, 4);
        BadInputException e = assertThrows(BadInputException.class, () -> FaceFolders.load(root, "faces"));
        assertTrue(e.getMessage().contains("is 5x4") && e.getMessage().contains("same size"), e.getMessage());
    }

    @Test
    void readsTheOrlFaces() {
        Path orl = Path.of(System.getProperty("project.root", "."), "..", "shared", "data", "orl-faces");
        Assumptions.assumeTrue(Files.isDirectory(orl), "the ORL faces are in ../shared/data beside the repository");
        TrainTestSplit split = FaceFolders.load(orl, "orl-faces");
        assertEquals(40, split.train().classes());
        assertEquals(280, split.train().size());
        assertEquals(120, split.test().size());
        assertEquals(92 * 112, split.train().dim());
    }
}
