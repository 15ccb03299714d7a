package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** IDX files: round trips gzipped and plain, and every kind of damage refused with a message that names it. */
class IdxFileTest {

    @TempDir
    Path dir;

    private static IdxFile sample() {
        byte[] data = new byte[3 * 4 * 5];
        new Random(7).nextBytes(data);
        return new IdxFile(new int[] {3, 4, 5}, data);
    }

    @Test
    void roundTripsPlainAndGzipped() throws IOException {
        IdxFile original = sample();
        for (boolean gzip : new boolean[] {false, true}) {
            Path file = dir.resolve("images-" + gzip);
            original.write(file, gzip);
            byte[] head = Arrays.copyOf(Files.readAllBytes(file), 2);
            assertEquals(gzip, head[0] == (byte) 0x1f && head[1] == (byte) 0x8b, "gzip magic present exactly when asked");
            IdxFile back = IdxFile.read(file);
            assertArrayEquals(original.dims(), back.dims());
            assertArrayEquals(original.data(), back.data());
        }
    }

    @Test
    void writesTheHeaderOfTheFormat() throws IOException {
        Path file = dir.resolve("labels");
        new IdxFile(new int[] {2}, new byte[] {7, (byte) 255}).write(file, false);
        assertArrayEquals(new byte[] {0, 0, 8, 1, 0, 0, 0, 2, 7, (byte) 255}, Files.readAllBytes(file));
        assertEquals(255, IdxFile.read(file).data()[1] & 0xff, "values are unsigned");
    }

    private static String rejected(byte[] bytes) {
        BadInputException e = assertThrows(BadInputException.class,
                () -> IdxFile.read(new ByteArrayInputStream(bytes), "f.idx"));
        assertTrue(e.getMessage().startsWith("f.idx"), () -> "names the file: " + e.getMessage());
        return e.getMessage();
    }

    private static byte[] plain(IdxFile f) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {0, 0, 8, (byte) f.dims().length});
        for (int d : f.dims()) {
            out.write(new byte[] {(byte) (d >>> 24), (byte) (d >>> 16), (byte) (d >>> 8), (byte) d});
        }
        out.write(f.data());
        return out.toByteArray();
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        }
        return out.toByteArray();
    }

    @Test
    void rejectsAWrongMagicNumber() throws IOException {
        byte[] bytes = plain(sample());
        bytes[0] = 'P';
        assertTrue(rejected(bytes).contains("is not an IDX file"));
    }

    @Test
    void rejectsValueTypesOtherThanUnsignedBytes() throws IOException {
        byte[] bytes = plain(sample());
        bytes[2] = 0x0D;
        assertTrue(rejected(bytes).contains("type 0x0d"));
    }

    @Test
    void rejectsTruncatedData() throws IOException {
        byte[] bytes = plain(sample());
        String m = rejected(Arrays.copyOf(bytes, bytes.length - 1));
        assertTrue(m.contains("truncated") && m.contains("promises 60 bytes") && m.contains("holds 59"), m);
    }

    @Test
    void rejectsATruncatedHeader() throws IOException {
        assertTrue(rejected(Arrays.copyOf(plain(sample()), 9)).contains("ends inside its header"));
        assertTrue(rejected(new byte[] {0, 0}).contains("holds only 2 bytes"));
    }

    @Test
    void rejectsBytesAfterTheData() throws IOException {
        byte[] bytes = plain(sample());
        assertTrue(rejected(Arrays.copyOf(bytes, bytes.length + 3)).contains("3 bytes after"));
    }

    @Test
    void aGzipBombAfterTheDataIsCountedOnlyToABound() throws IOException {
        byte[] data = plain(sample());
        byte[] bomb = Arrays.copyOf(data, data.length + (64 << 20));
        String m = rejected(gzip(bomb));
        assertTrue(m.contains("more than 1048576 bytes after"), m);
    }

    @Test
    void rejectsATruncatedGzipStream() throws IOException {
        byte[] gz = gzip(plain(sample()));
        assertTrue(rejected(Arrays.copyOf(gz, gz.length / 2)).contains("truncated gzip"));
    }

    @Test
    void rejectsACorruptGzipStream() throws IOException {
        byte[] gz = gzip(plain(sample()));
        gz[3] = (byte) 0xff;   // reserved flag bits: not a valid gzip header
        String m = rejected(gz);
        assertTrue(m.contains("gzip"), m);
    }

    @Test
    void namesAMissingFile() {
        BadInputException e = assertThrows(BadInputException.class, () -> IdxFile.read(dir.resolve("absent.gz")));
        assertTrue(e.getMessage().contains("does not exist") && e.getMessage().contains("absent.gz"), e.getMessage());
    }

    @Test
    void loadsAFolderInEitherSpelling() throws IOException {
        Path gz = SyntheticData.writeIdxFolder(Files.createDirectory(dir.resolve("gz")), 4, 5, 2, true, 1);
        Path raw = SyntheticData.writeIdxFolder(Files.createDirectory(dir.resolve("raw")), 4, 5, 2, false, 1);
        TrainTestSplit a = IdxDatasets.load(gz, "a");
        TrainTestSplit b = IdxDatasets.load(raw, "b");
        assertEquals(20, a.train().size());
        assertEquals(8, a.test().size());
        assertEquals(36, a.train().dim());
        assertEquals(java.util.List.of("0", "1", "2", "3"), a.train().classNames(), "MNIST-style labels name themselves");
        assertArrayEquals(a.train().features(), b.train().features());
        assertArrayEquals(a.test().labels(), b.test().labels());
        // MNIST's original dotted names
        Files.move(raw.resolve("train-images-idx3-ubyte"), raw.resolve("train-images.idx3-ubyte"));
        assertArrayEquals(a.train().features(), IdxDatasets.load(raw, "b").train().features());
        for (float v : a.train().features()) {
            assertTrue(v >= 0 && v <= 1, "pixels scaled to [0, 1]");
        }
    }

    @Test
    void namesTheMissingFilesOfAFolder() throws IOException {
        Path folder = SyntheticData.writeIdxFolder(Files.createDirectory(dir.resolve("f")), 4, 5, 2, true, 1);
        Files.delete(folder.resolve("t10k-labels-idx1-ubyte.gz"));
        BadInputException e = assertThrows(BadInputException.class, () -> IdxDatasets.load(folder, "f"));
        assertTrue(e.getMessage().contains("lacks t10k-labels-idx1-ubyte[.gz]"), e.getMessage());
    }

    @Test
    void rejectsImagesAndLabelsOfDifferentCounts() throws IOException {
        Path folder = SyntheticData.writeIdxFolder(Files.createDirectory(dir.resolve("f")), 4, 5, 2, true, 1);
        new IdxFile(new int[] {3}, new byte[] {0, 1, 2}).write(folder.resolve("train-labels-idx1-ubyte.gz"), true);
        BadInputException e = assertThrows(BadInputException.class, () -> IdxDatasets.load(folder, "f"));
        assertTrue(e.getMessage().contains("holds 20 images but") && e.getMessage().contains("3 labels"), e.getMessage());
    }

    @Test
    void fashionFoldersGetZalandosClassNames() throws IOException {
        Path folder = SyntheticData.writeIdxFolder(Files.createDirectory(dir.resolve("my-fashion-copy")), 10, 2, 1, true, 1);
        assertEquals(IdxDatasets.FASHION_MNIST_CLASSES, IdxDatasets.load(folder, "x").train().classNames());
    }
}
