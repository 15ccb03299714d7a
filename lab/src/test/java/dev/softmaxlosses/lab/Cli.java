package dev.softmaxlosses.lab;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.softmaxlosses.testing.Compute;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.StringJoiner;

/** Runs {@link SoftmaxLab#run} in-process and parses what it wrote; shared by the lab's tests. */
final class Cli {

    /** A reader of its own (not the lab's), accepting the {@code -Infinity} the lab writes for masked logits. */
    static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private Cli() {}

    /** What one run did. */
    record Run(int status, String out, String err) {
        JsonNode json() {
            return parse(out);
        }
    }

    static Run run(String... args) {
        return run(new ByteArrayOutputStream(), args);
    }

    /** Runs with {@code stdout} as standard output (one that fails, say); its bytes, if any, as UTF-8. */
    static Run run(OutputStream stdout, String... args) {
        StringWriter err = new StringWriter();
        int status;
        try (PrintWriter e = new PrintWriter(err)) {
            status = SoftmaxLab.run(args, stdout, e);
        }
        String out = stdout instanceof ByteArrayOutputStream b ? b.toString(StandardCharsets.UTF_8) : "";
        return new Run(status, out, err.toString());
    }

    static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException("the lab wrote unreadable JSON: " + json, e);
        }
    }

    static Path write(Path folder, String name, String content) {
        try {
            return Files.writeString(folder.resolve(name), content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static double[] doubles(JsonNode array) {
        double[] v = new double[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = array.get(i).doubleValue();
        }
        return v;
    }

    static double[][] matrix(JsonNode array) {
        double[][] m = new double[array.size()][];
        for (int i = 0; i < m.length; i++) {
            m[i] = doubles(array.get(i));
        }
        return m;
    }

    /**
     * The output object of one eval case as a {@link Compute.Result}, to compare with core's references:
     * {@code loss} null where it is written {@code null}, a field that is absent null.
     */
    static Compute.Result result(JsonNode got) {
        JsonNode loss = got.get("loss");
        return new Compute.Result(loss == null || loss.isNull() ? null : loss.doubleValue(), vector(got, "losses"),
                matrix(got, "logits"), matrix(got, "probabilities"), vector(got, "logsumexp"), matrix(got, "grad_logits"),
                matrix(got, "grad_features"), matrix(got, "grad_weights"));
    }

    private static double[] vector(JsonNode got, String field) {
        return got.has(field) ? doubles(got.get(field)) : null;
    }

    private static double[][] matrix(JsonNode got, String field) {
        return got.has(field) ? matrix(got.get(field)) : null;
    }

    // ---------------------------------------------------------------- writing a case

    /** A matrix as JSON, masked ({@code -Infinity}) entries as Python's json module writes them. */
    static String json(float[][] m) {
        StringJoiner rows = new StringJoiner(", ", "[", "]");
        for (float[] row : m) {
            rows.add(json(row));
        }
        return rows.toString();
    }

    static String json(float[] v) {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        for (float x : v) {
            j.add(x == Float.NEGATIVE_INFINITY ? "-Infinity" : Float.toString(x));
        }
        return j.toString();
    }

    static String json(int[] v) {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        for (int x : v) {
            j.add(Integer.toString(x));
        }
        return j.toString();
    }

    /**
     * Status 2, exactly one stderr line starting {@code error:} (no exception's name) with every fragment,
     * and nothing left in {@code dir} but the entries whose names start with {@code input}: no report and
     * no temporary folder.
     */
    static void assertRejected(Path dir, Run r, String... fragments) throws IOException {
        org.junit.jupiter.api.Assertions.assertEquals(SoftmaxLab.EXIT_BAD_INPUT, r.status(),
                () -> "exit status 2; stderr: " + r.err() + " stdout: " + r.out());
        String line = r.err().strip();
        org.junit.jupiter.api.Assertions.assertFalse(line.contains("\n"), () -> "one stderr line: " + r.err());
        org.junit.jupiter.api.Assertions.assertTrue(line.startsWith("error: "), line);
        org.junit.jupiter.api.Assertions.assertFalse(line.contains("Exception"), line);
        for (String f : fragments) {
            org.junit.jupiter.api.Assertions.assertTrue(line.contains(f), () -> "names '" + f + "': " + line);
        }
        try (java.util.stream.Stream<Path> left = Files.list(dir)) {
            java.util.List<String> names = left.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("input"))
                    .toList();
            org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(), names, "no report and no temporary folder");
        }
    }

    /** The field names of a JSON object, sorted. */
    static java.util.Set<String> keys(JsonNode node) {
        java.util.Set<String> keys = new java.util.TreeSet<>();
        node.fieldNames().forEachRemaining(keys::add);
        return keys;
    }
}
