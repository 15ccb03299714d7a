package dev.softmaxlosses.lab;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.softmaxlosses.Loss;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.Reduction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code softmax-lab eval}: computes a loss on data given as JSON, as the last section of
 * {@code LOSSES.md} specifies. A {@code .jsonl} input is one case per line (blank lines are skipped)
 * and gives one output line per case, in order.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Computes a loss, its final logits, probabilities, log-sum-exp and gradients from JSON.",
                "A case may carry its own \"loss\" (it wins over --loss) and an \"id\" (copied to the output).",
                "Exit status: 0 done; 1 some .jsonl lines failed (their output lines say why); 2 bad input."},
        footer = {"", "Example: softmax-lab eval --loss softmax_cross_entropy:label_smoothing=0.1 --input examples/eval/softmax.json"})
final class EvalCommand implements Callable<Integer> {

    private static final JsonMapper WRITER = JsonMapper.builder()
            .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
            .build();

    @Option(names = "--loss", paramLabel = "SPEC",
            description = "The loss, e.g. softmax_cross_entropy or softmax_cross_entropy:temperature=2,reduction=sum.")
    String loss;

    @Option(names = "--input", required = true, paramLabel = "FILE",
            description = "One JSON case, or a .jsonl file of cases (one per line).")
    Path input;

    @Option(names = "--output", paramLabel = "FILE",
            description = "Where to write the result (default: standard output). Written whole or not at all.")
    Path output;

    @Option(names = "--pretty", description = "Indent the output of a single case.")
    boolean pretty;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            Loss defaultLoss = loss == null ? null : LossSpec.parse(loss).create();
            requireWritableTarget();
            String text = read(input);
            boolean jsonl = input.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".jsonl");
            Outcome outcome = jsonl ? evaluateLines(text, defaultLoss) : evaluateOne(text, defaultLoss);
            emit(outcome.bytes());
            return outcome.failedLines() > 0 ? 1 : 0;
        } catch (BadInputException | IllegalArgumentException e) {
            err.println("error: " + SoftmaxLab.oneLine(e.getMessage()));
            err.flush();
            return SoftmaxLab.EXIT_BAD_INPUT;
        }
    }

    private record Outcome(byte[] bytes, int failedLines) {}

    private Outcome evaluateOne(String text, Loss defaultLoss) {
        JsonNode c = JsonCases.parse(text, input.toString());
        Evaluated e = evaluate(c, defaultLoss);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = WRITER.createGenerator(bytes)) {
            if (pretty) {
                g.useDefaultPrettyPrinter();
            }
            writeResult(g, c.get("id"), e);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        bytes.write('\n');
        return new Outcome(bytes.toByteArray(), 0);
    }

    private Outcome evaluateLines(String text, Loss defaultLoss) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int failed = 0;
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            JsonNode id = null;
            try (JsonGenerator g = WRITER.createGenerator(bytes)) {
                try {
                    JsonNode c = JsonCases.parse(lines[i], input + " line " + (i + 1));
                    id = c.get("id");
                    Evaluated e = evaluate(c, defaultLoss);
                    writeResult(g, id, e);
                } catch (BadInputException | IllegalArgumentException e) {
                    failed++;
                    g.writeStartObject();
                    g.writeFieldName("id");
                    g.writeTree(id);
                    g.writeStringField("error", e.getMessage());
                    g.writeEndObject();
                }
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
            bytes.write('\n');
        }
        return new Outcome(bytes.toByteArray(), failed);
    }

    private record Evaluated(Loss loss, LossResult result) {}

    private static Evaluated evaluate(JsonNode c, Loss defaultLoss) {
        Loss chosen = defaultLoss;
        JsonNode own = c.get("loss");
        if (own != null && !own.isNull()) {
            if (!own.isTextual()) {
                throw new BadInputException("\"loss\" must be a spec string such as \"softmax_cross_entropy\"");
            }
            chosen = LossSpec.parse(own.asText()).create();
        }
        if (chosen == null) {
            throw new BadInputException("no loss given: pass --loss SPEC or give the case a \"loss\" field");
        }
        LossInput in = JsonCases.input(c);
        return new Evaluated(chosen, chosen.compute(in));
    }

    private static void writeResult(JsonGenerator g, JsonNode id, Evaluated e) throws IOException {
        LossResult r = e.result();
        g.writeStartObject();
        if (id != null) {
            g.writeFieldName("id");
            g.writeTree(id);
        }
        g.writeFieldName("loss");
        if (r.reduction() == Reduction.NONE) {
            g.writeNull();
        } else {
            g.writeNumber(r.loss());
        }
        writeVector(g, "losses", r.losses());
        writeMatrix(g, "logits", r.logits(), r.rows(), r.cols());
        writeMatrix(g, "probabilities", r.probabilities(), r.rows(), r.cols());
        writeVector(g, "logsumexp", r.logSumExp());
        if (r.hasFeatureGradients()) {
            writeMatrix(g, "grad_features", r.gradFeatures(), r.rows(), r.dim());
            writeMatrix(g, "grad_weights", r.gradWeights(), r.cols(), r.dim());
        } else {
            writeMatrix(g, "grad_logits", r.gradLogits(), r.rows(), r.cols());
        }
        g.writeEndObject();
    }

    private static void writeVector(JsonGenerator g, String name, float[] values) throws IOException {
        g.writeArrayFieldStart(name);
        for (float v : values) {
            g.writeNumber(v);
        }
        g.writeEndArray();
    }

    private static void writeMatrix(JsonGenerator g, String name, float[] values, int rows, int cols) throws IOException {
        g.writeArrayFieldStart(name);
        for (int r = 0; r < rows; r++) {
            g.writeStartArray();
            for (int c = 0; c < cols; c++) {
                g.writeNumber(values[r * cols + c]);
            }
            g.writeEndArray();
        }
        g.writeEndArray();
    }

    private static String read(Path path) {
        try {
            return Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BadInputException("input file " + path + " does not exist");
        } catch (IOException | UncheckedIOException e) {
            throw new BadInputException("cannot read input file " + path + ": " + e.getMessage());
        }
    }

    /** Fails before any work when the output cannot be written, so nothing is computed in vain. */
    private void requireWritableTarget() {
        if (output == null) {
            return;
        }
        if (Files.isDirectory(output)) {
            throw new BadInputException("output " + output + " is a folder, expected a file name");
        }
        Path folder = output.toAbsolutePath().getParent();
        if (folder == null || !Files.isDirectory(folder)) {
            throw new BadInputException("the folder of output " + output + " does not exist");
        }
    }

    private void emit(byte[] bytes) {
        if (output == null) {
            PrintWriter out = spec.commandLine().getOut();
            out.print(new String(bytes, StandardCharsets.UTF_8));
            out.flush();
            return;
        }
        try {
            AtomicFiles.write(output, bytes);
        } catch (IOException e) {
            throw new BadInputException("cannot write output " + output + ": " + e.getMessage());
        }
    }
}
