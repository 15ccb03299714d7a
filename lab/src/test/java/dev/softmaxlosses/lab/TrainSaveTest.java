package dev.softmaxlosses.lab;

import dev.softmaxlosses.lab.data.IdxDatasets;
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
import java.util.List;
import java.util.stream.Stream;

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
        }
    }
}
