package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.softmaxlosses.lab.data.SyntheticData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --engine djl}: DJL (PyTorch's CPU engine) trains the lab's MLP or LeNet++ through the
 * softmax-losses-djl adapters, into the same report; a seed repeats its numbers; impossible choices are
 * one {@code error:} line. Small generated images (8x8, which LeNet++'s three poolings take down to 1x1).
 */
class DjlEngineTest {

    @TempDir
    static Path shared;

    static Path images;
    static Path tiny;
    static Path images16;

    @TempDir
    Path dir;

    @BeforeAll
    static void syntheticData() throws IOException {
        images = SyntheticData.writeIdxFolder(Files.createDirectory(shared.resolve("images8")), 6, 12, 6, true, 5, 8);
        tiny = SyntheticData.writeIdxFolder(Files.createDirectory(shared.resolve("images6")), 6, 12, 6, true, 5);
        images16 = SyntheticData.writeIdxFolder(Files.createDirectory(shared.resolve("images16")), 6, 12, 6, true, 5, 16);
    }

    private Cli.Run run(String command, Path data, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of(command, "--engine", "djl", "--data", data.toString(), "--held-out", "4,5",
                "--epochs", "1", "--batch-size", "16", "--out", out.toString()));
        args.addAll(Arrays.asList(more));
        return Cli.run(args.toArray(String[]::new));
    }

    @ParameterizedTest
    @ValueSource(strings = {"cnn", "mlp"})
    void trainsOneEpochIntoTheUsualReport(String model) throws IOException {
        Path out = dir.resolve(model);
        List<String> more = new ArrayList<>(List.of("--model", model, "--loss", "softmax_cross_entropy", "--loss",
                "arcface:s=8,m=0.2", "--threads", "2"));
        if (model.equals("mlp")) {
            more.addAll(List.of("--hidden", "8"));
        }
        Cli.Run r = run("compare", images, out, more.toArray(String[]::new));
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("softmax-lab compare: 2 losses on images8 (48 training samples of 4 classes; held out: 4, 5),"
                + " 2 at a time (engine djl, model " + model + ")"), r.out());
        assertTrue(r.out().contains("TAR@1e-2") && r.out().contains("arcface:s=8,m=0.2") && r.out().contains("report: "), r.out());
        // Not a terminal: one line per run on stderr, nothing else (no engine's log or warning).
        for (String line : r.err().lines().toList()) {
            assertTrue(line.matches("\\[[12]/2] (softmax_cross_entropy|arcface:s=8,m=0.2): 1 epochs in [0-9.]+ s, test accuracy [0-9.]+"),
                    r.err());
        }
        assertEquals(2, r.err().lines().count(), r.err());

        JsonNode m = Cli.parse(Files.readString(out.resolve("metrics.json")));
        assertEquals("djl", m.get("settings").get("engine").asText());
        assertEquals(model, m.get("settings").get("model").asText());
        assertEquals(model.equals("mlp"), m.get("settings").has("hidden"));
        for (JsonNode run : m.get("runs")) {
            double accuracy = run.get("test_accuracy").asDouble();
            assertTrue(accuracy >= 0 && accuracy <= 1 && run.get("mean_feature_norm").asDouble() > 0, run.toString());
        }
        for (String png : List.of("features.png", "held-out-features.png", "roc.png", "01-softmax_cross_entropy-curves.png",
                "02-arcface-features.png")) {
            assertTrue(Files.size(out.resolve(png)) > 0, png);
        }
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains(model.equals("cnn") ? "8x8 image → 5x5 conv 32, 32" : "input → 8 + batch norm"), "architecture");
        assertTrue(html.contains("trained with DJL on PyTorch"), "engine");
    }

    @Test
    void conv4TrainsWithDistortedImagesAndRepeatsItsNumbers() throws IOException {
        String[] args = {"--model", "conv4", "--loss", "softmax_cross_entropy", "--loss", "arcface:s=8,m=0.2",
                "--augment", "affine", "--quiet"};
        Cli.Run r = run("compare", images16, dir.resolve("a"), args);
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().contains("(engine djl, model conv4)"), r.out());
        assertTrue(Files.readString(dir.resolve("a/report.html")).contains("16x16 image → 4 x (3x3 conv 64 + batch norm"
                + " + prelu → 2x2 max-pool)"), "architecture");
        assertEquals("affine", Cli.parse(Files.readString(dir.resolve("a/metrics.json"))).at("/settings/augment").asText());
        assertEquals(0, run("compare", images16, dir.resolve("b"), args).status());
        assertEquals(withoutTimes(dir.resolve("a")), withoutTimes(dir.resolve("b")), "the distortions are seeded");
        String[] plain = Arrays.copyOf(args, args.length);
        plain[plain.length - 2] = "none";
        assertEquals(0, run("compare", images16, dir.resolve("c"), plain).status());
        assertNotEquals(withoutTimes(dir.resolve("a")), withoutTimes(dir.resolve("c")), "the distortions change the run");
    }

    @Test
    void subCenterArcFaceTrainsAndDrawsEachClassByItsFirstSubCentre() throws IOException {
        Cli.Run r = run("train", images, dir.resolve("sub"), "--model", "mlp", "--hidden", "8", "--quiet",
                "--loss", "subcenter_arcface:s=8,m=0.2,k=2");
        assertEquals(0, r.status(), r.err());
        assertTrue(Files.size(dir.resolve("sub/features.png")) > 0);
    }

    @Test
    void thePartialFcHeadTrainsBehindDjlsNetworkAndRepeatsItsNumbers() throws IOException {
        String[] args = {"--model", "mlp", "--hidden", "8", "--quiet", "--loss", "arcface:s=8,m=0.2", "--loss",
                "adaface:s=8", "--shards", "3", "--sample-rate", "0.5"};
        Cli.Run r = run("compare", images, dir.resolve("a"), args);
        assertEquals(0, r.status(), r.err());
        JsonNode m = Cli.parse(Files.readString(dir.resolve("a/metrics.json")));
        assertEquals(3, m.at("/settings/partial_fc/shards").asInt());
        assertEquals(0.5, m.at("/settings/partial_fc/sample_rate").asDouble());
        for (JsonNode run : m.get("runs")) {
            assertTrue(run.get("test_accuracy").asDouble() > 0.5, run.toString());
        }
        assertEquals(0, run("compare", images, dir.resolve("b"), args).status());
        assertEquals(withoutTimes(dir.resolve("a")), withoutTimes(dir.resolve("b")), "seeded: the same numbers");
    }

    @Test
    void perSampleLossesTrainOnTheirSum() {
        Cli.Run r = run("train", images, dir.resolve("none"), "--model", "mlp", "--hidden", "8", "--quiet",
                "--loss", "softmax_cross_entropy:reduction=none");
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err());
    }

    @Test
    void theSameSeedGivesTheSameNumbersWhateverTheThreads() throws IOException {
        String[] losses = {"--model", "cnn", "--loss", "focal:gamma=2", "--loss", "cosface:s=8,m=0.1", "--quiet"};
        assertEquals(0, run("compare", images, dir.resolve("a"), concat(losses, "--threads", "1")).status());
        assertEquals(0, run("compare", images, dir.resolve("b"), concat(losses, "--threads", "2")).status());
        assertEquals(0, run("compare", images, dir.resolve("c"), concat(losses, "--seed", "2")).status());
        JsonNode a = withoutTimes(dir.resolve("a"));
        assertEquals(a, withoutTimes(dir.resolve("b")));
        assertNotEquals(a, withoutTimes(dir.resolve("c")), "another seed, other numbers");
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static JsonNode withoutTimes(Path report) throws IOException {
        JsonNode m = Cli.parse(Files.readString(report.resolve("metrics.json")));
        for (JsonNode run : m.get("runs")) {
            ((ObjectNode) run).remove("train_seconds");
        }
        return m.get("runs");
    }

    // ---------------------------------------------------------------- mistakes

    /** Status 2, exactly one stderr line starting {@code error:} with every fragment, nothing written. */
    private void assertRejected(Cli.Run r, String... fragments) throws IOException {
        assertEquals(SoftmaxLab.EXIT_BAD_INPUT, r.status(), () -> "exit status 2; stderr: " + r.err() + " stdout: " + r.out());
        String line = r.err().strip();
        assertFalse(line.contains("\n"), () -> "one stderr line: " + r.err());
        assertTrue(line.startsWith("error: "), line);
        for (String f : fragments) {
            assertTrue(line.contains(f), () -> "names '" + f + "': " + line);
        }
        assertEquals("", r.out());
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(), left.toList(), "no report and no temporary folder");
        }
    }

    @Test
    void impossibleEnginesAndModels() throws IOException {
        Path out = dir.resolve("out");
        assertRejected(Cli.run("train", "--loss", "softmax_cross_entropy", "--model", "cnn", "--data", images.toString(),
                "--out", out.toString()), "--model cnn needs --engine djl");
        assertRejected(Cli.run("demo", "--model", "cnn", "--out", out.toString()), "--model cnn needs --engine djl");
        assertRejected(Cli.run("train", "--loss", "softmax_cross_entropy", "--engine", "torch", "--out", out.toString()),
                "--engine 'torch' is not one of java, djl");
        assertRejected(run("train", images, out, "--loss", "softmax_cross_entropy", "--model", "resnet"),
                "--model 'resnet' is not one of mlp, cnn");
        assertRejected(run("train", images, out, "--loss", "softmax_cross_entropy", "--model", "cnn", "--hidden", "8"),
                "--hidden sets the layers of the mlp");
        assertRejected(run("train", tiny, out, "--loss", "softmax_cross_entropy", "--model", "cnn"),
                "--model cnn needs images of at least 8x8 pixels", "6x6");
        assertRejected(run("train", images, out, "--loss", "arcfase", "--model", "cnn"), "unknown loss 'arcfase'");
        assertRejected(run("train", images, out, "--loss", "softmax_cross_entropy", "--model", "conv4"),
                "--model conv4 needs images of at least 16x16 pixels", "8x8");
        assertRejected(Cli.run("train", "--loss", "softmax_cross_entropy", "--model", "conv4", "--data", images16.toString(),
                "--out", out.toString()), "--model conv4 needs --engine djl");
        assertRejected(run("train", images, out, "--loss", "softmax_cross_entropy", "--augment", "elastic"),
                "--augment 'elastic' is not one of none, affine");
    }
}
