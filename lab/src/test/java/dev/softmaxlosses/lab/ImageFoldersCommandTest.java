package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.softmaxlosses.lab.data.ImageFiles;
import dev.softmaxlosses.lab.data.SyntheticData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train --data} on folders and zip archives of images from the command line: nested classes held
 * out by their top-level folder, {@code --held-out none}, and one {@code error:} line for every bad input.
 */
class ImageFoldersCommandTest {

    @TempDir
    static Path shared;

    /** glyphs.zip: glyphs/{A,B,C}/{c1,c2}/1.png ... 10.png, 10x10 grey PNGs; each class a light blob of its own place. */
    static Path glyphs;

    @TempDir
    Path dir;

    @BeforeAll
    static void writeGlyphs() {
        glyphs = writeGlyphs(shared);
    }

    /** glyphs.zip in {@code folder}: 6 classes of 10 images (see {@link #glyphs}). */
    static Path writeGlyphs(Path folder) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        int cls = 0;
        for (String group : List.of("A", "B", "C")) {
            for (String c : List.of("c1", "c2")) {
                for (int i = 1; i <= 10; i++) {
                    files.put("glyphs/" + group + "/" + c + "/" + i + ".png", ImageFiles.png(blob(cls, i)));
                }
                cls++;
            }
        }
        return ImageFiles.writeZip(folder.resolve("glyphs.zip"), files);
    }

    /** A dark 10x10 image with a light 3x3 square whose place depends on the class, and a little noise. */
    private static java.awt.image.BufferedImage blob(int cls, int seed) {
        int[] v = new int[100];
        java.util.Random random = new java.util.Random(31L * cls + seed);
        for (int i = 0; i < 100; i++) {
            v[i] = random.nextInt(40);
        }
        int x0 = (cls % 3) * 3;
        int y0 = (cls / 3) * 3;
        for (int y = y0; y < y0 + 3; y++) {
            for (int x = x0; x < x0 + 3; x++) {
                v[y * 10 + x] = 220 + random.nextInt(36);
            }
        }
        return ImageFiles.grey(10, 10, v);
    }

    private static final List<String> FAST = List.of("--loss", "normface", "--epochs", "1", "--hidden", "8",
            "--batch-size", "8", "--quiet", "--threads", "1");

    private Cli.Run train(String... more) {
        List<String> args = new ArrayList<>(List.of("train"));
        args.addAll(FAST);
        args.addAll(Arrays.asList(more));
        if (!args.contains("--out")) {
            args.addAll(List.of("--out", dir.resolve("out").toString()));
        }
        return Cli.run(args.toArray(String[]::new));
    }

    // ---------------------------------------------------------------- runs that work

    @Test
    void trainsOnAZipOfNestedClassesHoldingOutATopLevelFolder() throws IOException {
        long start = System.nanoTime();
        Path out = dir.resolve("report");
        Cli.Run r = train("--data", glyphs.toString(), "--image-size", "8", "--held-out", "B", "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("softmax-lab train: 1 loss on glyphs (28 training samples of 4 classes; held out:"
                + " B (2 classes)), 1 at a time"), r.out());
        assertTrue(r.out().contains("TAR@1e-2"), r.out());
        JsonNode m = Cli.parse(Files.readString(out.resolve("metrics.json")));
        JsonNode s = m.get("settings");
        assertEquals("[\"A/c1\",\"A/c2\",\"C/c1\",\"C/c2\"]", s.get("known_classes").toString());
        assertEquals("[\"B/c1\",\"B/c2\"]", s.get("held_out_classes").toString());
        assertEquals(28, s.get("train_samples").asInt(), "7 of the 10 images of each known class");
        assertEquals(12, s.get("test_samples_known").asInt());
        assertEquals(20, s.get("test_samples_held_out").asInt(), "every image of the held-out classes");
        assertEquals(Set.of("test_accuracy", "tar_at_far_1e-2", "tar_at_far_1e-3", "eer", "ece", "mean_feature_norm",
                "train_seconds"), Cli.keys(m.get("runs").get("normface")));
        assertTrue(Files.exists(out.resolve("roc.png")) && Files.exists(out.resolve("held-out-features.png")));
        assertTrue(System.nanoTime() - start < 10e9, "a tiny run");
    }

    @Test
    void heldOutNoneTrainsOnEveryClassAndLeavesVerificationOut() throws IOException {
        Path out = dir.resolve("report");
        Cli.Run r = train("--data", glyphs.toString(), "--image-size", "4", "--invert", "--held-out", "none",
                "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("softmax-lab train: 1 loss on glyphs (42 training samples of 6 classes; held out:"
                + " none), 1 at a time"), r.out());
        assertFalse(r.out().contains("TAR") || r.out().contains("EER"), r.out());
        assertTrue(r.out().contains("test acc       ECE       |f|"), r.out());
        JsonNode m = Cli.parse(Files.readString(out.resolve("metrics.json")));
        assertEquals(Set.of("test_accuracy", "ece", "mean_feature_norm", "train_seconds"), Cli.keys(m.get("runs").get("normface")));
        assertEquals("[]", m.get("settings").get("held_out_classes").toString());
        assertEquals(0, m.get("settings").get("test_samples_held_out").asInt());
        String html = Files.readString(out.resolve("report.html"));
        assertFalse(html.contains("id=\"verification\"") || html.contains("TAR @ FAR") || html.contains("held-out-features")
                || html.contains("-held-out.png") || html.contains("roc.png"), html);
        assertTrue(html.contains("No class was held out"), html);
        assertFalse(Files.exists(out.resolve("roc.png")));
        assertFalse(Files.exists(out.resolve("held-out-features.png")));
    }

    @Test
    void severalFoldersAndZipsMergeIntoOneDataSet() throws IOException {
        Map<String, byte[]> more = new LinkedHashMap<>();
        for (int i = 1; i <= 10; i++) {
            more.put("D/c1/" + i + ".png", ImageFiles.png(blob(6, i)));
            more.put("D/c2/" + i + ".png", ImageFiles.png(blob(7, i)));
            more.put("A/c1/" + i + ".png", ImageFiles.png(blob(0, i)));   // the same files as glyphs.zip's A/c1
        }
        Path folder = ImageFiles.writeFolder(Files.createDirectory(dir.resolve("input-more")), more);
        Path out = dir.resolve("report");
        Cli.Run r = train("--data", glyphs.toString(), "--data", folder.toString(), "--image-size", "8",
                "--held-out", "C,D/c2", "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("softmax-lab train: 1 loss on glyphs+input-more (35 training samples of 5 classes;"
                + " held out: C (2 classes), D/c2), 1 at a time"), r.out());
    }

    // ---------------------------------------------------------------- bad input

    private void assertRejected(Cli.Run r, String... fragments) throws IOException {
        Cli.assertRejected(dir, r, fragments);
    }

    @Test
    void imageOptionsOnOtherDataAndBadSizes() throws IOException {
        assertRejected(train("--image-size", "8"), "--image-size applies to image folders and zip archives; --data"
                + " fashion-mnist-subset is the bundled Fashion-MNIST subset");
        Path idx = SyntheticData.writeIdxFolder(Files.createDirectory(dir.resolve("input-idx")), 6, 10, 4, false, 5);
        assertRejected(train("--data", idx.toString(), "--invert"), "--invert applies to image folders", "a folder of IDX files");
        assertRejected(train("--data", glyphs.toString(), "--image-size", "0"), "--image-size must lie in [1, 1024], got 0");
        assertRejected(train("--data", ""), "--data is empty", "leave --data out");
        assertRejected(train("--data", glyphs.toString(), "--data", " "), "--data is empty");
        assertRejected(train("--data", glyphs.toString(), "--image-size", "5000"), "--image-size must lie in [1, 1024], got 5000");
        assertRejected(train("--data", glyphs.toString(), "--data", "fashion-mnist-subset"),
                "--data fashion-mnist-subset is given with other --data", "only image folders and zip archives");
        assertRejected(train("--data", glyphs.toString(), "--data", idx.toString()), "holds MNIST-style IDX files",
                "only image folders and zip archives can be given several times");
    }

    @Test
    void missingCorruptAndUnfitData() throws IOException {
        assertRejected(train("--data", dir.resolve("input-nowhere.zip").toString()), "input-nowhere.zip: no such folder");
        assertRejected(train("--data", glyphs.toString(), "--data", dir.resolve("input-nowhere").toString()),
                "input-nowhere: no such folder or zip archive");
        Path text = Files.writeString(dir.resolve("input-text"), "hello");
        assertRejected(train("--data", text.toString()), "input-text is a file, and no zip archive");
        byte[] zip = Files.readAllBytes(glyphs);
        Path cut = Files.write(dir.resolve("input-cut.zip"), Arrays.copyOf(zip, zip.length - 200));
        assertRejected(train("--data", cut.toString()), "input-cut.zip is a corrupt zip archive");

        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("a/1.png", ImageFiles.png(blob(0, 1)));
        files.put("a/2.png", ImageFiles.png(blob(0, 2)));
        files.put("b/1.png", ImageFiles.png(blob(1, 1)));
        files.put("b/2.png", "no picture".getBytes());
        Path bad = ImageFiles.writeZip(dir.resolve("input-bad.zip"), files);
        assertRejected(train("--data", bad.toString(), "--image-size", "4"), "image " + bad + "!/b/2.png is not a PNG");

        files.put("b/2.png", ImageFiles.png(ImageFiles.pattern(12, 10, 1)));
        Path sizes = ImageFiles.writeZip(dir.resolve("input-sizes.zip"), files);
        assertRejected(train("--data", sizes.toString()), "b/2.png is 12x10, but", "a/1.png is 10x10",
                "every image must have the same size, or give --image-size N");

        Map<String, byte[]> one = new LinkedHashMap<>();
        one.put("only/1.png", ImageFiles.png(blob(0, 1)));
        Path single = ImageFiles.writeZip(dir.resolve("input-one.zip"), one);
        assertRejected(train("--data", single.toString()), "holds 1 class folder(s) with images; at least 2 are needed");
    }

    @Test
    void badHeldOutEntries() throws IOException {
        String data = glyphs.toString();
        assertRejected(train("--data", data, "--held-out", "Z"), "--held-out: 'Z' is neither a class index, a class name"
                + " nor a top-level folder (top-level folders: A, B, C; classes such as A/c1)");
        assertRejected(train("--data", data, "--held-out", "none,A"), "--held-out none holds out nothing");
        assertRejected(train("--data", data, "--held-out", "A,A/c1"), "--held-out: class 'A/c1' is given twice ('A' and 'A/c1')");
        assertRejected(train("--data", data, "--held-out", "A/c1"), "--held-out needs at least 2 classes", "--held-out none");
        assertRejected(train("--data", data, "--held-out", "A,B,C/c1"), "--held-out leaves 1 of the 6 classes");
    }
}
