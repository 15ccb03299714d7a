package dev.softmaxlosses.lab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SummarizeCommandTest {

    @TempDir
    Path dir;

    /** A report folder holding a metrics.json of two losses. */
    private Path report(String name, String engine, String model, long seed, double lr, double oneShotA, double oneShotB) {
        Path folder = dir.resolve(name);
        String json = String.format(Locale.ROOT, """
                {"dataset": "letters", "settings": {"held_out_classes": ["A/x", "A/y"], "engine": "%s", "model": "%s",
                  "learning_rate": %s, "seed": %d, "threads": 2},
                 "runs": {"softmax_cross_entropy": {"test_accuracy": 0.5, "tar_at_far_1e-3": 0.25, "eer": 0.2,
                                                    "one_shot_error": %s},
                          "arcface:s=16,m=0.3": {"test_accuracy": 0.75, "tar_at_far_1e-3": 0.5, "eer": 0.1,
                                                 "one_shot_error": %s}}}
                """, engine, model, lr, seed, oneShotA, oneShotB);
        Cli.write(folder(name), "metrics.json", json);
        return folder;
    }

    private Path folder(String name) {
        try {
            return Files.createDirectories(dir.resolve(name));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void meanAndSampleSpreadPerLossAndNetwork() throws Exception {
        Path a = report("a", "java", "mlp", 1, 0.05, 0.40, 0.30);
        Path b = report("b", "java", "mlp", 2, 0.05, 0.50, 0.20);
        Path c = report("c", "djl", "conv4", 1, 0.05, 0.10, 0.05);
        Path out = dir.resolve("summary");
        Cli.Run run = Cli.run("summarize", a.toString(), b.toString(), c.resolve("metrics.json").toString(),
                "--out", out.toString());
        assertEquals(0, run.status(), run.err());
        String[] lines = run.out().split("\n");
        assertEquals("| loss | java mlp 1-shot error (%) | java mlp TAR@1e-3 | java mlp EER (%) | java mlp test acc"
                + " | djl conv4 1-shot error (%) | djl conv4 TAR@1e-3 | djl conv4 EER (%) | djl conv4 test acc |", lines[0]);
        // (0.40, 0.50): mean 45.0 %, sample sd sqrt(0.005) = 7.07 %; one seed has no spread.
        assertEquals("| `softmax_cross_entropy` | 45.0 ± 7.1 | 0.250 ± 0.000 | 20.0 ± 0.0 | 0.500 ± 0.000 | 10.0 | 0.250"
                + " | 20.0 | 0.500 |", lines[2]);
        assertEquals("| `arcface:s=16,m=0.3` | 25.0 ± 7.1 | 0.500 ± 0.000 | 10.0 ± 0.0 | 0.750 ± 0.000 | 5.0 | 0.500"
                + " | 10.0 | 0.750 |", lines[3]);
        assertTrue(run.out().contains("java mlp: 1, 2; djl conv4: 1"), run.out());
        assertEquals(run.out(), Files.readString(out.resolve("summary.md")));
        assertTrue(Files.size(out.resolve("summary.png")) > 1000);
        assertEquals(0.45, Cli.parse(Files.readString(out.resolve("summary.json"))).at(
                "/networks/java mlp/losses/softmax_cross_entropy/one_shot_error/mean").asDouble(), 1e-12);
    }

    @Test
    void theLossesOfOneSeedMayComeFromSeveralReports() {
        Path a = report("a", "java", "mlp", 1, 0.05, 0.4, 0.3);
        Path more = folder("more");
        Cli.write(more, "metrics.json", """
                {"dataset": "letters", "settings": {"held_out_classes": ["A/x", "A/y"], "engine": "java", "model": "mlp",
                  "learning_rate": 0.05, "seed": 1, "threads": 1},
                 "runs": {"sphereface:m=4": {"test_accuracy": 0.5, "eer": 0.3}}}
                """);
        Cli.Run run = Cli.run("summarize", a.toString(), more.toString());
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("| `sphereface:m=4` | - | - | 30.0 | 0.500 |"), run.out());
        assertTrue(run.out().contains("over the seeds (java mlp: 1) on"), run.out());
    }

    @Test
    void reportsThatDifferInMoreThanTheSeedAreRefused() {
        Path a = report("a", "java", "mlp", 1, 0.05, 0.4, 0.3);
        Path b = report("b", "java", "mlp", 2, 0.1, 0.5, 0.2);
        Cli.Run run = Cli.run("summarize", a.toString(), b.toString());
        assertEquals(2, run.status());
        assertEquals("error: " + b.resolve("metrics.json") + " differs from the first java mlp report in learning_rate"
                + " (0.05 against 0.1); the reports of one network may differ only in --seed\n", run.err());
    }

    @Test
    void badInputIsOneErrorLine() throws Exception {
        Path a = report("a", "java", "mlp", 1, 0.05, 0.4, 0.3);
        Path again = report("again", "java", "mlp", 1, 0.05, 0.4, 0.3);
        Path broken = Cli.write(folder("broken"), "metrics.json", "{\"dataset\": ");
        Path other = Cli.write(folder("other"), "metrics.json", "{\"runs\": {}}");
        Path out = Files.createDirectories(dir.resolve("mine"));
        Files.writeString(out.resolve("notes.txt"), "keep me");
        String[][] cases = {
                {a.toString(), again.toString()},
                {a.toString(), dir.resolve("nope").toString()},
                {broken.getParent().toString()},
                {other.getParent().toString()},
                {a.toString(), "--out", out.toString()},
        };
        for (String[] args : cases) {
            String[] full = new String[args.length + 1];
            full[0] = "summarize";
            System.arraycopy(args, 0, full, 1, args.length);
            Cli.Run run = Cli.run(full);
            assertEquals(2, run.status(), String.join(" ", args));
            assertTrue(run.err().startsWith("error: ") && run.err().indexOf('\n') == run.err().length() - 1, run.err());
            assertFalse(run.err().contains("Exception"), run.err());
        }
        assertEquals("keep me", Files.readString(out.resolve("notes.txt")));
        assertEquals(1, Files.list(out).count());
    }
}
