package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.softmaxlosses.lab.data.GreyImages;
import dev.softmaxlosses.lab.data.IdxDatasets;
import dev.softmaxlosses.lab.data.ImageFiles;
import dev.softmaxlosses.lab.data.SyntheticData;
import dev.softmaxlosses.lab.data.TrainTestSplit;
import dev.softmaxlosses.lab.report.ReportFolder;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.saved.ModelInfo;
import dev.softmaxlosses.lab.saved.SavedModel;
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
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train --save FOLDER}: the model is written with the report, loads again, replaces only a model
 * the lab saved, and a refused or failed run leaves nothing behind.
 */
class TrainSaveTest {

    @TempDir
    static Path shared;

    static Path data;

    @TempDir
    Path dir;

    @BeforeAll
    static void syntheticData() throws IOException {
        data = SyntheticData.writeIdxFolder(Files.createDirectory(shared.resolve("images8")), 6, 12, 6, true, 5, 8);
    }

    /** {@code train} with {@code more}, then each default option that {@code more} does not give. */
    private Cli.Run train(String... more) {
        List<String> args = new ArrayList<>(List.of("train"));
        args.addAll(Arrays.asList(more));
        String[][] defaults = {{"--loss", "cosface:s=8,m=0.1"}, {"--data", data.toString()}, {"--held-out", "4,5"},
                {"--epochs", "1"}, {"--batch-size", "16"}, {"--hidden", "8"}, {"--embedding", "3"}, {"--quiet"},
                {"--out", dir.resolve("report").toString()}};
        for (String[] option : defaults) {
            boolean cnn = args.contains("cnn");
            if (!args.contains(option[0]) && !(cnn && option[0].equals("--hidden"))) {
                args.addAll(Arrays.asList(option));
            }
        }
        return Cli.run(args.toArray(String[]::new));
    }

    private static List<String> listing(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void savesTheTrainedModelBesideTheReport() throws IOException {
        Path model = dir.resolve("model");
        Cli.Run r = train("--save", model.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("\nmodel: " + model.toAbsolutePath() + "\nreport: "), r.out());
        assertEquals(List.of(ReportFolder.Kind.MODEL.marker(), "model.json", "weights.bin"), listing(model));
        TrainTestSplit split = IdxDatasets.load(data, "images8");
        try (SavedModel saved = SavedModel.load(model)) {
            ModelInfo info = saved.info();
            assertEquals("cosface:s=8,m=0.1", info.loss());
            assertEquals(Backend.JAVA_MLP, info.backend());
            assertEquals(List.of("0", "1", "2", "3"), info.classNames());
            assertEquals(64, info.dim());
            assertEquals(3, saved.embed(split.test()).length / split.test().size());
        }
        // A model the lab saved is replaced whole.
        Cli.Run again = train("--save", model.toString(), "--seed", "2");
        assertEquals(0, again.status(), again.err());
        assertEquals(List.of(ReportFolder.Kind.MODEL.marker(), "model.json", "weights.bin"), listing(model));
        assertTrue(Files.readString(model.resolve("model.json")).contains("\"seed\" : 2"));
        assertEquals(List.of("model", "report"), listing(dir), "no hidden folder or lock is left");
    }

    @Test
    void aFolderWithOtherFilesIsRefusedBeforeAnyWork() throws IOException {
        Path model = Files.createDirectory(dir.resolve("mine"));
        Files.writeString(model.resolve("notes.txt"), "mine");
        Cli.Run r = train("--save", model.toString());
        assertEquals(2, r.status());
        assertEquals("error: --save " + model + " holds files the lab did not write (notes.txt); the lab replaces only an"
                + " empty folder or one of its own models: give a new folder, for example --save " + model.resolve("model")
                + ", or move those files away\n", r.err());
        assertEquals("", r.out());
        assertEquals(List.of("mine"), listing(dir), "no report, nothing beside");
        assertEquals(List.of("notes.txt"), listing(model));
    }

    @Test
    void aReportIsNoModelAndAModelIsNoReport() throws IOException {
        assertEquals(0, train().status());
        Path report = dir.resolve("report");
        Cli.Run r = train("--save", report.toString(), "--out", dir.resolve("other").toString());
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("error: --save " + report + " holds files the lab did not write"), r.err());

        Path model = dir.resolve("model");
        assertEquals(0, train("--save", model.toString(), "--out", dir.resolve("r2").toString()).status());
        Cli.Run s = train("--out", model.toString());
        assertEquals(2, s.status());
        assertTrue(s.err().startsWith("error: --out " + model + " holds files the lab did not write"), s.err());
    }

    @Test
    void theReportsFolderIsNotTheModelsFolder() {
        Path report = dir.resolve("report");
        assertEquals("error: --save " + report + " is the report's folder " + report + "; give the model a folder of its own,"
                + " for example --save lab-models/mine\n", train("--save", report.toString()).err());
        assertTrue(train("--save", report.resolve("model").toString()).err().startsWith("error: --save " + report.resolve("model")
                + " lies in the report's folder"));
        assertTrue(train("--save", dir.toString()).err().startsWith("error: --save " + dir + " holds the report's folder"));
        assertFalse(Files.exists(report));
    }

    @Test
    void aFailedRunSavesNothing() throws IOException {
        Path model = dir.resolve("model");
        Cli.Run r = train("--save", model.toString(), "--batch-size", "1000");
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("error: --batch-size 1000 is larger than"), r.err());
        assertEquals(List.of(), listing(dir), "no model, no report, no hidden folder");
    }

    /**
     * Image folders: group "seen" of 4 classes trains, group "unseen" of 20 classes (2 images each) is held
     * out; the model keeps its preprocessing, the report adds the 20-way 1-shot error on the held-out
     * classes, and oneshot reads images as training did.
     */
    @Test
    void imageFoldersKeepTheirPreprocessingAndMeasureOneShot() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int c = 0; c < 4; c++) {
            for (int i = 0; i < 6; i++) {
                files.put("seen/c" + c + "/" + i + ".png", ImageFiles.png(ImageFiles.pattern(6, 6, c * 10 + i)));
            }
        }
        for (int c = 0; c < 20; c++) {
            for (int i = 0; i < 2; i++) {
                files.put("unseen/u" + c + "/" + i + ".png", ImageFiles.png(ImageFiles.pattern(6, 6, 100 + c * 3 + i)));
            }
        }
        Path images = ImageFiles.writeZip(dir.resolve("images.zip"), files);
        Path model = dir.resolve("model");
        Cli.Run r = train("--data", images.toString(), "--image-size", "4", "--invert", "--held-out", "unseen", "--save",
                model.toString());
        assertEquals(0, r.status(), r.err());
        String header = r.out().lines().filter(l -> l.startsWith("loss ")).findFirst().orElseThrow();
        assertTrue(header.endsWith("   1-shot   seconds"), r.out());
        assertTrue(r.out().contains("(1-shot: error of 20-way 1-shot episodes on the held-out classes, 400 episodes"), r.out());
        JsonNode metrics = Cli.parse(Files.readString(dir.resolve("report/metrics.json")));
        double error = metrics.get("runs").get("cosface:s=8,m=0.1").get("one_shot_error").asDouble();
        assertTrue(error >= 0 && error <= 1, "one-shot error " + error);
        assertTrue(Files.readString(dir.resolve("report/report.html")).contains(">1-shot error</th>"));
        try (SavedModel saved = SavedModel.load(model)) {
            assertEquals(new GreyImages(4, true), saved.info().images());
            assertEquals(16, saved.info().dim());
        }

        Cli.Run o = Cli.run("oneshot", "--model", model.toString(), "--data", images.toString(), "--way", "5",
                "--episodes", "20");
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().matches("20 episodes of 5-way 1-shot within 1 group \\(64 images of 24 classes\\): mean error"
                + " [0-9.]+%, 95% interval -?[0-9.]+% to [0-9.]+%\nmean one-shot error: [0-9.]+%\n"), o.out());
    }

    @Test
    void savesADjlNetwork() throws IOException {
        Path model = dir.resolve("cnn");
        Cli.Run r = train("--save", model.toString(), "--engine", "djl", "--model", "cnn");
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of(ReportFolder.Kind.MODEL.marker(), "model.json", "network-0000.params"), listing(model));
        TrainTestSplit split = IdxDatasets.load(data, "images8");
        try (SavedModel saved = SavedModel.load(model)) {
            assertEquals(new Backend(Backend.Engine.DJL, Backend.Model.CNN), saved.info().backend());
            float[] e = saved.embed(split.test());
            assertEquals(split.test().size() * 3, e.length);
            // A single image goes through as two equal rows (so that PyTorch does not try NNPACK): the same numbers.
            float[] one = saved.embed(java.util.Arrays.copyOf(split.test().features(), split.test().dim()), 1);
            assertArrayEquals(java.util.Arrays.copyOf(e, 3), one);
        }
    }
}
