package dev.softmaxlosses.lab;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./softmax-lab} as a user runs it, from a shell, after the build made its jar: what reaches the
 * terminal, the exit status, closed and full standard streams, signals, the memory limit, and that
 * {@code --out .} and {@code --out ''} delete nothing, in a folder that looks like a git working copy.
 */
class LauncherIT {

    static Path launcher;

    @TempDir
    Path dir;

    @BeforeAll
    static void findLauncher() {
        launcher = Path.of(System.getProperty("project.root", "..")).toAbsolutePath().normalize().resolve("softmax-lab");
        assertTrue(Files.isExecutable(launcher), "the launcher " + launcher);
    }

    record Result(int status, String out, String err) {
        /** The one line on stderr, asserting it is one line starting "error: ". */
        String errorLine() {
            assertTrue(err.endsWith("\n"), () -> "a whole line: " + err);
            String line = err.strip();
            assertFalse(line.contains("\n"), () -> "exactly one stderr line: " + err);
            assertTrue(line.startsWith("error: "), () -> "an error line: " + err);
            assertFalse(line.contains("Exception") || line.contains("\tat "), () -> "no stack trace: " + err);
            return line;
        }
    }

    /** Runs {@code script} in bash in {@link #dir}, with {@code $L} the launcher. */
    private Result sh(String script, String... environment) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).directory(dir.toFile());
        pb.environment().put("L", launcher.toString());
        for (int i = 0; i < environment.length; i += 2) {
            pb.environment().put(environment[i], environment[i + 1]);
        }
        Path out = Files.createTempFile("launcher-out", ".txt");
        Path err = Files.createTempFile("launcher-err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "the command ends: " + script);
        Result r = new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        Files.delete(out);
        Files.delete(err);
        return r;
    }

    /** Every file under {@code root} with its content: what "nothing was deleted or changed" compares. */
    private static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> all = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                String name = root.relativize(p).toString();
                all.put(name, Files.isRegularFile(p) ? Files.readString(p, StandardCharsets.ISO_8859_1) : "/");
            }
        }
        return all;
    }

    private void aWorkingCopy() throws IOException {
        Files.createDirectories(dir.resolve(".git").resolve("objects"));
        Files.writeString(dir.resolve(".git").resolve("HEAD"), "ref: refs/heads/main\n");
        Files.writeString(dir.resolve("data.csv"), "a,b\n1,2\n");
        Files.createDirectories(dir.resolve("some").resolve("existing").resolve("data"));
        Files.writeString(dir.resolve("some").resolve("existing").resolve("data").resolve("data.csv"), "x\n");
    }

    @Test
    void outDotEmptyAndAFolderOfDataDeleteNothing() throws Exception {
        aWorkingCopy();
        Map<String, String> before = snapshot(dir);
        for (String out : List.of("'.'", "''", "\"$PWD\"", "..", "some/existing/data", "some")) {
            Result r = sh("\"$L\" train --loss softmax_cross_entropy --epochs 1 --quiet --out " + out);
            assertEquals(2, r.status(), () -> "--out " + out + ": " + r);
            assertTrue(r.errorLine().contains("--out"), r::err);
            assertEquals("", r.out());
            assertEquals(before, snapshot(dir), "--out " + out + " changed nothing");
        }
    }

    @Test
    void closedAndFullStandardStreams() throws Exception {
        Files.writeString(dir.resolve("case.json"), "{\"logits\": [[1, 2, 3]], \"labels\": [0]}");
        String eval = "\"$L\" eval --loss softmax_cross_entropy --input case.json";

        Result closedOut = sh(eval + " >&-");
        assertEquals(2, closedOut.status(), closedOut::toString);
        assertTrue(closedOut.errorLine().contains("cannot write to standard output"), closedOut::err);

        Result full = sh(eval + " > /dev/full");
        assertEquals(2, full.status(), full::toString);
        assertTrue(full.errorLine().contains("No space left on device"), full::err);

        Result toFile = sh(eval + " --output result.json >&-");
        assertEquals(0, toFile.status(), toFile::toString);
        assertEquals("", toFile.err());
        assertTrue(Files.readString(dir.resolve("result.json")).startsWith("{\"loss\":"));

        Result closedErr = sh(eval + " --input missing.json 2>&-; echo \"status $?\"");
        assertEquals("status 2\n", closedErr.out(), "bad input is still status 2 with standard error closed");

        Result closedIn = sh(eval + " <&-");
        assertEquals(0, closedIn.status(), closedIn::toString);
        assertEquals("", closedIn.err(), "only the lab's own lines reach stderr: the JVM's incubator notice is dropped");
    }

    @Test
    void terminatingTheLauncherStopsJavaAndLeavesNothingHalfWritten() throws Exception {
        Result r = sh("\"$L\" train --loss softmax_cross_entropy --epochs 100000 --quiet --out report >/dev/null 2>&1 &"
                + " pid=$!;"
                + " for i in $(seq 1 600); do ls -a | grep -q '^\\.report\\.partial-' && break; sleep 0.1; done;"
                + " sleep 1; kill -TERM $pid; wait $pid; echo \"status $?\";"
                + " sleep 0.5; if kill -0 $pid 2>/dev/null; then echo 'java still runs'; kill -9 $pid; fi;"
                + " ls -A");
        assertEquals(List.of("status 143"), r.out().lines().toList(),
                "the JVM itself got the signal (it is the launcher's process), ran its shutdown and left no folder behind");
    }

    @Test
    void terminatingScaleLeavesNoReportAndNoCheckpointHalfWritten() throws Exception {
        Result r = sh("\"$L\" scale --loss arcface --classes 20000 --dim 64 --steps 1000000 --out report --save head.ckpt"
                + " >/dev/null 2>&1 & pid=$!;"
                + " for i in $(seq 1 600); do ls -a | grep -q '^\\.report\\.partial-' && break; sleep 0.1; done;"
                + " sleep 1; kill -TERM $pid; wait $pid; echo \"status $?\"; ls -A");
        assertEquals(List.of("status 143"), r.out().lines().toList(), "no report, no checkpoint, no hidden folder or lock");
    }

    @Test
    void scaleRefusesAHeadLargerThanTheHeapBeforeItStarts() throws Exception {
        Result r = sh("\"$L\" scale --loss arcface --classes 1e6 --dim 512 --out report", "SOFTMAX_LAB_JAVA_OPTS", "-Xmx256m");
        assertEquals(2, r.status(), r::toString);
        assertEquals("", r.out());
        assertTrue(r.errorLine().startsWith("error: training 1000000 classes x 512 dims"), r::err);
        assertTrue(r.errorLine().contains("SOFTMAX_LAB_JAVA_OPTS=-Xmx"), r::err);
        assertEquals(List.of(), Files.list(dir).map(p -> p.getFileName().toString()).filter(n -> n.startsWith("report")
                || n.startsWith(".report")).toList());
    }

    @Test
    void outOfMemoryIsOneLineAndAJsonlRunGoesOn() throws Exception {
        StringBuilder big = new StringBuilder("{\"id\": \"big\", \"logits\": [[");
        for (int i = 0; i < 6_000_000; i++) {
            big.append(i == 0 ? "0" : ",0");
        }
        big.append("]], \"labels\": [0]}");
        Files.writeString(dir.resolve("big.json"), big);
        Files.writeString(dir.resolve("cases.jsonl"), big + "\n{\"id\": \"small\", \"logits\": [[0, 0]], \"labels\": [0]}\n");
        String[] small = {"SOFTMAX_LAB_JAVA_OPTS", "-Xmx24m"};

        Result one = sh("\"$L\" eval --loss softmax_cross_entropy --input big.json", small);
        assertEquals(2, one.status(), one::toString);
        assertTrue(one.errorLine().contains("out of memory") || one.errorLine().contains("more than the"), one::err);

        Result lines = sh("\"$L\" eval --loss softmax_cross_entropy --input cases.jsonl", small);
        assertEquals(1, lines.status(), lines::toString);
        List<String> out = lines.out().lines().toList();
        assertEquals(2, out.size(), lines::toString);
        assertTrue(out.get(0).startsWith("{\"id\":\"big\",\"error\":"), out.get(0));
        assertTrue(out.get(1).startsWith("{\"id\":\"small\",\"loss\":"), out.get(1));
    }

    @Test
    void theDjlEngineRunsFromTheJarOfflineAndQuietly() throws Exception {
        dev.softmaxlosses.lab.data.SyntheticData.writeIdxFolder(Files.createDirectory(dir.resolve("images")), 6, 12, 6, true,
                5, 8);
        Result r = sh("\"$L\" train --engine djl --model cnn --loss arcface:s=8,m=0.2 --data images --held-out 4,5"
                + " --epochs 1 --batch-size 16 --quiet --out report");
        assertEquals(0, r.status(), r::toString);
        assertEquals("", r.err(), "no engine log or JVM warning on stderr");
        assertTrue(r.out().contains("(engine djl, model cnn)") && r.out().contains("arcface:s=8,m=0.2"), r::toString);
        assertTrue(Files.exists(dir.resolve("report").resolve("features.png")));
    }

    @Test
    void aBadKernelPropertyIsOneLine() throws Exception {
        Files.writeString(dir.resolve("case.json"), "{\"logits\": [[1, 2, 3]], \"labels\": [0]}");
        Result r = sh("\"$L\" eval --loss softmax_cross_entropy --input case.json",
                "SOFTMAX_LAB_JAVA_OPTS", "-Dsoftmaxlosses.vectorization=bogus");
        assertEquals(2, r.status(), r::toString);
        assertTrue(r.errorLine().contains("bogus") && r.errorLine().contains("auto"), r::err);
    }
}
