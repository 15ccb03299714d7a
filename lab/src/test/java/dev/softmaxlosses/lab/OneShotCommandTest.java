package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.softmaxlosses.lab.saved.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code softmax-lab oneshot}: with a model that embeds a 2x2 image as its four grey values, the
 * nearest training image of every test image is known by hand, so the errors of a small fake of
 * Omniglot's runs (three runs of five classes) are too; episodes from image folders; every mistake one
 * {@code error:} line and exit status 2.
 */
class OneShotCommandTest {

    @TempDir
    static Path shared;

    static Path model;

    @TempDir
    Path dir;

    /** The training images of every run: four axes and the diagonal. */
    static final int[][] TRAINING = {{255, 0, 0, 0}, {0, 255, 0, 0}, {0, 0, 255, 0}, {0, 0, 0, 255}, {128, 128, 128, 128}};

    /**
     * Each run's test image of class k (1 to 5). run01: each a copy of its class's, no mistake. run02: the
     * test image of class 1 is class 2's axis, of class 5 nearly class 3's: 2 of 5 wrong. run03: class 4's
     * test image is the diagonal, class 5's: 1 of 5 wrong. Mean: (0 + 40 + 20) / 3 = 20%.
     */
    static final int[][][] TESTS = {
            {{255, 0, 0, 0}, {0, 255, 0, 0}, {0, 0, 255, 0}, {0, 0, 0, 255}, {120, 130, 125, 128}},
            {{0, 255, 0, 0}, {0, 200, 10, 0}, {5, 0, 250, 0}, {0, 0, 0, 90}, {0, 0, 255, 10}},
            {{240, 10, 0, 0}, {0, 255, 0, 30}, {0, 0, 255, 0}, {200, 200, 200, 200}, {100, 90, 110, 100}}};

    @BeforeAll
    static void saveModel() throws IOException {
        model = TestModels.identity(Files.createDirectory(shared.resolve("model")), 2, false, true);
    }

    static byte[] png(int[] grey) {
        BufferedImage image = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
        image.getRaster().setSamples(0, 0, 2, 2, 0, grey);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The fake runs' files under {@code prefix}; the test items listed in another order than their classes. */
    static Map<String, byte[]> runFiles(String prefix) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int r = 0; r < 3; r++) {
            String run = String.format("run%02d", r + 1);
            StringBuilder labels = new StringBuilder();
            for (int k = 0; k < 5; k++) {
                files.put(prefix + run + "/training/class" + (k + 1) + ".png", png(TRAINING[k]));
                // item m holds class (m + 2) % 5
                int item = (k + 3) % 5 + 1;
                files.put(prefix + run + "/test/item" + item + ".png", png(TESTS[r][k]));
                labels.append(run).append("/test/item").append(item).append(".png ").append(run).append("/training/class")
                        .append(k + 1).append(".png").append(r == 1 ? "\r\n" : "\n");
                if (r == 2 && k == 1) {
                    labels.append("\n  \n");
                }
            }
            files.put(prefix + run + "/class_labels.txt", labels.toString().getBytes(StandardCharsets.UTF_8));
        }
        return files;
    }

    static Path writeFolder(Path folder, Map<String, byte[]> files) throws IOException {
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Path p = folder.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, f.getValue());
        }
        return folder;
    }

    static Path writeZip(Path zip, Map<String, byte[]> files) throws IOException {
        try (OutputStream out = Files.newOutputStream(zip); ZipOutputStream z = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                z.putNextEntry(new ZipEntry(f.getKey()));
                z.write(f.getValue());
                z.closeEntry();
            }
        }
        return zip;
    }

    static final String RUNS_OUTPUT = """
            run01: 0.0% error (0 of 5 wrong)
            run02: 40.0% error (2 of 5 wrong)
            run03: 20.0% error (1 of 5 wrong)
            mean one-shot error: 20.0%
            """;

    @Test
    void classifiesTheRunsOfAFolderAsComputedByHand() throws IOException {
        Path runs = writeFolder(dir.resolve("runs"), runFiles(""));
        Path json = dir.resolve("oneshot.json");
        Cli.Run r = Cli.run("oneshot", "--model", model.toString(), "--runs", runs.toString(), "--output", json.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err());
        assertEquals(RUNS_OUTPUT, r.out());
        JsonNode j = Cli.parse(Files.readString(json));
        assertEquals(3, j.get("runs").size());
        assertEquals("run02", j.get("runs").get(1).get("run").asText());
        assertEquals(40.0, j.get("runs").get(1).get("error").asDouble());
        assertEquals(2, j.get("runs").get(1).get("wrong").asInt());
        assertEquals(5, j.get("runs").get(1).get("trials").asInt());
        assertEquals(20.0, j.get("mean_error").asDouble(), 1e-12);
        assertEquals(java.util.Set.of("runs", "mean_error"), fieldNames(j));
    }

    @Test
    void findsTheRunsAnywhereInAZip() throws IOException {
        Path zip = writeZip(dir.resolve("all_runs.zip"), runFiles("omniglot/all_runs/"));
        Cli.Run r = Cli.run("oneshot", "--model", model.toString(), "--runs", zip.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals(RUNS_OUTPUT, r.out());
    }

    @Test
    void aBadLineOrAMissingImageIsNamed() throws IOException {
        Map<String, byte[]> files = runFiles("all_runs/");
        files.put("all_runs/run02/class_labels.txt", "run02/test/item1.png run02/training/class1.png\nrun02/test/item2.png\n"
                .getBytes(StandardCharsets.UTF_8));
        Path runs = writeFolder(dir.resolve("bad"), files);
        Cli.Run r = Cli.run("oneshot", "--model", model.toString(), "--runs", runs.toString());
        assertEquals(2, r.status());
        assertEquals("error: " + runs.resolve("all_runs/run02/class_labels.txt") + " line 2: expected two paths,"
                + " 'runNN/test/ITEM runNN/training/CLASS', got 'run02/test/item2.png'\n", r.err());
        assertEquals("", r.out());

        files.put("all_runs/run02/class_labels.txt", "\nrun02/test/item9.png run02/training/class1.png\n"
                .getBytes(StandardCharsets.UTF_8));
        Path zip = writeZip(dir.resolve("bad.zip"), files);
        Cli.Run m = Cli.run("oneshot", "--model", model.toString(), "--runs", zip.toString());
        assertEquals(2, m.status());
        assertEquals("error: " + zip + "!/all_runs/run02/class_labels.txt line 2 names run02/test/item9.png, which is not in "
                + zip + " (looked for " + zip + "!/all_runs/run02/test/item9.png)\n", m.err());

        Cli.Run none = Cli.run("oneshot", "--model", model.toString(), "--runs", Files.createDirectory(dir.resolve("empty"))
                .toString());
        assertEquals(2, none.status());
        assertTrue(none.err().startsWith("error: --runs " + dir.resolve("empty") + " holds no one-shot runs"), none.err());
    }

    /** Two top-level folders: a has three classes, b two; every image of a class is the same, the classes apart. */
    private Path imageFolders(boolean sameImages) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        String[] classes = {"a/c1", "a/c2", "a/c3", "b/c1", "b/c2"};
        for (int c = 0; c < classes.length; c++) {
            for (int i = 0; i < 3; i++) {
                files.put("images_evaluation/" + classes[c] + "/" + i + ".png", png(sameImages ? TRAINING[0] : TRAINING[c]));
            }
        }
        return writeZip(dir.resolve(sameImages ? "same.zip" : "images.zip"), files);
    }

    @Test
    void drawsEpisodesWithinTopLevelFolders() throws IOException {
        Path zip = imageFolders(false);
        Path json = dir.resolve("episodes.json");
        Cli.Run r = Cli.run("oneshot", "--model", model.toString(), "--data", zip.toString(), "--way", "3", "--shot", "2",
                "--episodes", "10", "--output", json.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("10 episodes of 3-way 2-shot within 1 group (15 images of 5 classes): mean error 0.0%, 95% interval"
                + " 0.0% to 0.0%\nmean one-shot error: 0.0%\n", r.out());
        JsonNode j = Cli.parse(Files.readString(json));
        assertEquals(10, j.get("episodes").size());
        for (JsonNode e : j.get("episodes")) {
            assertEquals("a", e.get("group").asText(), "only a has three classes");
            assertEquals(3, e.get("trials").asInt());
        }
        assertEquals(java.util.Set.of("way", "shot", "seed", "episodes", "mean_error", "interval_95"), fieldNames(j));

        // Identical images: every prototype ties, the first class of the episode wins: 1 of 2 wrong each time.
        Cli.Run same = Cli.run("oneshot", "--model", model.toString(), "--data", imageFolders(true).toString(), "--way", "2",
                "--episodes", "7", "--seed", "3");
        assertEquals("7 episodes of 2-way 1-shot within 2 groups (15 images of 5 classes): mean error 50.0%, 95% interval"
                + " 50.0% to 50.0%\nmean one-shot error: 50.0%\n", same.out(), same.err());
    }

    private static java.util.Set<String> fieldNames(JsonNode j) {
        java.util.Set<String> names = new java.util.HashSet<>();
        j.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void everyMistakeIsOneErrorLine() throws IOException {
        String m = model.toString();
        Path data = imageFolders(false);
        Path runs = writeFolder(dir.resolve("runs"), runFiles(""));
        Map<String, String[]> cases = new LinkedHashMap<>();
        cases.put("error: Missing required option: '--model=FOLDER' (see softmax-lab oneshot --help)",
                new String[] {"--runs", runs.toString()});
        cases.put("error: give --runs PATH (Omniglot's one-shot runs) or --data PATH (image folders for N-way K-shot episodes)",
                new String[] {"--model", m});
        cases.put("error: give --runs or --data, not both", new String[] {"--model", m, "--runs", runs.toString(), "--data",
                data.toString()});
        cases.put("error: --way sets the episodes of --data; the runs of --runs are fixed",
                new String[] {"--model", m, "--runs", runs.toString(), "--way", "5"});
        cases.put("error: --way must be at least 2 (an episode chooses between classes), got 1",
                new String[] {"--model", m, "--data", data.toString(), "--way", "1"});
        cases.put("error: --shot must be at least 1, got 0", new String[] {"--model", m, "--data", data.toString(), "--shot", "0"});
        cases.put("error: --episodes must be at least 1, got 0",
                new String[] {"--model", m, "--data", data.toString(), "--episodes", "0"});
        cases.put("error: no group (top-level folder) has 4 classes with at least 2 samples each for 4-way 1-shot episodes"
                        + " (the most in one group: 3); lower --way or --shot, or give data with more classes per folder",
                new String[] {"--model", m, "--data", data.toString(), "--way", "4"});
        cases.put("error: --model " + dir.resolve("nothing") + ": no such folder; give the folder that softmax-lab train --save wrote",
                new String[] {"--model", dir.resolve("nothing").toString(), "--data", data.toString()});
        cases.put("error: --output " + dir + " is a folder, expected a file name",
                new String[] {"--model", m, "--data", data.toString(), "--output", dir.toString()});
        for (Map.Entry<String, String[]> c : cases.entrySet()) {
            String[] args = new String[c.getValue().length + 1];
            args[0] = "oneshot";
            System.arraycopy(c.getValue(), 0, args, 1, c.getValue().length);
            Cli.Run r = Cli.run(args);
            assertEquals(2, r.status(), c.getKey());
            assertEquals(c.getKey() + "\n", r.err());
            assertEquals("", r.out());
        }
    }

    @Test
    void aDamagedModelOrOneWithoutImagesIsRefused() throws IOException {
        Path damaged = TestModels.identity(Files.createDirectory(dir.resolve("damaged")), 2, false, true);
        Files.writeString(damaged.resolve("weights.bin"), "SLMW");
        Path runs = writeFolder(dir.resolve("runs"), runFiles(""));
        Cli.Run r = Cli.run("oneshot", "--model", damaged.toString(), "--runs", runs.toString());
        assertEquals(2, r.status());
        assertEquals("error: saved model file " + damaged.resolve("weights.bin") + ": it ends early (the file is truncated)\n",
                r.err());

        Path rows = TestModels.identity(Files.createDirectory(dir.resolve("rows")), 2, false, false);
        Path json = dir.resolve("out.json");
        Cli.Run s = Cli.run("oneshot", "--model", rows.toString(), "--runs", runs.toString(), "--output", json.toString());
        assertEquals(2, s.status());
        assertEquals("error: --model " + rows + " keeps no image preprocessing (it was trained on data other than image"
                + " folders, or on oblong images without --image-size); oneshot needs a model trained on image folders\n",
                s.err());
        assertFalse(Files.exists(json), "nothing written");
    }
}
