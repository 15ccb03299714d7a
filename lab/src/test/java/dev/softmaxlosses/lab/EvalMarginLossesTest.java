package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.softmaxlosses.contract.MarginLossesContractTest;
import dev.softmaxlosses.contract.MarginLossesContractTest.Case;
import dev.softmaxlosses.testing.Mismatches;
import dev.softmaxlosses.testing.ReferenceMargin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.softmaxlosses.testing.ContractData.labels;
import static dev.softmaxlosses.testing.ContractData.vectors;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The margin family ({@code normface}, {@code cosface}, {@code am_softmax}, {@code arcface},
 * {@code combined_margin}, {@code sphereface}, {@code lsoftmax}, {@code l2_softmax}) through
 * {@code softmax-lab eval}: the JSON in and out (each loss with its defaults and a few with their
 * parameters, class weights, label smoothing and ignored samples, every output field compared with
 * core's {@link ReferenceMargin} at the tolerances of {@link Mismatches#margin}, which proves the
 * mapping), and the family's error paths (status 2, one {@code error:} line naming the problem, no
 * output file). The family's contract itself is tested in core ({@code MarginLossesContractTest}), on
 * the scalar and the SIMD kernels.
 */
class EvalMarginLossesTest {

    private static final List<String> NAMES = List.of("normface", "cosface", "am_softmax", "arcface", "combined_margin",
            "sphereface", "lsoftmax", "l2_softmax");

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- a case and its expected values

    /** A contract case as eval's JSON (floats, so that the JSON holds exactly what the reference reads). */
    private static String json(Case c, String id) {
        StringBuilder json = new StringBuilder("{");
        if (id != null) {
            json.append("\"id\": ").append(id).append(", \"loss\": \"").append(c.spec()).append("\", ");
        }
        json.append("\"features\": ").append(Cli.json(c.features()));
        json.append(", \"weights\": ").append(Cli.json(c.weights()));
        json.append(", \"labels\": ").append(Cli.json(c.labels()));
        if (c.classWeights() != null) {
            json.append(", \"class_weights\": ").append(Cli.json(c.classWeights()));
        }
        return json.append('}').toString();
    }

    private JsonNode eval(Case c) {
        Path in = Cli.write(dir, "case.json", json(c, null));
        Cli.Run r = Cli.run("eval", "--loss", c.spec(), "--input", in.toString());
        assertEquals(0, r.status(), () -> c.spec() + ": status 0; stderr: " + r.err());
        assertEquals("", r.err(), "nothing on stderr");
        return r.json();
    }

    /** Runs one case and compares every output field with the reference. */
    private JsonNode check(Case c) {
        JsonNode got = eval(c);
        Mismatches.assertNone(c.spec(), compare(c, got, true));
        return got;
    }

    private static List<String> compare(Case c, JsonNode got, boolean gradients) {
        return Mismatches.margin(c.spec(), c.labels().length, c.expected(), Cli.result(got), gradients);
    }

    // ---------------------------------------------------------------- each loss's arrays and parameters

    @Test
    void everyLossWithItsDefaultsMatchesTheReference() {
        Random random = new Random(301);
        for (String name : NAMES) {
            float[][] x = vectors(random, 6, 8, 0.5, 4);
            float[][] w = vectors(random, 5, 8, 0.5, 2);
            check(new Case(name, x, w, labels(random, 6, 5, 0, -100)));
        }
    }

    @Test
    void parametersClassWeightsAndIgnoredSamplesReachTheLoss() {
        Random random = new Random(302);
        List<String> specs = List.of("cosface:s=30,m=0.2,reduction=sum", "arcface:s=8,m=0.5,easy_margin=true",
                "arcface:s=16,gradient=straight_through", "combined_margin:s=32,m1=1.35,m2=0.25,m3=0.1",
                "sphereface:m=3,lambda=0.5,gradient=sphereface_normalized", "lsoftmax:m=3,lambda=2,reduction=none",
                "l2_softmax:alpha=4,label_smoothing=0.1,ignore_index=2", "normface:s=4,ignore_index=2,label_smoothing=0.3");
        for (String spec : specs) {
            float[][] x = vectors(random, 7, 5, 0.2, 3);
            float[][] w = vectors(random, 5, 5, 0.3, 3);
            int[] y = labels(random, 7, 5, 0.3, 2);
            check(new Case(spec, x, w, y).classWeights(0.5f, 2f, 1f, 0f, 3f));
        }
    }

    @Test
    void emptyBatchAndEveryLabelIgnoredGiveZero() {
        float[][] w = {{1, 0, 0}, {0, 1, 1}};
        for (String name : NAMES) {
            JsonNode empty = eval(new Case(name, new float[0][], w, new int[0]));
            assertEquals(0.0, empty.get("loss").doubleValue(), 0.0, name);
            assertEquals(0, empty.get("losses").size(), name);
            assertEquals(0, empty.get("grad_features").size(), name);
            for (JsonNode row : empty.get("grad_weights")) {
                for (JsonNode v : row) {
                    assertEquals(0.0, v.doubleValue(), 0.0, name);
                }
            }
            JsonNode ignored = check(new Case(name, new float[][] {{1, 2, 3}, {0.5f, -1, 0}}, w, new int[] {-100, -100}));
            assertEquals(0.0, ignored.get("loss").doubleValue(), 0.0, name);
            for (String field : List.of("grad_features", "grad_weights")) {
                for (JsonNode row : ignored.get(field)) {
                    for (JsonNode v : row) {
                        assertEquals(0.0, v.doubleValue(), 0.0, name + " " + field);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- "block" and "shards"

    /**
     * A case with {@code "block"} runs the streaming head (no {@code logits} or {@code probabilities} in
     * the output), with {@code "shards"} the classes split into shards whose row states are merged; both
     * give the reference's values.
     */
    @Test
    void blockAndShardsRunTheStreamingAndShardedHeadsWithTheReferenceValues() {
        Random random = new Random(305);
        List<String> specs = List.of("normface:s=4,label_smoothing=0.2", "cosface:s=30,m=0.2,reduction=sum",
                "am_softmax", "arcface:s=16,m=0.4", "arcface:s=16,gradient=straight_through,reduction=none",
                "combined_margin:s=32,m1=1.35,m2=0.25,m3=0.1", "sphereface:m=3,lambda=0.5,gradient=sphereface_normalized",
                "lsoftmax:m=2,label_smoothing=0.1", "l2_softmax:alpha=4,ignore_index=2");
        for (String spec : specs) {
            float[][] x = vectors(random, 7, 5, 0.3, 3);
            float[][] w = vectors(random, 6, 5, 0.3, 3);
            Case c = new Case(spec, x, w, labels(random, 7, 6, 0.2, spec.contains("ignore_index=2") ? 2 : -100))
                    .classWeights(0.5f, 2f, 1f, 0f, 3f, 1.5f);
            for (String options : List.of("\"block\": 1", "\"block\": 4", "\"block\": 100", "\"shards\": 2",
                    "\"shards\": 6", "\"shards\": 2147483647", "\"shards\": 3, \"block\": 1")) {
                Path in = Cli.write(dir, "case.json", "{" + options + ", " + json(c, null).substring(1));
                Cli.Run r = Cli.run("eval", "--loss", spec, "--input", in.toString());
                assertEquals(0, r.status(), () -> spec + " " + options + ": stderr " + r.err());
                JsonNode got = r.json();
                boolean block = options.contains("block");
                assertEquals(!block, got.has("logits"), spec + " " + options + ": logits only without a block");
                assertEquals(!block, got.has("probabilities"), spec + " " + options + ": probabilities only without a block");
                Mismatches.assertNone(spec + " " + options, compare(c, got, true));
            }
        }
    }

    @Test
    void badBlockOrShardsAreRefused() {
        rejects("arcface", "{\"block\": 0, " + GOOD.substring(1), "\"block\" must be an integer from 1 to 2147483647, found 0");
        rejects("arcface", "{\"block\": 2.5, " + GOOD.substring(1), "\"block\" must be an integer from 1 to 2147483647, found 2.5");
        rejects("arcface", "{\"shards\": \"2\", " + GOOD.substring(1), "\"shards\" must be an integer from 1 to 2147483647, found \"2\"");
        rejects("arcface", "{\"shards\": 99999999999, " + GOOD.substring(1),
                "\"shards\" must be an integer from 1 to 2147483647, found 99999999999");
        rejects("arcface", "{\"shards\": -1, " + GOOD.substring(1), "\"shards\" must be an integer from 1 to 2147483647, found -1");
        rejects("softmax_cross_entropy", "{\"block\": 2, \"logits\": [[1, 2]], \"labels\": [0]}",
                "\"block\" and \"shards\" choose how a loss of the margin family is run; softmax_cross_entropy is a loss on logits");
    }

    // ---------------------------------------------------------------- many random cases in one jsonl run

    @Test
    void randomCasesOfEveryLossMatchTheReferenceThroughJsonl() {
        List<Case> cases = MarginLossesContractTest.randomCases(new Random(314), 24);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < cases.size(); i++) {
            lines.append(json(cases.get(i), Integer.toString(i))).append('\n');
        }
        Path in = Cli.write(dir, "cases.jsonl", lines.toString());
        Path out = dir.resolve("results.jsonl");
        Cli.Run r = Cli.run("eval", "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.status(), r::err);
        String[] results = Cli.read(out).split("\n");
        assertEquals(cases.size(), results.length, "one output line per case");
        List<String> errors = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            JsonNode got = Cli.parse(results[i]);
            assertEquals(i, got.get("id").intValue(), "lines in order");
            for (String e : compare(cases.get(i), got, true)) {
                errors.add(cases.get(i).spec() + " (line " + i + "): " + e);
            }
        }
        Mismatches.assertNone("the .jsonl run", errors);
    }

    // ---------------------------------------------------------------- error paths

    private static final String PREVIOUS = "previous content\n";
    private static final String X = "\"features\": [[1, 0], [0.5, 0.5]]";
    private static final String W = "\"weights\": [[1, 0], [0, 1], [1, 1]]";
    private static final String Y = "\"labels\": [0, 2]";
    private static final String GOOD = "{" + X + ", " + W + ", " + Y + "}";

    /**
     * The case is refused: status 2, nothing on stdout, one {@code error:} line containing every
     * fragment, no output file written, an existing one left as it was.
     */
    private void rejects(String spec, String caseJson, String... fragments) {
        Path in = Cli.write(dir, "bad.json", caseJson);
        Path fresh = dir.resolve("fresh-output.json");
        Cli.Run r = Cli.run("eval", "--loss", spec, "--input", in.toString(), "--output", fresh.toString());
        String err = r.err();
        assertEquals(SoftmaxLab.EXIT_BAD_INPUT, r.status(), () -> spec + ": status 2; stderr: " + err);
        assertEquals("", r.out(), "nothing on stdout");
        String line = err.strip();
        assertTrue(err.endsWith("\n"), () -> "a whole line: " + err);
        assertFalse(line.contains("\n"), () -> "one stderr line: " + err);
        assertTrue(line.startsWith("error: "), () -> "begins with 'error: ': " + line);
        assertFalse(line.contains("Exception"), () -> "no Java exception names: " + line);
        for (String f : fragments) {
            assertTrue(line.contains(f), () -> spec + ": the error names '" + f + "': " + line);
        }
        assertFalse(Files.exists(fresh), "no output file on error");

        Path existing = Cli.write(dir, "existing-output.json", PREVIOUS);
        Cli.Run again = Cli.run("eval", "--loss", spec, "--input", in.toString(), "--output", existing.toString());
        assertEquals(SoftmaxLab.EXIT_BAD_INPUT, again.status());
        assertEquals(line, again.err().strip(), "the same error over an existing file");
        assertEquals(PREVIOUS, Cli.read(existing), "an existing output file is left untouched");
    }

    @Test
    void missingFeaturesWeightsOrLabelsAreRefused() {
        for (String name : NAMES) {
            rejects(name, "{" + W + ", " + Y + "}", name, "features");
            rejects(name, "{" + X + ", " + Y + "}", name, "weights");
            rejects(name, "{" + X + ", " + W + "}", name, "labels");
        }
    }

    @Test
    void shapeMismatchesAreRefused() {
        for (String name : NAMES) {
            rejects(name, "{\"features\": [[1, 0, 0], [0.5, 0.5, 1]], " + W + ", " + Y + "}", "features", "3", "2", "weights");
        }
        rejects("arcface", "{" + X + ", \"weights\": [[1, 0], [0, 1, 3], [1, 1]], " + Y + "}", "weights[1]", "3", "2");
        rejects("cosface", "{" + X + ", " + W + ", \"labels\": [0]}", "labels", "1", "2");
        rejects("normface", "{" + X + ", " + W + ", " + Y + ", \"class_weights\": [1, 2]}", "class_weights", "2", "3");
    }

    @Test
    void nonFiniteFeaturesOrWeightsAreRefused() {
        for (String name : NAMES) {
            rejects(name, "{\"features\": [[1, NaN], [0.5, 0.5]], " + W + ", " + Y + "}", "features[0][1]", "NaN");
            rejects(name, "{\"features\": [[1, 0], [0.5, Infinity]], " + W + ", " + Y + "}", "features[1][1]", "Infinity");
            rejects(name, "{\"features\": [[1, 0], [-Infinity, 0.5]], " + W + ", " + Y + "}", "features[1][0]", "-Infinity");
            rejects(name, "{" + X + ", \"weights\": [[1, 0], [0, NaN], [1, 1]], " + Y + "}", "weights[1][1]", "NaN");
            rejects(name, "{" + X + ", \"weights\": [[1, 0], [0, 1], [Infinity, 1]], " + Y + "}", "weights[2][0]", "Infinity");
            rejects(name, "{" + X + ", \"weights\": [[1, 0], [0, 1], [1, -Infinity]], " + Y + "}", "weights[2][1]", "-Infinity");
        }
    }

    @Test
    void labelsOutOfRangeAreRefused() {
        for (String name : NAMES) {
            rejects(name, "{" + X + ", " + W + ", \"labels\": [0, 3]}", "labels[1]", "3");
            rejects(name, "{" + X + ", " + W + ", \"labels\": [-1, 0]}", "labels[0]", "-1");
        }
        rejects("arcface:ignore_index=-1", "{" + X + ", " + W + ", \"labels\": [-100, 0]}", "labels[0]", "-100");
    }

    @Test
    void badParametersAreRefused() {
        rejects("sphereface:m=1.5", GOOD, "m", "integer", "1.5");
        rejects("lsoftmax:m=2.5", GOOD, "m", "integer", "2.5");
        rejects("lsoftmax:m=0", GOOD, "m", ">= 1", "0");
        rejects("arcface:m=4", GOOD, "m", "[0, pi)", "4");
        rejects("arcface:m=-0.1", GOOD, "m", "[0, pi)", "-0.1");
        rejects("cosface:gradient=straight_through", GOOD, "gradient", "straight_through", "cosface");
        rejects("sphereface:gradient=straight_through", GOOD, "gradient", "straight_through", "sphereface");
        rejects("arcface:gradient=sphereface_normalized", GOOD, "gradient", "sphereface_normalized", "arcface");
        rejects("arcface:gradient=bogus", GOOD, "gradient", "bogus");
        for (String name : List.of("normface", "cosface", "am_softmax", "arcface", "combined_margin")) {
            rejects(name + ":s=0", GOOD, "s", "> 0", "0");
            rejects(name + ":s=-2", GOOD, "s", "> 0", "-2");
        }
        rejects("l2_softmax:alpha=0", GOOD, "alpha", "> 0");
        rejects("sphereface:lambda=-1", GOOD, "lambda", ">= 0", "-1");
        rejects("arcface:easy_margin=maybe", GOOD, "easy_margin", "maybe");
        rejects("combined_margin:m1=NaN", GOOD, "m1", "finite");
        rejects("normface:label_smoothing=1", GOOD, "label_smoothing", "1");
        rejects("arcface:scale=3", GOOD, "unknown parameter 'scale'", "arcface");
        rejects("sphereface:s=3", GOOD, "unknown parameter 's'", "sphereface");
    }

    @Test
    void logitsAndTargetsAreRefusedByTheMarginFamily() {
        for (String name : NAMES) {
            rejects(name, "{" + X + ", " + W + ", " + Y + ", \"logits\": [[1, 2, 3], [1, 2, 3]]}", name, "logits");
        }
    }

    @Test
    void aBadLineOfAJsonlRunFailsAloneWithStatusOne() {
        String lines = "{\"id\": 1, \"loss\": \"arcface\", " + X + ", " + W + ", " + Y + "}\n"
                + "{\"id\": 2, \"loss\": \"sphereface:m=1.5\", " + X + ", " + W + ", " + Y + "}\n"
                + "{\"id\": 3, \"loss\": \"l2_softmax\", " + X + ", " + W + ", " + Y + "}\n";
        Path in = Cli.write(dir, "mixed.jsonl", lines);
        Cli.Run r = Cli.run("eval", "--input", in.toString());
        assertEquals(1, r.status(), r::err);
        String[] out = r.out().split("\n");
        assertEquals(3, out.length);
        assertTrue(Cli.parse(out[0]).has("grad_weights"));
        JsonNode bad = Cli.parse(out[1]);
        assertEquals(2, bad.get("id").intValue());
        assertTrue(bad.get("error").asText().contains("integer"), bad::toString);
        assertTrue(Cli.parse(out[2]).has("grad_features"));
    }
}
