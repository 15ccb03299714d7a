package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.softmaxlosses.contract.LogitLossesContractTest;
import dev.softmaxlosses.contract.LogitLossesContractTest.Case;
import dev.softmaxlosses.testing.Mismatches;
import dev.softmaxlosses.testing.ReferenceLogitLosses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.softmaxlosses.testing.ContractData.labels;
import static dev.softmaxlosses.testing.ContractData.logits;
import static dev.softmaxlosses.testing.ContractData.mask;
import static dev.softmaxlosses.testing.ContractData.near;
import static dev.softmaxlosses.testing.ContractData.quarterLogits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code focal}, {@code distillation}, {@code multiclass_hinge}, {@code max_hinge}, {@code lse_hinge}
 * and {@code softplus_lse} through {@code softmax-lab eval}: the JSON in and out (a few cases of each
 * loss, every output field compared with core's {@link ReferenceLogitLosses} at a float32 tolerance
 * {@code |got - expected| <= 1e-6 + 1e-5 |expected|}, which proves the mapping of each array and
 * parameter), and each loss's error paths (status 2, one {@code error:} line naming the problem, no
 * output file). The losses' contract itself is tested in core ({@code LogitLossesContractTest}), on
 * the scalar and the SIMD kernels.
 */
class EvalLogitLossesTest {

    private static final double ABS = 1e-6;
    private static final double REL = 1e-5;

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- a case and its expected values

    /** A contract case as eval's JSON (floats, so that the JSON holds exactly what the reference reads). */
    private static String json(Case c, String id) {
        StringBuilder json = new StringBuilder("{");
        if (id != null) {
            json.append("\"id\": ").append(id).append(", \"loss\": \"").append(c.spec).append("\", ");
        }
        json.append("\"logits\": ").append(Cli.json(c.logits));
        if (c.labels != null) {
            json.append(", \"labels\": ").append(Cli.json(c.labels));
        }
        if (c.teacher != null) {
            json.append(", \"teacher_logits\": ").append(Cli.json(c.teacher));
        }
        if (c.classWeights != null) {
            json.append(", \"class_weights\": ").append(Cli.json(c.classWeights));
        }
        return json.append('}').toString();
    }

    private JsonNode eval(Case c) {
        Path in = Cli.write(dir, "case.json", json(c, null));
        Cli.Run r = Cli.run("eval", "--loss", c.spec, "--input", in.toString());
        assertEquals(0, r.status(), () -> c.spec + ": status 0; stderr: " + r.err());
        assertEquals("", r.err(), "nothing on stderr");
        return r.json();
    }

    /** Runs one case and compares every output field with the reference. */
    private JsonNode check(Case c) {
        JsonNode got = eval(c);
        Mismatches.assertNone(c.spec, Mismatches.logits(c.expected(), Cli.result(got), ABS, REL));
        return got;
    }

    // ---------------------------------------------------------------- each loss's arrays and parameters

    @Test
    void focalWithClassWeightsIgnoredSamplesAndMaskedClassesMatchesTheReference() {
        Random random = new Random(104);
        float[][] z = logits(random, 12, 5, 3);
        int[] y = labels(random, 12, 5, 0.3, 3);
        mask(random, z, y, 0.3);
        check(new Case("focal:ignore_index=3,gamma=0.5,alpha=2", z, y).classWeights(0.5f, 2f, 0f, 1.25f, 3f)
                .with(o -> o.ignoreIndex(3).gamma(0.5).alpha(2)));
        check(new Case("focal:reduction=none", logits(random, 6, 5, 2), labels(random, 6, 5, 0, -100)).with(o -> o.reduction("none")));
    }

    @Test
    void distillationReadsTheTeacherLogitsWithAndWithoutLabels() {
        Random random = new Random(201);
        float[][] z = logits(random, 7, 5, 2);
        float[][] teacher = near(random, z, 1.5);
        int[] y = {0, -1, 3, -1, 4, 2, 1};
        check(new Case("distillation:alpha=0.3,temperature=0.5,ignore_index=-1,reduction=sum", z, y).teacher(teacher)
                .with(o -> o.alpha(0.3).temperature(0.5).ignoreIndex(-1).reduction("sum")));
        check(new Case("distillation:alpha=1,temperature=2", z, null).teacher(teacher).with(o -> o.alpha(1).temperature(2)));
        check(new Case("distillation", z, labels(random, 7, 5, 0, -100)).teacher(teacher));
    }

    @Test
    void theHingeLossesReadTheirMarginAndScale() {
        Random random = new Random(301);
        float[][] z = quarterLogits(random, 10, 6, 3);
        int[] y = labels(random, 10, 6, 0.2, -100);
        check(new Case("multiclass_hinge:margin=0.5", z, y).with(o -> o.margin(0.5)));
        check(new Case("max_hinge:margin=2,reduction=sum", z, y).with(o -> o.margin(2).reduction("sum")));
        check(new Case("lse_hinge:margin=1,reduction=none", z, y).with(o -> o.margin(1).reduction("none")));
        check(new Case("softplus_lse:scale=2,margin=0.25", z, y).with(o -> o.scale(2).margin(0.25)));
        check(new Case("multiclass_hinge", z, y));
        check(new Case("softplus_lse", z, y));
    }

    @Test
    void emptyBatchAndEveryLabelIgnoredGiveZero() {
        for (String name : ALL) {
            Case all = new Case(name, new float[][] {{1f, 2f, 3f}, {0f, -1f, 4f}}, new int[] {-100, -100});
            if (name.equals("distillation")) {
                all = new Case("distillation:alpha=0", all.logits, all.labels).with(o -> o.alpha(0))
                        .teacher(new float[][] {{3f, 2f, 1f}, {0f, 0f, 0f}});
            }
            JsonNode got = check(all);
            assertEquals(0, got.get("loss").doubleValue(), name);
            Path in = Cli.write(dir, "empty.json", name.equals("distillation")
                    ? "{\"logits\": [], \"teacher_logits\": [], \"labels\": []}"
                    : "{\"logits\": [], \"labels\": []}");
            Cli.Run r = Cli.run("eval", "--loss", name, "--input", in.toString());
            assertEquals(0, r.status(), () -> name + ": " + r.err());
            assertEquals(0, r.json().get("loss").doubleValue(), name + " on an empty batch");
            assertEquals(0, r.json().get("losses").size());
        }
    }

    private static final List<String> ALL =
            List.of("focal", "distillation", "multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse");

    /** Random cases of every loss and parameter, one {@code .jsonl} run, each line checked and in order. */
    @Test
    void randomCasesOfEveryLossMatchTheReferenceThroughJsonl() {
        List<Case> cases = LogitLossesContractTest.randomCases(new Random(400), 36);
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
            for (String e : Mismatches.logits(cases.get(i).expected(), Cli.result(got), ABS, REL)) {
                errors.add(cases.get(i).spec + " (line " + i + "): " + e);
            }
        }
        Mismatches.assertNone("the .jsonl run", errors);
    }

    // ---------------------------------------------------------------- error paths

    private static final String PREVIOUS = "previous content\n";

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
            assertTrue(line.contains(f), () -> "the error names '" + f + "': " + line);
        }
        assertFalse(Files.exists(fresh), "no output file on error");

        Path existing = Cli.write(dir, "existing-output.json", PREVIOUS);
        Cli.Run again = Cli.run("eval", "--loss", spec, "--input", in.toString(), "--output", existing.toString());
        assertEquals(SoftmaxLab.EXIT_BAD_INPUT, again.status());
        assertEquals(line, again.err().strip(), "the same error over an existing file");
        assertEquals(PREVIOUS, Cli.read(existing), "an existing output file is left untouched");
    }

    private static final String THREE = "\"logits\": [[1, 2, 3], [0.5, -1, 2]]";

    @Test
    void distillationWithoutTeacherLogitsIsRefused() {
        rejects("distillation", "{" + THREE + ", \"labels\": [0, 2]}", "distillation", "teacher_logits");
    }

    @Test
    void distillationBelowAlphaOneWithoutLabelsIsRefused() {
        String c = "{" + THREE + ", \"teacher_logits\": [[1, 2, 3], [0, 0, 0]]}";
        rejects("distillation", c, "distillation", "labels");
        rejects("distillation:alpha=0.3", c, "distillation", "labels");
        rejects("distillation:alpha=0", c, "distillation", "labels");
    }

    @Test
    void teacherLogitsOfAnotherShapeAreRefused() {
        rejects("distillation", "{" + THREE + ", \"teacher_logits\": [[1, 2], [0, 0]], \"labels\": [0, 2]}",
                "teacher_logits", "2x2", "2x3");
        rejects("distillation", "{" + THREE + ", \"teacher_logits\": [[1, 2, 3]], \"labels\": [0, 2]}",
                "teacher_logits", "1x3", "2x3");
    }

    @Test
    void classWeightsAreRefusedByTheHingeLossesAndDistillation() {
        for (String name : List.of("multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse")) {
            rejects(name, "{" + THREE + ", \"labels\": [0, 2], \"class_weights\": [1, 1, 2]}", name, "class_weights");
        }
        rejects("distillation", "{" + THREE + ", \"teacher_logits\": [[1, 2, 3], [0, 0, 0]], \"labels\": [0, 2],"
                + " \"class_weights\": [1, 1, 2]}", "distillation", "class_weights");
    }

    @Test
    void oneClassIsRefusedByTheHingeLosses() {
        for (String name : List.of("multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse")) {
            rejects(name, "{\"logits\": [[1], [2]], \"labels\": [0, 0]}", name, "2 classes", "1");
        }
    }

    @Test
    void badParametersAreRefused() {
        String labelled = "{" + THREE + ", \"labels\": [0, 2]}";
        String distilled = "{" + THREE + ", \"teacher_logits\": [[1, 2, 3], [0, 0, 0]], \"labels\": [0, 2]}";
        rejects("focal:gamma=-1", labelled, "gamma", ">= 0", "-1");
        rejects("focal:alpha=0", labelled, "alpha", "> 0", "0");
        rejects("focal:alpha=-2", labelled, "alpha", "> 0", "-2");
        rejects("focal:gama=2", labelled, "unknown parameter 'gama'", "gamma");
        rejects("distillation:alpha=1.5", distilled, "alpha", "[0, 1]", "1.5");
        rejects("distillation:alpha=-0.1", distilled, "alpha", "[0, 1]", "-0.1");
        rejects("distillation:temperature=0", distilled, "temperature", "> 0");
        rejects("distillation:temperature=-4", distilled, "temperature", "> 0", "-4");
        rejects("softplus_lse:scale=0", labelled, "scale", "> 0", "0");
        rejects("softplus_lse:scale=-2", labelled, "scale", "> 0", "-2");
        rejects("multiclass_hinge:margin=Infinity", labelled, "margin", "finite");
        rejects("max_hinge:margin=abc", labelled, "margin", "abc");
        rejects("lse_hinge:scale=2", labelled, "unknown parameter 'scale'");
    }

    @Test
    void studentMaskedWhereTheTeacherIsNotIsRefused() {
        rejects("distillation", "{\"logits\": [[1, 2, 3], [0.5, -Infinity, 2]], \"teacher_logits\": [[1, 2, 3], [0, 0, 0]],"
                + " \"labels\": [0, 2]}", "logits[1][1]", "-Infinity", "teacher_logits[1][1]");
    }

    @Test
    void nonFiniteTeacherLogitsAreRefused() {
        rejects("distillation", "{" + THREE + ", \"teacher_logits\": [[1, 2, 3], [0, NaN, 0]], \"labels\": [0, 2]}",
                "teacher_logits[1][1]", "NaN");
        rejects("distillation", "{" + THREE + ", \"teacher_logits\": [[1, 2, 3], [0, 0, Infinity]], \"labels\": [0, 2]}",
                "teacher_logits[1][2]", "Infinity");
    }

    @Test
    void maskedTargetAndBadLabelsAreRefused() {
        rejects("focal", "{\"logits\": [[1, 2, 3], [-Infinity, 0, 1]], \"labels\": [0, 0]}", "logits[1][0]", "target");
        for (String name : List.of("multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse")) {
            rejects(name, "{\"logits\": [[1, 2, 3], [-Infinity, 0, 1]], \"labels\": [0, 0]}", "logits[1][0]", "target");
            rejects(name, "{" + THREE + ", \"labels\": [0, 3]}", "labels[1]", "3");
            rejects(name, "{" + THREE + "}", name, "labels");
        }
        rejects("focal", "{" + THREE + ", \"labels\": [0, 2], \"class_weights\": [1, 2]}", "class_weights", "3");
    }

    @Test
    void teacherLogitsAreRefusedByTheOtherLosses() {
        for (String name : List.of("focal", "multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse")) {
            rejects(name, "{" + THREE + ", \"labels\": [0, 2], \"teacher_logits\": [[1, 2, 3], [0, 0, 0]]}",
                    name, "teacher_logits");
        }
    }

    @Test
    void aBadLineOfAJsonlRunFailsAloneWithStatusOne() {
        String lines = "{\"id\": 1, \"loss\": \"focal\", " + THREE + ", \"labels\": [0, 2]}\n"
                + "{\"id\": 2, \"loss\": \"distillation\", " + THREE + ", \"labels\": [0, 2]}\n"
                + "{\"id\": 3, \"loss\": \"max_hinge\", " + THREE + ", \"labels\": [0, 2]}\n";
        Path in = Cli.write(dir, "mixed.jsonl", lines);
        Cli.Run r = Cli.run("eval", "--input", in.toString());
        assertEquals(1, r.status(), r::err);
        String[] out = r.out().split("\n");
        assertEquals(3, out.length);
        assertTrue(Cli.parse(out[0]).has("loss"));
        JsonNode bad = Cli.parse(out[1]);
        assertEquals(2, bad.get("id").intValue());
        assertTrue(bad.get("error").asText().contains("teacher_logits"), bad::toString);
        assertTrue(Cli.parse(out[2]).has("loss"));
    }
}
