package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.softmaxlosses.lab.report.ReportFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code softmax-lab scale}: a margin head trained alone on synthetic identities, class-sharded. The
 * head is sharding-invariant, so the loss curve does not depend on the shard count; a checkpoint
 * resumed goes on as the uninterrupted run; every bad option is one error line naming it.
 */
class ScaleCommandTest {

    @TempDir
    Path dir;

    /** {@code scale} with {@code more}, then each small default that {@code more} does not give. */
    private Cli.Run scale(String... more) {
        List<String> args = new ArrayList<>(List.of("scale"));
        args.addAll(Arrays.asList(more));
        String[][] defaults = {{"--loss", "arcface:s=32,m=0.3"}, {"--classes", "2000"}, {"--dim", "32"},
                {"--batch", "64"}, {"--steps", "30"}, {"--eval-samples", "256"}};
        for (String[] option : defaults) {
            if (!args.contains(option[0])) {
                args.addAll(Arrays.asList(option));
            }
        }
        return Cli.run(args.toArray(String[]::new));
    }

    /** The loss curve of a run with {@code --out dir/name}. */
    private double[] curve(String name, String... more) throws IOException {
        List<String> args = new ArrayList<>(Arrays.asList(more));
        args.addAll(List.of("--out", dir.resolve(name).toString()));
        Cli.Run r = scale(args.toArray(String[]::new));
        assertEquals(0, r.status(), r.err() + r.out());
        assertEquals("", r.err());
        return Cli.doubles(metrics(name).get("loss_curve"));
    }

    private JsonNode metrics(String name) throws IOException {
        return Cli.parse(Files.readString(dir.resolve(name).resolve("metrics.json")));
    }

    private static double mean(double[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += v[i];
        }
        return s / (to - from);
    }

    @Test
    void theLossFallsAndTheRunSaysHowFastAndHowMuchMemory() {
        Cli.Run r = scale("--classes", "2000", "--dim", "32", "--batch", "256", "--steps", "30");
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).startsWith("softmax-lab scale: arcface:s=32,m=0.3, 2000 classes x 32 dims, batch 256,"
                + " 1 shard on 1 thread, sample rate 1, 30 steps from step 0"), lines.get(0));
        assertTrue(lines.get(1).startsWith("memory: the head needs about "), lines.get(1));
        assertTrue(lines.get(2).matches(" +step +loss +steps/s +samples/s +heap MB"), lines.get(2));
        List<double[]> rows = new ArrayList<>();
        for (String line : lines.subList(3, 6)) {
            String[] f = line.strip().split(" +");
            assertEquals(5, f.length, line);
            rows.add(Arrays.stream(f).mapToDouble(Double::parseDouble).toArray());
        }
        assertArrayEquals(new double[] {10, 20, 30}, rows.stream().mapToDouble(x -> x[0]).toArray());
        assertTrue(rows.get(2)[1] < 0.9 * rows.get(0)[1], "the loss falls: " + r.out());
        for (double[] row : rows) {
            assertEquals(row[2] * 256, row[3], 0.1 + 1e-3 * row[3], "samples/s is steps/s times the batch");
        }
        assertTrue(lines.get(6).matches("done: 30 steps in [0-9.]+ s: [0-9.]+ steps/s, [0-9.]+ samples/s; peak heap \\d+ MB"
                + " \\(the head holds \\d+ MB, estimated \\d+ MB\\); final loss [0-9.]+"), lines.get(6));
        assertTrue(lines.get(7).matches("accuracy: [01]\\.\\d{4} \\(\\d+ of 256 held-out samples nearest their own class's"
                + " weight, by cosine\\)"), lines.get(7));
        assertEquals(8, lines.size(), r.out());
    }

    @Test
    void threeShardsGiveTheLossCurveOfOneToFloat32Rounding() throws IOException {
        double[] one = curve("one", "--shards", "1");
        double[] three = curve("three", "--shards", "3", "--block", "300");
        double[] threeOnOne = curve("three-on-one", "--shards", "3", "--threads", "1", "--block", "300");
        assertEquals(30, one.length);
        for (int i = 0; i < one.length; i++) {
            assertEquals(one[i], three[i], 1e-5 * Math.abs(one[i]), "step " + (i + 1));
        }
        assertArrayEquals(three, threeOnOne, "the thread count changes no bit");
        assertTrue(mean(one, 25, 30) < 0.9 * mean(one, 0, 5), Arrays.toString(one));
    }

    @Test
    void samplingTrainsToo() throws IOException {
        double[] sampled = curve("sampled", "--sample-rate", "0.3", "--shards", "2");
        assertTrue(Arrays.stream(sampled).allMatch(Double::isFinite));
        assertTrue(mean(sampled, 25, 30) < 0.9 * mean(sampled, 0, 5), Arrays.toString(sampled));
        assertEquals(0.3, metrics("sampled").get("settings").get("sample_rate").doubleValue());
        // The sample of each step does not depend on the shard count either.
        double[] oneShard = curve("sampled-one", "--sample-rate", "0.3", "--shards", "1");
        for (int i = 0; i < oneShard.length; i++) {
            assertEquals(oneShard[i], sampled[i], 1e-5 * Math.abs(oneShard[i]), "step " + (i + 1));
        }
    }

    @Test
    void theReportHoldsTheMetricsAndTheLossCurve() throws IOException {
        curve("report", "--steps", "12", "--shards", "2");
        Path report = dir.resolve("report");
        try (Stream<Path> s = Files.list(report)) {
            assertEquals(List.of(ReportFolder.MARKER, "loss-curve.png", "metrics.json"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        byte[] png = Files.readAllBytes(report.resolve("loss-curve.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals("PNG", new String(png, 1, 3, java.nio.charset.StandardCharsets.US_ASCII));
        JsonNode m = metrics("report");
        assertEquals(Set.of("command", "loss", "settings", "steps", "loss_curve", "throughput", "memory", "final_loss",
                "accuracy", "accuracy_samples"), Cli.keys(m));
        assertEquals("scale", m.get("command").asText());
        assertEquals("arcface:s=32,m=0.3", m.get("loss").asText());
        assertEquals(12, m.get("loss_curve").size());
        assertEquals(1, m.get("steps").get(0).asLong());
        assertEquals(12, m.get("steps").get(11).asLong());
        assertEquals(m.get("loss_curve").get(11).doubleValue(), m.get("final_loss").doubleValue());
        assertTrue(m.get("throughput").get("steps_per_second").doubleValue() > 0);
        assertEquals(64 * m.get("throughput").get("steps_per_second").doubleValue(),
                m.get("throughput").get("samples_per_second").doubleValue(), 1e-6);
        assertTrue(m.get("memory").get("peak_heap_bytes").asLong() >= m.get("memory").get("held_bytes").asLong());
        assertTrue(m.get("memory").get("training_bytes_estimate").asLong() > 0);
        double accuracy = m.get("accuracy").doubleValue();
        assertTrue(accuracy >= 0 && accuracy <= 1);
        assertEquals(256, m.get("accuracy_samples").asInt());
        JsonNode settings = m.get("settings");
        assertEquals(2000, settings.get("classes").asInt());
        assertEquals(32, settings.get("dim").asInt());
        assertEquals(2, settings.get("shards").asInt());
        assertEquals(2, settings.get("threads").asInt(), "threads default to shards");
        // A report of the lab is replaced; a folder with other files is refused before any work.
        curve("report", "--steps", "5");
        assertEquals(5, metrics("report").get("loss_curve").size());
        Path mine = Files.createDirectory(dir.resolve("mine"));
        Files.writeString(mine.resolve("notes.txt"), "mine");
        Cli.Run r = scale("--out", mine.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("error: --out "), r.err());
        assertEquals(List.of("notes.txt"), Files.list(mine).map(p -> p.getFileName().toString()).toList());
    }

    @Test
    void aResumedCheckpointGoesOnAsTheUninterruptedRun() throws IOException {
        double[] whole = curve("whole", "--steps", "20", "--sample-rate", "0.5", "--shards", "2");
        Path checkpoint = dir.resolve("head.ckpt");
        Cli.Run first = scale("--steps", "10", "--sample-rate", "0.5", "--shards", "2", "--save", checkpoint.toString());
        assertEquals(0, first.status(), first.err());
        assertTrue(first.out().contains("checkpoint: " + checkpoint + " (step 10)"), first.out());
        double[] second = curve("second", "--resume", checkpoint.toString(), "--steps", "10", "--shards", "2");
        assertArrayEquals(Arrays.copyOfRange(whole, 10, 20), second, "the same shards: the same bits");
        JsonNode m = metrics("second");
        assertEquals(11, m.get("steps").get(0).asLong());
        assertEquals(10, m.get("settings").get("first_step").asLong());
        // Another shard count goes on to float32 rounding; the loss, classes and rate come from the checkpoint.
        double[] other = curve("other", "--resume", checkpoint.toString(), "--steps", "10", "--shards", "3",
                "--loss", "arcface:s=32,m=0.3");
        for (int i = 0; i < 10; i++) {
            assertEquals(whole[10 + i], other[i], 1e-5 * whole[10 + i]);
        }
        // --save over its own checkpoint replaces it.
        Cli.Run again = scale("--resume", checkpoint.toString(), "--steps", "2", "--shards", "2", "--save", checkpoint.toString());
        assertEquals(0, again.status(), again.err());
        assertTrue(again.out().contains("(step 12)"), again.out());
        try (Stream<Path> s = Files.list(dir)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file is left");
        }
    }

    @Test
    void badOptionsAreOneErrorLineNamingTheOption() throws IOException {
        Path out = dir.resolve("out");
        String o = out.toString();
        Cli.assertRejected(dir, scale("--classes", "0", "--out", o), "--classes must be >= 1, got 0");
        Cli.assertRejected(dir, scale("--classes", "-5", "--out", o), "--classes");
        Cli.assertRejected(dir, scale("--classes", "1.5", "--out", o), "--classes", "not a whole number");
        Cli.assertRejected(dir, scale("--sample-rate", "0", "--out", o), "--sample-rate must be in (0, 1], got 0");
        Cli.assertRejected(dir, scale("--sample-rate", "1.5", "--out", o), "--sample-rate", "1.5");
        Cli.assertRejected(dir, scale("--shards", "0", "--out", o), "--shards must be >= 1, got 0");
        Cli.assertRejected(dir, scale("--threads", "0", "--out", o), "--threads must be >= 1, got 0");
        Cli.assertRejected(dir, scale("--threads", "3", "--shards", "2", "--out", o), "--threads must be at most --shards (2), got 3");
        Cli.assertRejected(dir, scale("--dim", "0", "--out", o), "--dim");
        Cli.assertRejected(dir, scale("--batch", "0", "--out", o), "--batch");
        Cli.assertRejected(dir, scale("--steps", "0", "--out", o), "--steps");
        Cli.assertRejected(dir, scale("--lr", "-1", "--out", o), "--lr");
        Cli.assertRejected(dir, scale("--momentum", "2", "--out", o), "--momentum");
        Cli.assertRejected(dir, scale("--noise", "-1", "--out", o), "--noise");
        Cli.assertRejected(dir, scale("--norm-spread", "1", "--out", o), "--norm-spread");
        Cli.assertRejected(dir, scale("--loss", "no_such_loss", "--out", o), "--loss no_such_loss");
        Cli.assertRejected(dir, scale("--loss", "softmax_cross_entropy", "--out", o), "--loss softmax_cross_entropy",
                "a loss on logits", "margin loss");
        Cli.assertRejected(dir, scale("--loss", "arcface:m=-1", "--out", o), "--loss arcface:m=-1");
        Cli.assertRejected(dir, scale("--resume", dir.resolve("input-none").toString(), "--out", o), "--resume", "does not exist");
        Path notCheckpoint = Cli.write(dir, "input-notes.txt", "mine");
        Cli.assertRejected(dir, scale("--resume", notCheckpoint.toString(), "--out", o), "--resume", "not a sharded-head checkpoint");
        Cli.assertRejected(dir, scale("--save", notCheckpoint.toString(), "--out", o), "--save", "is not a checkpoint");
        assertEquals("mine", Files.readString(notCheckpoint), "a file the lab did not write is never replaced");
        // A head that needs more than the heap is refused before it starts, saying how to give it more.
        Cli.assertRejected(dir, scale("--classes", "2e9", "--dim", "4096", "--out", o), "needs about", "SOFTMAX_LAB_JAVA_OPTS=-Xmx");
        Cli.Run r = scale("--classes", "0");
        assertEquals("", r.out());
    }
}
