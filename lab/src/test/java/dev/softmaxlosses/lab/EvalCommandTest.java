package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rules and error paths of {@code softmax-lab eval} (the last section of {@code LOSSES.md}): every
 * bad input is one {@code error:} line on stderr naming the problem, exit status 2, and no output
 * written, neither a new file nor a change to an existing one.
 */
class EvalCommandTest {

    private static final String SCE = "softmax_cross_entropy";
    private static final String GOOD = "{\"logits\": [[1, 2, 3], [0, 0, 0]], \"labels\": [2, 0]}";
    private static final String PREVIOUS = "previous content\n";

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- helpers

    private Path input(String json) {
        return Cli.write(dir, "case.json", json);
    }

    private static List<String> eval(String... args) {
        List<String> all = new ArrayList<>();
        all.add("eval");
        all.addAll(Arrays.asList(args));
        return all;
    }

    /**
     * Runs {@code args} three times (to stdout, to a new output file, over an existing output file) and
     * asserts each is rejected the same way: status 2, nothing on stdout, exactly one stderr line that
     * begins {@code error: } and contains every fragment, no output file created, an existing one left
     * untouched, no temporary file left behind. Returns the error line.
     */
    private String assertRejected(List<String> args, String... fragments) {
        Cli.Run plain = Cli.run(args.toArray(String[]::new));
        String line = assertOneErrorLine(plain, fragments);
        assertEquals("", plain.out(), "nothing on stdout");

        List<Path> before = listing();
        Path fresh = dir.resolve("fresh-output.json");
        List<String> toFresh = new ArrayList<>(args);
        toFresh.addAll(List.of("--output", fresh.toString()));
        Cli.Run freshRun = Cli.run(toFresh.toArray(String[]::new));
        assertEquals(line, assertOneErrorLine(freshRun, fragments), "the same error with --output");
        assertFalse(Files.exists(fresh), "no output file is written on error");
        assertEquals(before, listing(), "no file (temporary or other) is left behind");

        Path existing = Cli.write(dir, "existing-output.json", PREVIOUS);
        List<String> toExisting = new ArrayList<>(args);
        toExisting.addAll(List.of("--output", existing.toString()));
        Cli.Run existingRun = Cli.run(toExisting.toArray(String[]::new));
        assertEquals(line, assertOneErrorLine(existingRun, fragments), "the same error over an existing file");
        assertEquals(PREVIOUS, Cli.read(existing), "an existing output file is left untouched on error");
        return line;
    }

    private static String assertOneErrorLine(Cli.Run run, String... fragments) {
        String err = run.err();
        assertEquals(SoftmaxLab.EXIT_BAD_INPUT, run.status(), () -> "exit status for bad input; stderr: " + err);
        assertTrue(err.endsWith("\n") || err.endsWith("\r\n"), () -> "a whole line: " + err);
        String line = err.strip();
        assertFalse(line.contains("\n"), () -> "exactly one stderr line, got: " + err);
        assertTrue(line.startsWith("error: "), () -> "begins with 'error: ': " + line);
        assertFalse(line.contains("Exception"), () -> "no Java exception names: " + line);
        for (String f : fragments) {
            assertTrue(line.contains(f), () -> "the error names '" + f + "': " + line);
        }
        return line;
    }

    private String rejectsCase(String caseJson, String spec, String... fragments) {
        Path in = input(caseJson);
        return spec == null
                ? assertRejected(eval("--input", in.toString()), fragments)
                : assertRejected(eval("--loss", spec, "--input", in.toString()), fragments);
    }

    private List<Path> listing() {
        try (Stream<Path> files = Files.list(dir)) {
            return files.sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private JsonNode evalOk(String caseJson, String spec) {
        Path in = input(caseJson);
        Cli.Run r = spec == null ? Cli.run("eval", "--input", in.toString())
                : Cli.run("eval", "--loss", spec, "--input", in.toString());
        assertEquals(0, r.status(), () -> "status 0; stderr: " + r.err());
        assertEquals("", r.err(), "nothing on stderr");
        return r.json();
    }

    // ---------------------------------------------------------------- the loss spec

    @Test
    void rejectsUnknownLossListingValidOnes() {
        rejectsCase(GOOD, "softmax_crossentropy", "unknown loss 'softmax_crossentropy'", "valid losses", SCE);
    }

    @Test
    void rejectsUnknownLossGivenByTheCase() {
        rejectsCase("{\"loss\": \"nosuchloss\", \"logits\": [[1, 2]], \"labels\": [0]}", null,
                "unknown loss 'nosuchloss'", SCE);
    }

    @Test
    void rejectsUnknownParameterListingValidOnes() {
        rejectsCase(GOOD, SCE + ":temprature=2", "unknown parameter 'temprature'",
                "valid parameters: temperature, label_smoothing, class_balance, ignore_index, reduction");
    }

    @Test
    void rejectsZeroTemperature() {
        rejectsCase(GOOD, SCE + ":temperature=0", "temperature", "> 0", "0");
    }

    @Test
    void rejectsNegativeTemperature() {
        rejectsCase(GOOD, SCE + ":temperature=-1", "temperature", "> 0", "-1");
    }

    @Test
    void rejectsLabelSmoothingOfOne() {
        rejectsCase(GOOD, SCE + ":label_smoothing=1", "label_smoothing", "[0.0, 1.0)", "1.0");
    }

    @Test
    void rejectsNegativeLabelSmoothing() {
        rejectsCase(GOOD, SCE + ":label_smoothing=-0.1", "label_smoothing", "[0.0, 1.0)");
    }

    @Test
    void rejectsNonNumericTemperature() {
        rejectsCase(GOOD, SCE + ":temperature=abc", "temperature", "must be a number", "'abc'");
    }

    @Test
    void rejectsUnknownReductionListingValidOnes() {
        rejectsCase(GOOD, SCE + ":reduction=avg", "reduction", "'avg'", "mean, sum, none");
    }

    @Test
    void rejectsUnknownClassBalance() {
        rejectsCase(GOOD, SCE + ":class_balance=inverse", "class_balance", "'inverse'", "none, batch");
    }

    @Test
    void rejectsNonIntegerIgnoreIndex() {
        rejectsCase(GOOD, SCE + ":ignore_index=1.5", "ignore_index", "integer", "'1.5'");
    }

    @Test
    void rejectsParameterWithoutValue() {
        rejectsCase(GOOD, SCE + ":temperature", "temperature", "has no value");
    }

    @Test
    void rejectsParameterGivenTwice() {
        rejectsCase(GOOD, SCE + ":temperature=2,temperature=3", "temperature", "twice");
    }

    @Test
    void keepsAnErrorWithALineBreakOnOneLine() {
        rejectsCase(GOOD, "no\nsuch", "control character \\u000a");
    }

    // ---------------------------------------------------------------- shapes

    @Test
    void rejectsLabelsOfWrongLength() {
        rejectsCase("{\"logits\": [[1, 2, 3], [0, 0, 0]], \"labels\": [2]}", SCE,
                "labels", "1 entries", "expected 2");
    }

    @Test
    void rejectsRaggedLogitsRows() {
        rejectsCase("{\"logits\": [[1, 2, 3], [0, 0]], \"labels\": [2, 0]}", SCE,
                "logits[1]", "2 values", "expected 3");
    }

    @Test
    void rejectsLogitsThatAreNotAMatrix() {
        rejectsCase("{\"logits\": [1, 2, 3], \"labels\": [2]}", SCE, "logits[0]", "array");
    }

    @Test
    void rejectsRowsWithoutClasses() {
        rejectsCase("{\"logits\": [[]], \"labels\": [0]}", SCE, "logits", "at least one class");
    }

    @Test
    void rejectsTargetsOfWrongShape() {
        rejectsCase("{\"logits\": [[1, 2, 3], [0, 0, 0]], \"targets\": [[1, 0], [0, 1]]}", SCE,
                "targets", "2x2", "expected 2x3");
    }

    @Test
    void rejectsTargetsWithTooFewRows() {
        rejectsCase("{\"logits\": [[1, 2, 3], [0, 0, 0]], \"targets\": [[1, 0, 0]]}", SCE,
                "targets", "1x3", "expected 2x3");
    }

    @Test
    void rejectsClassWeightsOfWrongLength() {
        rejectsCase("{\"logits\": [[1, 2, 3]], \"labels\": [0], \"class_weights\": [1, 2]}", SCE,
                "class_weights", "2 entries", "expected 3");
    }

    @Test
    void rejectsLabelsTogetherWithTargets() {
        rejectsCase("{\"logits\": [[1, 2]], \"labels\": [0], \"targets\": [[1, 0]]}", SCE, "labels or targets");
    }

    @Test
    void rejectsCaseWithNeitherLabelsNorTargets() {
        rejectsCase("{\"logits\": [[1, 2]]}", SCE, "needs labels or targets");
    }

    @Test
    void rejectsCaseWithoutLogits() {
        rejectsCase("{\"labels\": [0]}", SCE, "needs logits");
    }

    @Test
    void rejectsArraysTheLossDoesNotTake() {
        rejectsCase("{\"logits\": [[1, 2]], \"labels\": [0], \"features\": [[1]]}", SCE, "does not take features");
    }

    @Test
    void rejectsClassBalanceWithSoftTargets() {
        rejectsCase("{\"logits\": [[1, 2]], \"targets\": [[1, 0]]}", SCE + ":class_balance=batch",
                "class_balance=batch", "hard labels");
    }

    // ---------------------------------------------------------------- labels

    @Test
    void rejectsLabelOutOfRange() {
        rejectsCase("{\"logits\": [[1, 2, 3], [0, 0, 0]], \"labels\": [0, 3]}", SCE,
                "labels[1] = 3", "out of range", "[0, 3)");
    }

    @Test
    void rejectsNegativeLabelThatIsNotTheIgnoreIndex() {
        rejectsCase("{\"logits\": [[1, 2, 3]], \"labels\": [-1]}", SCE, "labels[0] = -1", "out of range",
                "ignore_index = -100");
    }

    @Test
    void rejectsNonIntegerLabel() {
        rejectsCase("{\"logits\": [[1, 2, 3]], \"labels\": [1.5]}", SCE, "labels[0]", "1.5", "not an integer");
    }

    @Test
    void rejectsStringLabel() {
        rejectsCase("{\"logits\": [[1, 2, 3]], \"labels\": [\"1\"]}", SCE, "labels[0]", "integer", "string");
    }

    @Test
    void rejectsNegativeSoftTarget() {
        rejectsCase("{\"logits\": [[1, 2, 3]], \"targets\": [[0.5, -0.5, 1]]}", SCE, "targets[0][1]", "-0.5", "negative");
    }

    // ---------------------------------------------------------------- non-finite numbers and masks

    @Test
    void rejectsNaNLogitNamingRowAndColumn() {
        rejectsCase("{\"logits\": [[1, 2, 3], [0, NaN, 0]], \"labels\": [0, 0]}", SCE, "logits[1][1]", "NaN");
    }

    @Test
    void rejectsPositiveInfinityLogitNamingRowAndColumn() {
        rejectsCase("{\"logits\": [[1, 2, Infinity], [0, 0, 0]], \"labels\": [0, 0]}", SCE,
                "logits[0][2]", "Infinity");
    }

    @Test
    void rejectsNaNInTargetsNamingRowAndColumn() {
        rejectsCase("{\"logits\": [[1, 2, 3], [0, 0, 0]], \"targets\": [[1, 0, 0], [0, 0, NaN]]}", SCE,
                "targets[1][2]", "NaN");
    }

    @Test
    void rejectsInfiniteClassWeightNamingTheEntry() {
        rejectsCase("{\"logits\": [[1, 2, 3]], \"labels\": [0], \"class_weights\": [1, Infinity, 1]}", SCE,
                "class_weights[1]", "Infinity");
    }

    @Test
    void rejectsNegativeClassWeight() {
        rejectsCase("{\"logits\": [[1, 2, 3]], \"labels\": [0], \"class_weights\": [1, -2, 1]}", SCE,
                "class_weights[1]", "-2", ">= 0");
    }

    @Test
    void rejectsNumberOutsideTheFloatRange() {
        rejectsCase("{\"logits\": [[1, 1e39, 3]], \"labels\": [0]}", SCE, "logits[0][1]", "float32 range");
    }

    @Test
    void rejectsMaskedTargetClass() {
        rejectsCase("{\"logits\": [[1, 2, 3], [0, -Infinity, 0]], \"labels\": [0, 1]}", SCE,
                "logits[1][1]", "-Infinity", "masked", "target class of sample 1");
    }

    @Test
    void rejectsMaskedClassThatASoftTargetGivesWeight() {
        rejectsCase("{\"logits\": [[1, -Infinity, 3]], \"targets\": [[0.5, 0.25, 0.25]]}", SCE,
                "logits[0][1]", "masked", "targets[0][1]");
    }

    @Test
    void rejectsMaskedClassUnderLabelSmoothing() {
        rejectsCase("{\"logits\": [[1, -Infinity, 3]], \"labels\": [0]}", SCE + ":label_smoothing=0.1",
                "logits[0][1]", "masked", "label_smoothing");
    }

    @Test
    void rejectsRowWithEveryClassMasked() {
        rejectsCase("{\"logits\": [[1, 2, 3], [-Infinity, -Infinity, -Infinity]], \"labels\": [0, 1]}", SCE,
                "logits[1]", "every class masked");
    }

    @Test
    void acceptsNegativeInfinityAsAMaskWithProbabilityZero() {
        JsonNode r = evalOk("{\"logits\": [[1, -Infinity, 3], [-Infinity, 0, 0]], \"labels\": [2, 1]}", SCE);
        JsonNode p = r.get("probabilities");
        assertEquals(0.0, p.get(0).get(1).doubleValue(), "a masked class has probability 0");
        assertEquals(0.0, p.get(1).get(0).doubleValue());
        assertEquals(Double.NEGATIVE_INFINITY, r.get("logits").get(0).get(1).doubleValue(), "written back as -Infinity");
        assertEquals(0.0, r.get("grad_logits").get(0).get(1).doubleValue(), "no gradient into a masked class");
        double e = 1 / (1 + Math.exp(-2));
        assertEquals(e, p.get(0).get(2).doubleValue(), 1e-6, "the rest is the softmax of the unmasked classes");
        assertEquals(0.5, p.get(1).get(1).doubleValue(), 1e-7);
        double loss = (-Math.log(e) + Math.log(2)) / 2;
        assertEquals(loss, r.get("loss").doubleValue(), 1e-6);
        assertTrue(Double.isFinite(r.get("logsumexp").get(1).doubleValue()));
    }

    @Test
    void acceptsMaskedClassOfAnIgnoredSampleUnderLabelSmoothing() {
        JsonNode r = evalOk("{\"logits\": [[1, -Infinity, 3], [1, 2, 3]], \"labels\": [-100, 0]}",
                SCE + ":label_smoothing=0.1");
        assertEquals(0.0, r.get("losses").get(0).doubleValue());
        assertEquals(0.0, r.get("probabilities").get(0).get(1).doubleValue());
    }

    // ---------------------------------------------------------------- the input file

    @Test
    void rejectsMalformedJsonSayingWhere() {
        String line = rejectsCase("{\"logits\": [[1, 2, 3]], \"labels\": [0,]", SCE, "malformed JSON", "case.json", "line 1");
        assertTrue(line.contains("column"), line);
    }

    @Test
    void rejectsTrailingContentAfterTheCase() {
        rejectsCase(GOOD + "\n" + GOOD, SCE, "malformed JSON", "case.json");
    }

    @Test
    void rejectsJsonThatIsNotAnObject() {
        rejectsCase("[[1, 2, 3]]", SCE, "case.json", "must hold a JSON object", "array");
    }

    @Test
    void rejectsEmptyInputFile() {
        rejectsCase("", SCE, "case.json", "no JSON object");
    }

    @Test
    void rejectsMissingInputFile() {
        Path missing = dir.resolve("no-such-file.json");
        assertRejected(eval("--loss", SCE, "--input", missing.toString()), "input file", "no-such-file.json", "does not exist");
    }

    @Test
    void rejectsInputThatIsAFolder() {
        Path folder = dir.resolve("a-folder.json");
        try {
            Files.createDirectory(folder);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertRejected(eval("--loss", SCE, "--input", folder.toString()), "a-folder.json");
    }

    @Test
    void rejectsMissingInputOption() {
        assertRejected(eval("--loss", SCE), "--input");
    }

    @Test
    void rejectsUnknownOption() {
        Path in = input(GOOD);
        assertRejected(eval("--loss", SCE, "--input", in.toString(), "--frobnicate"), "--frobnicate");
    }

    @Test
    void rejectsOutputInAMissingFolder() {
        Path in = input(GOOD);
        Path out = dir.resolve("no-such-folder").resolve("out.json");
        Cli.Run r = Cli.run("eval", "--loss", SCE, "--input", in.toString(), "--output", out.toString());
        assertOneErrorLine(r, "no-such-folder", "does not exist");
        assertFalse(Files.exists(out));
    }

    @Test
    void rejectsOutputThatIsAFolder() {
        Path in = input(GOOD);
        Cli.Run r = Cli.run("eval", "--loss", SCE, "--input", in.toString(), "--output", dir.toString());
        assertOneErrorLine(r, "is a folder");
    }

    // ---------------------------------------------------------------- choosing the loss

    @Test
    void rejectsCaseWhenNoLossIsGivenAnywhere() {
        rejectsCase(GOOD, null, "no loss given", "--loss", "\"loss\"");
    }

    @Test
    void rejectsLossFieldThatIsNotAString() {
        rejectsCase("{\"loss\": 3, \"logits\": [[1, 2]], \"labels\": [0]}", SCE, "\"loss\"", "spec string");
    }

    @Test
    void usesTheCaseOwnLossWithoutLossOption() {
        JsonNode r = evalOk("{\"loss\": \"softmax_cross_entropy:reduction=sum\", \"logits\": [[0, 0], [0, 0]], \"labels\": [0, 1]}", null);
        assertEquals(2 * Math.log(2), r.get("loss").doubleValue(), 1e-6);
    }

    @Test
    void caseOwnLossWinsOverLossOption() {
        String c = "{\"loss\": \"softmax_cross_entropy:reduction=sum,temperature=2\", \"logits\": [[0, 2], [0, 0]], \"labels\": [0, 1]}";
        JsonNode r = evalOk(c, SCE + ":reduction=mean");
        double sum = Math.log(1 + Math.E) + Math.log(2);
        assertEquals(sum, r.get("loss").doubleValue(), 1e-6, "the case's sum and temperature, not --loss's mean");
        assertEquals(1.0, r.get("logits").get(0).get(1).doubleValue(), 1e-7, "final logits are z / T with the case's T");
    }

    @Test
    void checksTheParametersOfTheCaseOwnLoss() {
        rejectsCase("{\"loss\": \"softmax_cross_entropy:temperature=0\", \"logits\": [[1, 2]], \"labels\": [0]}", SCE,
                "temperature");
    }

    // ---------------------------------------------------------------- the output object

    @Test
    void writesExactlyTheSpecifiedFieldNames() {
        JsonNode r = evalOk(GOOD, SCE);
        List<String> names = new ArrayList<>();
        r.fieldNames().forEachRemaining(names::add);
        assertEquals(List.of("loss", "losses", "logits", "probabilities", "logsumexp", "grad_logits"), names);
    }

    @Test
    void copiesAStringId() {
        JsonNode r = evalOk("{\"id\": \"case-7\", \"logits\": [[1, 2]], \"labels\": [0]}", SCE);
        assertTrue(r.get("id").isTextual());
        assertEquals("case-7", r.get("id").asText());
    }

    @Test
    void copiesANumericId() {
        JsonNode r = evalOk("{\"id\": 42, \"logits\": [[1, 2]], \"labels\": [0]}", SCE);
        assertTrue(r.get("id").isIntegralNumber());
        assertEquals(42, r.get("id").intValue());
        JsonNode f = evalOk("{\"id\": 2.5, \"logits\": [[1, 2]], \"labels\": [0]}", SCE);
        assertEquals(2.5, f.get("id").doubleValue());
    }

    @Test
    void copiesAStructuredIdUnchanged() {
        JsonNode r = evalOk("{\"id\": {\"run\": 1, \"tag\": [\"a\"]}, \"logits\": [[1, 2]], \"labels\": [0]}", SCE);
        assertEquals(Cli.parse("{\"run\": 1, \"tag\": [\"a\"]}"), r.get("id"));
    }

    @Test
    void reductionNoneWritesNullLossAndKeepsPerSampleLosses() {
        JsonNode r = evalOk("{\"logits\": [[0, 0], [0, 0]], \"labels\": [0, 1]}", SCE + ":reduction=none");
        assertTrue(r.has("loss"), "the field is present");
        assertTrue(r.get("loss").isNull(), "loss is null for reduction=none");
        assertEquals(Math.log(2), r.get("losses").get(0).doubleValue(), 1e-7);
        assertEquals(Math.log(2), r.get("losses").get(1).doubleValue(), 1e-7);
        assertEquals(-0.5, r.get("grad_logits").get(0).get(0).doubleValue(), 1e-7, "gradients of the sum");
    }

    @Test
    void emptyBatchGivesLossZero() {
        JsonNode r = evalOk("{\"logits\": [], \"labels\": []}", SCE);
        assertEquals(0.0, r.get("loss").doubleValue());
        for (String f : List.of("losses", "logits", "probabilities", "logsumexp", "grad_logits")) {
            assertTrue(r.get(f).isArray() && r.get(f).isEmpty(), f + " is an empty array");
        }
    }

    @Test
    void emptyBatchWithClassWeightsGivesLossZero() {
        JsonNode r = evalOk("{\"logits\": [], \"labels\": [], \"class_weights\": [1, 2, 3]}", SCE);
        assertEquals(0.0, r.get("loss").doubleValue());
        JsonNode soft = evalOk("{\"logits\": [], \"targets\": [], \"class_weights\": [1, 2]}", SCE + ":reduction=sum");
        assertEquals(0.0, soft.get("loss").doubleValue());
    }

    @Test
    void emptyBatchOfSoftTargetsGivesLossZero() {
        JsonNode r = evalOk("{\"logits\": [], \"targets\": []}", SCE);
        assertEquals(0.0, r.get("loss").doubleValue());
    }

    @Test
    void allLabelsIgnoredGivesLossZeroAndZeroGradients() {
        for (String reduction : List.of("mean", "sum")) {
            JsonNode r = evalOk("{\"logits\": [[1, 2, 3], [3, -1, 0.5]], \"labels\": [-100, -100]}",
                    SCE + ":reduction=" + reduction);
            assertEquals(0.0, r.get("loss").doubleValue(), reduction);
            for (JsonNode row : r.get("grad_logits")) {
                for (JsonNode g : row) {
                    assertEquals(0.0, g.doubleValue(), reduction + ": never NaN");
                }
            }
            for (JsonNode l : r.get("losses")) {
                assertEquals(0.0, l.doubleValue());
            }
            assertEquals(1.0, Cli.doubles(r.get("probabilities").get(0))[0] + Cli.doubles(r.get("probabilities").get(0))[1]
                    + Cli.doubles(r.get("probabilities").get(0))[2], 1e-6, "probabilities are still computed");
        }
    }

    @Test
    void allWeightsZeroGivesLossZeroNotNaN() {
        JsonNode r = evalOk("{\"logits\": [[1, 2, 3]], \"labels\": [0], \"class_weights\": [0, 1, 1]}", SCE);
        assertEquals(0.0, r.get("loss").doubleValue());
        for (JsonNode g : r.get("grad_logits").get(0)) {
            assertEquals(0.0, g.doubleValue());
        }
    }

    @Test
    void customIgnoreIndexIgnoresThatLabel() {
        JsonNode r = evalOk("{\"logits\": [[1, 2, 3], [0, 0, 0]], \"labels\": [-1, 0]}", SCE + ":ignore_index=-1");
        assertEquals(Math.log(3), r.get("loss").doubleValue(), 1e-6, "the mean over the one valid sample");
        assertEquals(0.0, r.get("losses").get(0).doubleValue());
    }

    @Test
    void writesTheSameResultToAnOutputFile() {
        Path in = input(GOOD);
        Cli.Run toStdout = Cli.run("eval", "--loss", SCE, "--input", in.toString());
        Path out = Cli.write(dir, "out.json", PREVIOUS);
        Cli.Run toFile = Cli.run("eval", "--loss", SCE, "--input", in.toString(), "--output", out.toString());
        assertEquals(0, toFile.status());
        assertEquals("", toFile.out(), "nothing on stdout when --output is given");
        assertEquals("", toFile.err());
        assertEquals(toStdout.out(), Cli.read(out), "the existing file is replaced by the result");
    }

    @Test
    void prettyOutputHoldsTheSameValues() {
        Path in = input(GOOD);
        Cli.Run plain = Cli.run("eval", "--loss", SCE, "--input", in.toString());
        Cli.Run pretty = Cli.run("eval", "--loss", SCE, "--input", in.toString(), "--pretty");
        assertEquals(0, pretty.status());
        assertTrue(pretty.out().strip().contains("\n"), "indented");
        assertEquals(plain.json(), pretty.json());
    }

    @Test
    void helpExitsZero() {
        Cli.Run r = Cli.run("eval", "--help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("--input"));
    }

    // ---------------------------------------------------------------- .jsonl runs

    private Path jsonl(String... lines) {
        return Cli.write(dir, "cases.jsonl", String.join("\n", lines) + "\n");
    }

    @Test
    void jsonlBadMiddleLineGivesAnErrorLineComputesTheOthersAndExitsOne() {
        Path in = jsonl(
                "{\"id\": 1, \"logits\": [[0, 0]], \"labels\": [0]}",
                "{\"id\": \"bad\", \"logits\": [[0, 0]], \"labels\": [5]}",
                "{\"id\": 3, \"logits\": [[0, 0, 0]], \"labels\": [2]}");
        Path out = dir.resolve("results.jsonl");
        Cli.Run r = Cli.run("eval", "--loss", SCE, "--input", in.toString(), "--output", out.toString());
        assertEquals(1, r.status(), "some lines failed");
        assertEquals("", r.err());
        List<String> lines = Cli.read(out).lines().toList();
        assertEquals(3, lines.size());
        JsonNode first = Cli.parse(lines.get(0));
        JsonNode bad = Cli.parse(lines.get(1));
        JsonNode third = Cli.parse(lines.get(2));
        assertEquals(1, first.get("id").intValue());
        assertEquals(Math.log(2), first.get("loss").doubleValue(), 1e-6);
        List<String> badNames = new ArrayList<>();
        bad.fieldNames().forEachRemaining(badNames::add);
        assertEquals(List.of("id", "error"), badNames, "an error line is {\"id\": ..., \"error\": ...}");
        assertEquals("bad", bad.get("id").asText());
        assertTrue(bad.get("error").asText().contains("labels[0] = 5"), bad.toString());
        assertEquals(3, third.get("id").intValue());
        assertEquals(Math.log(3), third.get("loss").doubleValue(), 1e-6);
    }

    @Test
    void jsonlWritesOneLinePerNonBlankInputLineInOrder() {
        Path in = Cli.write(dir, "cases.jsonl",
                "{\"id\": \"a\", \"logits\": [[1, 2]], \"labels\": [0]}\n"
                        + "\n"
                        + "   \n"
                        + "{\"id\": \"b\", \"logits\": [[1, 2]], \"labels\": [1]}\r\n"
                        + "{\"id\": \"c\", \"logits\": [[1, 2]], \"labels\": [9]}\n"
                        + "{\"id\": \"d\", \"loss\": \"softmax_cross_entropy:reduction=none\", \"logits\": [[1, 2]], \"labels\": [1]}");
        Cli.Run r = Cli.run("eval", "--loss", SCE, "--input", in.toString());
        assertEquals(1, r.status());
        List<String> lines = r.out().lines().toList();
        assertEquals(4, lines.size(), r.out());
        assertEquals(List.of("a", "b", "c", "d"), lines.stream().map(l -> Cli.parse(l).get("id").asText()).toList());
        assertTrue(Cli.parse(lines.get(2)).has("error"));
        assertTrue(Cli.parse(lines.get(3)).get("loss").isNull(), "each line has its own loss and reduction");
    }

    @Test
    void jsonlMalformedLineGivesAnErrorLineWithNullId() {
        Path in = jsonl(
                "{\"id\": 1, \"logits\": [[0, 0]], \"labels\": [0]}",
                "{\"id\": 2, \"logits\": [[0, 0]",
                "{\"id\": 3, \"logits\": [[0, 0]], \"labels\": [1]}");
        Cli.Run r = Cli.run("eval", "--loss", SCE, "--input", in.toString());
        assertEquals(1, r.status());
        List<String> lines = r.out().lines().toList();
        assertEquals(3, lines.size());
        JsonNode bad = Cli.parse(lines.get(1));
        assertTrue(bad.has("id") && bad.get("id").isNull());
        assertTrue(bad.get("error").asText().contains("malformed JSON"), bad.toString());
        assertTrue(bad.get("error").asText().contains("line 2"), "names the input line: " + bad);
        assertEquals(3, Cli.parse(lines.get(2)).get("id").intValue());
    }

    @Test
    void jsonlLineWithoutLossFailsAloneWhenNoLossOptionIsGiven() {
        Path in = jsonl(
                "{\"id\": 1, \"loss\": \"softmax_cross_entropy\", \"logits\": [[0, 0]], \"labels\": [0]}",
                "{\"id\": 2, \"logits\": [[0, 0]], \"labels\": [0]}");
        Cli.Run r = Cli.run("eval", "--input", in.toString());
        assertEquals(1, r.status());
        List<String> lines = r.out().lines().toList();
        assertEquals(Math.log(2), Cli.parse(lines.get(0)).get("loss").doubleValue(), 1e-6);
        assertTrue(Cli.parse(lines.get(1)).get("error").asText().contains("no loss given"));
    }

    @Test
    void jsonlWithEveryLineGoodExitsZero() {
        Path in = jsonl(
                "{\"id\": 1, \"logits\": [[0, 0]], \"labels\": [0]}",
                "{\"id\": 2, \"logits\": [], \"labels\": []}");
        Cli.Run r = Cli.run("eval", "--loss", SCE, "--input", in.toString());
        assertEquals(0, r.status(), r.out());
        assertEquals(2, r.out().lines().count());
    }

    @Test
    void jsonlWithABadLossOptionIsBadInputForTheWholeRun() {
        Path in = jsonl("{\"id\": 1, \"logits\": [[0, 0]], \"labels\": [0]}");
        assertRejected(eval("--loss", "nosuch", "--input", in.toString()), "unknown loss 'nosuch'");
    }

    @Test
    void jsonlResultsFileIsWrittenEvenWhenSomeLinesFail() {
        Path in = jsonl("{\"id\": 1, \"logits\": [[0, 0]], \"labels\": [7]}");
        Path out = Cli.write(dir, "results.jsonl", PREVIOUS);
        Cli.Run r = Cli.run("eval", "--loss", SCE, "--input", in.toString(), "--output", out.toString());
        assertAll(
                () -> assertEquals(1, r.status()),
                () -> assertTrue(Cli.parse(Cli.read(out).strip()).has("error")));
    }

    // ---------------------------------------------------------------- hostile and careless input

    @Test
    void rejectsAFieldGivenTwiceWhichEverComesLast() {
        rejectsCase("{\"logits\": [[1, 2, 3]], \"labels\": [0], \"labels\": [1]}", SCE, "given twice", "labels");
        rejectsCase("{\"loss\": \"focal\", \"loss\": \"softmax_cross_entropy\", \"logits\": [[1, 2]], \"labels\": [0]}",
                null, "given twice", "loss");
    }

    @Test
    void aNumberBeyondFloat32IsRefusedWhetherOrNotADoubleHoldsIt() {
        rejectsCase("{\"logits\": [[1, -1e400, 3]], \"labels\": [0]}", SCE, "logits[0][1] = -1e400", "float32 range");
        rejectsCase("{\"logits\": [[1, -1e39, 3]], \"labels\": [0]}", SCE, "logits[0][1] = -1e39", "float32 range");
        rejectsCase("{\"logits\": [[1, 2]], \"labels\": [0], \"class_weights\": [1, 1e999]}", SCE, "class_weights[1]");
        JsonNode masked = evalOk("{\"logits\": [[1, -Infinity, 3]], \"labels\": [0]}", SCE);
        assertEquals(0.0, masked.get("probabilities").get(0).get(1).doubleValue(), "the token -Infinity still masks");
    }

    @Test
    void invalidUtf8AndTrailingContentAreNamed() throws IOException {
        Path in = dir.resolve("case.json");
        Files.write(in, "{\"id\": \"\u00ff\", \"logits\": [[1, 2]], \"labels\": [0]}".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertRejected(eval("--loss", SCE, "--input", in.toString()), "case.json is not UTF-8 text", "line 1");
        rejectsCase(GOOD + " {}", SCE, "malformed JSON", "content after the JSON object");
    }

    @Test
    void controlCharactersAreEscapedAndLongTextShortened() {
        String line = rejectsCase("{\"loss\": \"\\u001b[2Jx\", \"logits\": [[1, 2]], \"labels\": [0]}", null, "\\u001b[2Jx");
        assertFalse(line.chars().anyMatch(ch -> ch < 0x20), "no control character reaches the terminal: " + line);
        String longName = "x".repeat(1_000_000);
        String longLine = rejectsCase("{\"loss\": \"" + longName + "\", \"logits\": [[1, 2]], \"labels\": [0]}", null, "unknown loss");
        assertTrue(longLine.length() < 1000, "a few hundred characters, not a megabyte: " + longLine.length());
    }

    @Test
    void anIdAfterABadValueIsStillCopiedToTheErrorLine() {
        Path in = jsonl("{\"logits\": [[0, \"x\"]], \"labels\": [0], \"id\": \"late\"}",
                "{\"logits\": [[0, 0]], \"labels\": [0], \"id\": \"fine\"}");
        Cli.Run r = Cli.run("eval", "--loss", SCE, "--input", in.toString());
        assertEquals(1, r.status());
        List<String> lines = r.out().lines().toList();
        assertEquals("late", Cli.parse(lines.get(0)).get("id").asText());
        assertTrue(Cli.parse(lines.get(0)).get("error").asText().contains("logits[0][1] must be a number"), lines.get(0));
        assertEquals("fine", Cli.parse(lines.get(1)).get("id").asText());
    }

    @Test
    void jsonlLinesLongerThanTheReadBufferAreReadWhole() {
        StringBuilder logits = new StringBuilder("[[");
        for (int i = 0; i < 30_000; i++) {
            logits.append(i == 0 ? "" : ", ").append(i % 7);
        }
        logits.append("]]");
        Path in = jsonl("{\"id\": 1, \"logits\": " + logits + ", \"labels\": [3]}", "{\"id\": 2, \"logits\": [[0, 0]], \"labels\": [0]}");
        Cli.Run r = Cli.run("eval", "--loss", SCE + ":reduction=sum", "--input", in.toString());
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(30_000, Cli.parse(lines.get(0)).get("logits").get(0).size());
        assertEquals(2, Cli.parse(lines.get(1)).get("id").intValue());
    }

    @Test
    void refusesToWriteTheResultsOverTheInput() throws IOException {
        Path in = input(GOOD);
        Cli.Run r = Cli.run("eval", "--loss", SCE, "--input", in.toString(), "--output", in.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("is the input file"), r.err());
        assertEquals(GOOD, Cli.read(in), "the input is untouched");
    }

    @Test
    void outputFilesFollowTheUmaskAndAReplacedFileKeepsItsMode() throws IOException {
        Path in = input(GOOD);
        Path probe = Files.createFile(dir.resolve("probe"));
        Path fresh = dir.resolve("fresh.json");
        assertEquals(0, Cli.run("eval", "--loss", SCE, "--input", in.toString(), "--output", fresh.toString()).status());
        assertEquals(Files.getPosixFilePermissions(probe), Files.getPosixFilePermissions(fresh), "as any new file, not 0600");
        Path shared = Cli.write(dir, "shared.json", PREVIOUS);
        Set<PosixFilePermission> mode = PosixFilePermissions.fromString("rw-rw-r--");
        Files.setPosixFilePermissions(shared, mode);
        assertEquals(0, Cli.run("eval", "--loss", SCE, "--input", in.toString(), "--output", shared.toString()).status());
        assertEquals(mode, Files.getPosixFilePermissions(shared));
        assertTrue(Cli.read(shared).startsWith("{\"loss\""));
    }

    @Test
    void aLinkIsWrittenThroughAndAPipeIsWrittenNotReplaced() throws Exception {
        Path in = input(GOOD);
        Path real = Cli.write(dir, "real.json", PREVIOUS);
        Path link = Files.createSymbolicLink(dir.resolve("link.json"), real.getFileName());
        assertEquals(0, Cli.run("eval", "--loss", SCE, "--input", in.toString(), "--output", link.toString()).status());
        assertTrue(Files.isSymbolicLink(link), "the link stays a link");
        assertTrue(Cli.read(real).startsWith("{\"loss\""), "the file it points to has the result");

        Path fifo = dir.resolve("pipe");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        java.util.concurrent.CompletableFuture<String> read = java.util.concurrent.CompletableFuture.supplyAsync(() -> Cli.read(fifo));
        Cli.Run r = Cli.run("eval", "--loss", SCE, "--input", in.toString(), "--output", fifo.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(read.get(30, java.util.concurrent.TimeUnit.SECONDS).startsWith("{\"loss\""));
        assertFalse(Files.isRegularFile(fifo), "the pipe is still a pipe");
    }

    @Test
    void aFailedWriteToStandardOutputIsAnError() {
        Path in = input(GOOD);
        java.io.OutputStream full = new java.io.OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("No space left on device");
            }
        };
        Cli.Run r = Cli.run(full, "eval", "--loss", SCE, "--input", in.toString());
        assertEquals(2, r.status());
        assertEquals("error: cannot write to standard output: No space left on device", r.err().strip());
    }
}
