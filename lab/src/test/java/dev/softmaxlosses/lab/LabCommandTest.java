package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.softmaxlosses.lab.data.IdxFile;
import dev.softmaxlosses.lab.data.SyntheticData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code demo}, {@code train}, {@code compare} and {@code download} from the command line: what a run
 * writes (the report's files and the exact shape of {@code metrics.json}), that a seed repeats its
 * numbers, and that every mistake is one {@code error:} line, exit status 2 and no report.
 */
class LabCommandTest {

    @TempDir
    static Path shared;

    static Path data;

    @TempDir
    Path dir;

    static final List<String> FAST = List.of("--epochs", "2", "--hidden", "8", "--batch-size", "16", "--quiet");

    @BeforeAll
    static void syntheticData() throws IOException {
        data = SyntheticData.writeIdxFolder(Files.createDirectory(shared.resolve("synthetic")), 6, 30, 10, true, 5);
    }

    /**
     * {@code command}, then {@code rest}, then the options of {@code defaults} that {@code rest} does not
     * give itself (picocli refuses an option given twice).
     */
    private static String[] args(String command, List<String> defaults, String... rest) {
        List<String> all = new ArrayList<>();
        all.add(command);
        all.addAll(Arrays.asList(rest));
        Set<String> given = new java.util.HashSet<>(Arrays.asList(rest));
        for (int i = 0; i < defaults.size(); i++) {
            String option = defaults.get(i);
            boolean takesValue = i + 1 < defaults.size() && !defaults.get(i + 1).startsWith("--");
            if (!given.contains(option)) {
                all.add(option);
                if (takesValue) {
                    all.add(defaults.get(i + 1));
                }
            }
            if (takesValue) {
                i++;
            }
        }
        return all.toArray(String[]::new);
    }

    private Cli.Run compare(Path out, String... more) {
        List<String> options = new ArrayList<>(FAST);
        options.addAll(List.of("--data", data.toString(), "--held-out", "4,5", "--out", out.toString()));
        return Cli.run(args("compare", options, more));
    }

    private static final Set<String> RUN_KEYS = Set.of("test_accuracy", "tar_at_far_1e-2", "tar_at_far_1e-3", "eer", "ece",
            "mean_feature_norm", "train_seconds");

    // ---------------------------------------------------------------- runs that work

    @Test
    void compareWritesTheReportItsPlotsAndMetricsShapedAsSpecified() throws IOException {
        Path out = dir.resolve("report");
        Cli.Run r = compare(out, "--loss", "softmax_cross_entropy", "--loss", "cosface:s=8,m=0.1", "--threads", "2");
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err(), "--quiet: nothing on stderr");
        assertTrue(r.out().contains("softmax_cross_entropy") && r.out().contains("TAR@1e-2") && r.out().contains("report: "),
                r.out());

        JsonNode m = Cli.parse(Files.readString(out.resolve("metrics.json")));
        assertEquals(Set.of("dataset", "settings", "runs"), Cli.keys(m));
        assertEquals("synthetic", m.get("dataset").asText());
        assertEquals(List.of("softmax_cross_entropy", "cosface:s=8,m=0.1"), iterate(m.get("runs").fieldNames()));
        for (JsonNode run : m.get("runs")) {
            assertEquals(RUN_KEYS, Cli.keys(run));
            for (String fraction : List.of("test_accuracy", "tar_at_far_1e-2", "tar_at_far_1e-3", "eer", "ece")) {
                double v = run.get(fraction).asDouble();
                assertTrue(run.get(fraction).isNumber() && v >= 0 && v <= 1, fraction + " = " + v);
            }
            assertTrue(run.get("mean_feature_norm").asDouble() > 0);
        }
        JsonNode s = m.get("settings");
        assertEquals(2, s.get("epochs").asInt());
        assertEquals("[\"4\",\"5\"]", s.get("held_out_classes").toString());

        String html = Files.readString(out.resolve("report.html"));
        List<String> images = new ArrayList<>();
        java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("src=\"([^\"]+)\"").matcher(html);
        while (matcher.find()) {
            images.add(matcher.group(1));
        }
        assertTrue(images.containsAll(List.of("features.png", "held-out-features.png", "roc.png", "reliability.png",
                "target-probability.png", "feature-norm.png", "test-accuracy.png", "01-softmax_cross_entropy-features.png",
                "02-cosface-reliability.png", "02-cosface-norms.png", "02-cosface-curves.png")), images.toString());
        for (String image : images) {
            byte[] bytes = Files.readAllBytes(out.resolve(image));
            assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(bytes, 4), image + " is a PNG");
        }
        assertFalse(html.contains("http://") || html.contains("https://"), "the page loads nothing from the network");
        try (Stream<Path> siblings = Files.list(dir)) {
            assertEquals(List.of("report"), siblings.map(p -> p.getFileName().toString()).toList(), "no temporary folder left");
        }
    }

    private static List<String> iterate(Iterator<String> it) {
        List<String> list = new ArrayList<>();
        it.forEachRemaining(list::add);
        return list;
    }

    @Test
    void theSameSeedGivesTheSameNumbersWhateverTheThreads() throws IOException {
        String[] losses = {"--loss", "focal:gamma=2", "--loss", "arcface:s=8,m=0.2"};
        assertEquals(0, compare(dir.resolve("a"), concat(losses, "--threads", "1")).status());
        assertEquals(0, compare(dir.resolve("b"), concat(losses, "--threads", "2")).status());
        assertEquals(0, compare(dir.resolve("c"), concat(losses, "--seed", "2")).status());
        JsonNode a = withoutTimes(dir.resolve("a"));
        assertEquals(a, withoutTimes(dir.resolve("b")));
        assertFalse(a.equals(withoutTimes(dir.resolve("c"))), "another seed, other numbers");
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static JsonNode withoutTimes(Path report) throws IOException {
        JsonNode m = Cli.parse(Files.readString(report.resolve("metrics.json")));
        for (JsonNode run : m.get("runs")) {
            ((com.fasterxml.jackson.databind.node.ObjectNode) run).remove("train_seconds");
        }
        ((com.fasterxml.jackson.databind.node.ObjectNode) m.get("settings")).remove("threads");
        return m.get("runs");
    }

    @Test
    void trainShowsOneLinePerRunWhenNotOnATerminal() {
        List<String> options = new ArrayList<>(FAST.subList(0, 6));
        options.addAll(List.of("--data", data.toString(), "--out", dir.resolve("t").toString()));
        Cli.Run r = Cli.run(args("train", options, "--loss", "normface:s=8"));
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().matches("\\[1/1] normface:s=8: 2 epochs in [0-9.]+ s, test accuracy [0-9.]+\\R"), r.err());
        assertTrue(Files.exists(dir.resolve("t").resolve("report.html")));
    }

    @Test
    void demoTrainsTheEightLossesOnTheBundledData() throws IOException {
        Path out = dir.resolve("demo");
        Cli.Run r = Cli.run(args("demo", List.of("--epochs", "1", "--hidden", "8", "--quiet", "--out", out.toString())));
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("softmax-lab demo: 8 losses on fashion-mnist-subset (4200 training samples of 7 classes;"
                + " held out: Sneaker, Bag, Ankle boot)"), r.out());
        JsonNode m = Cli.parse(Files.readString(out.resolve("metrics.json")));
        assertEquals("fashion-mnist-subset", m.get("dataset").asText());
        assertEquals(LabCommand.DEFAULT_LOSSES, iterate(m.get("runs").fieldNames()));
    }

    // ---------------------------------------------------------------- mistakes

    /** Status 2, exactly one stderr line starting {@code error:} with every fragment, no report, nothing left behind. */
    private void assertRejected(Cli.Run r, String... fragments) throws IOException {
        Cli.assertRejected(dir, r, fragments);
    }

    private Cli.Run train(String loss, String... more) {
        List<String> options = new ArrayList<>(FAST);
        options.addAll(List.of("--data", data.toString(), "--out", dir.resolve("out").toString()));
        return Cli.run(args("train", options, concat(new String[] {"--loss", loss}, more)));
    }

    @Test
    void badLossSpecs() throws IOException {
        assertRejected(train("arcfase"), "unknown loss 'arcfase'", "arcface");
        assertRejected(train("arcface:margin=0.5"), "unknown parameter 'margin'", "valid parameters");
        assertRejected(train("arcface:s=-1"), "s");
        assertRejected(train("distillation"), "distillation needs a teacher");
        assertRejected(compare(dir.resolve("out"), "--loss", "normface", "--loss", "normface"), "given twice");
    }

    @Test
    void missingOrCorruptData() throws IOException {
        assertRejected(train("normface", "--data", dir.resolve("nowhere").toString()), "no such folder");
        Path corrupt = Files.createDirectory(dir.resolve("input-corrupt"));
        SyntheticData.writeIdxFolder(corrupt, 6, 30, 10, false, 5);
        byte[] images = Files.readAllBytes(corrupt.resolve("train-images-idx3-ubyte"));
        Files.write(corrupt.resolve("train-images-idx3-ubyte"), Arrays.copyOf(images, images.length - 100));
        assertRejected(train("normface", "--data", corrupt.toString()), "train-images-idx3-ubyte is truncated");
        Path gz = Files.createDirectory(dir.resolve("input-gz"));
        SyntheticData.writeIdxFolder(gz, 6, 30, 10, true, 5);
        byte[] packed = Files.readAllBytes(gz.resolve("t10k-labels-idx1-ubyte.gz"));
        Files.write(gz.resolve("t10k-labels-idx1-ubyte.gz"), Arrays.copyOf(packed, packed.length - 10));
        assertRejected(train("normface", "--data", gz.toString()), "t10k-labels-idx1-ubyte.gz is a truncated gzip file");
        Path empty = Files.createDirectory(dir.resolve("input-empty"));
        assertRejected(train("normface", "--data", empty.toString()), "neither MNIST-style IDX files", "nor face folders");
        Path file = Files.writeString(dir.resolve("input-file"), "x");
        assertRejected(train("normface", "--data", file.toString()), "is a file");
        new IdxFile(new int[] {1}, new byte[] {0}).write(empty.resolve("train-labels-idx1-ubyte"), false);
        assertRejected(train("normface", "--data", empty.toString()), "lacks train-images-idx3-ubyte[.gz]");
    }

    @Test
    void impossibleOptions() throws IOException {
        assertRejected(train("normface", "--epochs", "0"), "--epochs must be at least 1, got 0");
        assertRejected(train("normface", "--batch-size", "1"), "--batch-size must be at least 2");
        assertRejected(train("normface", "--batch-size", "100000"), "--batch-size 100000 is larger than the 120 training samples");
        assertRejected(train("normface", "--lr", "0"), "--lr must be a finite number > 0");
        assertRejected(train("normface", "--momentum", "1"), "--momentum must lie in [0, 1)");
        assertRejected(train("normface", "--weight-decay", "-1"), "--weight-decay");
        assertRejected(train("normface", "--embedding", "0"), "--embedding must be at least 1");
        assertRejected(train("normface", "--hidden", "16,x"), "--hidden '16,x': 'x' is not a whole number");
        assertRejected(train("normface", "--hidden", "16,0"), "--hidden sizes must be at least 1");
        assertRejected(train("normface", "--activation", "tanh"), "--activation 'tanh' is not one of relu, prelu");
        assertRejected(train("normface", "--schedule", "linear"), "--schedule 'linear' is not one of cosine, step");
        assertRejected(train("normface", "--threads", "0"), "--threads must be at least 1");
        assertRejected(train("normface", "--held-out", "9,1"), "class 9 does not exist");
        assertRejected(train("normface", "--held-out", "3"), "at least 2 classes");
        assertRejected(train("normface", "--held-out", "0,1,2,3,4"), "leaves 1 of the 6 classes");
        assertRejected(train("normface", "--held-out", "shoe,1"), "'shoe' is neither a class index nor a class name");
        assertRejected(train("normface", "--epochs", "two"), "Invalid value for option '--epochs'");
        assertRejected(train("normface", "--lr", "1e30", "--no-batch-norm"), "diverged", "try a lower --lr");
        assertRejected(train("normface", "--train-per-class", "0"), "--train-per-class must be at least 1, got 0");
        assertRejected(train("normface", "--train-per-class", "2", "--batch-size", "16"),
                "--batch-size 16 is larger than the 8 training samples");
    }

    @Test
    void trainPerClassTakesTheFirstSamplesOfEachClass() {
        Cli.Run r = train("normface", "--train-per-class", "10");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("softmax-lab train: 1 loss on synthetic (40 training samples of 4 classes;"), r.out());
    }

    @Test
    void refusesBeforeTrainingWhatTheDataAndOptionsMakeImpossible() throws IOException {
        Path oneEach = Files.createDirectory(dir.resolve("input-one-test-image-each"));
        SyntheticData.writeIdxFolder(oneEach, 6, 30, 1, false, 5);
        long start = System.nanoTime();
        assertRejected(train("normface", "--data", oneEach.toString(), "--epochs", "1000000"),
                "no two test images of one held-out class", "4: 1", "--held-out");
        assertTrue(System.nanoTime() - start < 60e9, "refused before a million epochs");
        assertRejected(train("normface", "--hidden", "100000,100000"), "--hidden sizes must be at most 65536, got 100000");
        assertRejected(train("normface", "--embedding", "100000000"), "--embedding must be at most 65536, got 100000000");
        assertRejected(train("normface", "--hidden", "65536,65536"), "a layer of 65536 x 65536 weights",
                "more than a Java array holds");
        assertRejected(train("normface", "--hidden", "65536,32767,65536", "--epochs", "1000000"), "the network (",
                "needs about", "MB the JVM has left", "SOFTMAX_LAB_JAVA_OPTS=-Xmx");
        Path noPixels = Files.createDirectory(dir.resolve("input-no-pixels"));
        for (String split : List.of("train", "t10k")) {
            new IdxFile(new int[] {3, 0, 0}, new byte[0]).write(noPixels.resolve(split + "-images-idx3-ubyte"), false);
            new IdxFile(new int[] {3}, new byte[] {0, 1, 2}).write(noPixels.resolve(split + "-labels-idx1-ubyte"), false);
        }
        assertRejected(train("normface", "--data", noPixels.toString()), "images of 0x0 pixels");
    }

    @Test
    void outputFolderThatCannotBe() throws IOException {
        Path file = Files.writeString(dir.resolve("input-taken"), "x");
        List<String> options = new ArrayList<>(FAST);
        options.addAll(List.of("--data", data.toString(), "--out", file.toString()));
        assertRejected(Cli.run(args("train", options, "--loss", "normface")), "--out", "is a file");
        assertEquals("x", Files.readString(file));
    }

    @Test
    void downloadSaysWhenThereIsNoNetwork() throws IOException {
        Path cache = dir.resolve("input-cache");
        assertRejected(Cli.run("download", "mnist", "--cache", cache.toString(), "--mirror", "http://no-such-host.invalid/"),
                "cannot download mnist: no network connection", "--data FOLDER");
        assertRejected(Cli.run("download", "cifar", "--cache", cache.toString()), "unknown data set 'cifar'");
        assertRejected(Cli.run("train", "--loss", "normface", "--data", "mnist", "--cache", cache.toString(),
                "--mirror", "http://no-such-host.invalid/", "--out", dir.resolve("out").toString()), "no network connection");
    }
}
