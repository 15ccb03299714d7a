package dev.softmaxlosses.lab;

import dev.softmaxlosses.spec.LossRegistry;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.softmaxlosses.FeatureLoss;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.Loss;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.Reduction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
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
            .disable(com.fasterxml.jackson.core.JsonGenerator.Feature.AUTO_CLOSE_TARGET)
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

    @ParentCommand
    SoftmaxLab lab;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            Loss defaultLoss = loss == null ? null : LossRegistry.create(loss);
            requireReadableInput();
            requireWritableTarget();
            boolean jsonl = input.getFileName() != null
                    && input.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jsonl");
            try (InputStream in = openInput(); Sink sink = openSink()) {
                int status = jsonl ? evaluateLines(in, defaultLoss, sink, err) : evaluateOne(in, defaultLoss, sink);
                sink.commit();
                return status;
            }
        } catch (BadInputException | IllegalArgumentException | Sink.WriteFailure e) {
            return SoftmaxLab.badInput(err, e.getMessage());
        } catch (UncheckedIOException e) {
            return SoftmaxLab.badInput(err, "cannot read input file " + Messages.quote(input.toString()) + ": "
                    + Messages.reason(e.getCause()));
        } catch (IOException e) {
            // Only closing the input or removing an unfinished output file fails here.
            return SoftmaxLab.badInput(err, "cannot finish " + (output == null ? "reading " + input : "writing " + output)
                    + ": " + Messages.reason(e));
        }
    }

    private int evaluateOne(InputStream in, Loss defaultLoss, Sink sink) {
        JsonCases.Case c = JsonCases.read(in, input.toString());
        Evaluated e = evaluate(c, defaultLoss);
        sink.write(g -> {
            if (pretty) {
                g.useDefaultPrettyPrinter();
            }
            writeResult(g, c.id(), e);
        });
        return 0;
    }

    /**
     * One output line per non-blank input line, written as it is computed: a bad line becomes
     * {@code {"id": ..., "error": "..."}} and the others go on, also after running out of memory on one
     * line or after a bug on one line (status 3 then, with one line on stderr).
     */
    private int evaluateLines(InputStream in, Loss defaultLoss, Sink sink, PrintWriter err) {
        LineInput lines = new LineInput(in);
        int failed = 0;
        int internal = 0;
        for (int number = 1; lines.next(); number++) {
            String where = input + " line " + number;
            JsonCases.Case c = null;
            String error;
            try {
                c = JsonCases.readOrBlank(lines, where);
                if (c == null) {
                    continue;
                }
                Evaluated e = evaluate(c, defaultLoss);
                JsonNode id = c.id();
                sink.write(g -> writeResult(g, id, e));
                continue;
            } catch (BadInputException | IllegalArgumentException e) {
                error = Messages.oneLine(e.getMessage());
            } catch (OutOfMemoryError e) {
                error = SoftmaxLab.outOfMemory();
            } catch (RuntimeException e) {
                if (e instanceof Sink.WriteFailure || e instanceof UncheckedIOException) {
                    throw e;
                }
                internal++;
                error = "internal error, please report it: " + Messages.oneLine(String.valueOf(e));
                if (internal == 1) {
                    SoftmaxLab.reportCrash(err, e, "on " + where);
                }
            }
            failed++;
            JsonNode id = c == null ? null : c.id();
            String message = error;
            sink.write(g -> {
                g.writeStartObject();
                g.writeFieldName("id");
                g.writeTree(id);
                g.writeStringField("error", message);
                g.writeEndObject();
            });
        }
        return internal > 0 ? SoftmaxLab.EXIT_INTERNAL_ERROR : failed > 0 ? 1 : 0;
    }

    private record Evaluated(Loss loss, LossResult result) {}

    private static Evaluated evaluate(JsonCases.Case c, Loss defaultLoss) {
        Loss chosen = defaultLoss;
        String own = c.loss();
        if (own != null) {
            chosen = LossRegistry.create(own);
        }
        if (chosen == null) {
            throw new BadInputException("no loss given: pass --loss SPEC or give the case a \"loss\" field");
        }
        EvalInput in = c.input();
        requireMemory(chosen, c, in);
        if (c.hasRunOptions() && !(chosen instanceof FeatureLoss)) {
            throw new BadInputException("\"block\" and \"shards\" choose how a loss of the margin family is run; "
                    + chosen.spec().name() + " is a loss on logits");
        }
        if (!(chosen instanceof FeatureLoss)) {
            for (String field : c.stateFields()) {
                EvalInput.forbid(chosen.spec().name(), field, field);
            }
            EvalInput.forbid(chosen.spec().name(), "margins", in.margins());
        }
        LossResult result = switch (chosen) {
            case LogitLoss logits -> LogitCases.compute(logits, in);
            case FeatureLoss features -> FeatureCases.compute(features, c, in);
            default -> throw new BadInputException("the loss " + chosen.spec().name() + " is neither on logits nor on features");
        };
        return new Evaluated(chosen, result);
    }

    /**
     * Refuses a case whose results cannot fit in the memory left to the JVM, before computing: its
     * {@code N x C} outputs (final logits, probabilities and a gradient, and for the margin family the
     * products and their gradient) are several times the size of its input.
     */
    private static void requireMemory(Loss loss, JsonCases.Case c, EvalInput in) {
        int rows;
        int columns;
        if (in.logits() != null) {
            rows = in.logits().rows();
            columns = in.logits().cols();
        } else if (in.features() != null && in.weights() != null) {
            rows = in.features().rows();
            columns = in.weights().rows();
        } else {
            return;
        }
        long cells = (long) rows * columns;
        if (cells > JsonCases.MAX_VALUES) {
            return; // larger than an array: the loss says so, naming the shape
        }
        long values = loss instanceof FeatureLoss ? FeatureCases.resultValues(c, rows, columns) : 3 * cells;
        SoftmaxLab.requireMemory(4 * values, "the case's " + rows + " x " + columns
                + " results", "split it into smaller cases");
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
        if (r.hasPerClassOutputs()) {
            writeMatrix(g, "logits", r.logits(), r.rows(), r.cols());
            writeMatrix(g, "probabilities", r.probabilities(), r.rows(), r.cols());
        }
        writeVector(g, "logsumexp", r.logSumExp());
        if (r.hasFeatureGradients()) {
            writeMatrix(g, "grad_features", r.gradFeatures(), r.rows(), r.dim());
            writeMatrix(g, "grad_weights", r.gradWeights(), r.gradWeights().length / Math.max(r.dim(), 1), r.dim());
        } else {
            writeMatrix(g, "grad_logits", r.gradLogits(), r.rows(), r.cols());
        }
        for (Map.Entry<String, Double> value : r.lossState().asMap().entrySet()) {
            double v = value.getValue();
            if (v == Math.rint(v) && Math.abs(v) < 1L << 53 && value.getKey().equals("step")) {
                g.writeNumberField(value.getKey(), (long) v);
            } else {
                g.writeNumberField(value.getKey(), v);
            }
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

    private void requireReadableInput() {
        if (input.toString().isBlank()) {
            throw new BadInputException("--input is empty: give the JSON or .jsonl file to compute");
        }
        if (Files.isDirectory(input)) {
            throw new BadInputException("input " + Messages.quote(input.toString()) + " is a folder, expected a JSON file");
        }
    }

    private InputStream openInput() {
        try {
            return Files.newInputStream(input);
        } catch (NoSuchFileException e) {
            throw new BadInputException("input file " + Messages.quote(input.toString()) + " does not exist");
        } catch (IOException e) {
            throw new BadInputException("cannot read input file " + Messages.quote(input.toString()) + ": "
                    + Messages.reason(e));
        }
    }

    /** Fails before any work when the output cannot be written, so nothing is computed in vain. */
    private void requireWritableTarget() {
        if (output == null) {
            return;
        }
        OutputFile.check(output, "output", " to write to standard output");
        String name = Messages.quote(output.toString());
        try {
            if (Files.exists(output) && Files.exists(input) && Files.isSameFile(input, output)) {
                throw new BadInputException("--output " + name + " is the input file; write the results to another file");
            }
        } catch (IOException e) {
            throw new BadInputException("cannot check output " + name + ": " + Messages.reason(e));
        }
    }

    private Sink openSink() {
        if (output == null) {
            return new Sink(lab.stdout(), null, null);
        }
        try {
            AtomicFiles.Pending pending = AtomicFiles.create(output);
            return new Sink(pending.stream(), pending, output);
        } catch (IOException e) {
            throw new BadInputException("cannot write output " + Messages.quote(output.toString()) + ": " + Messages.reason(e));
        }
    }

    /**
     * Where results go: an output file (written whole at {@link #commit()}, deleted if the run fails) or
     * standard output (written as computed). A write error becomes one message naming it.
     */
    private static final class Sink implements AutoCloseable {
        /** A failed write: ends the run, whatever line it was on. */
        static final class WriteFailure extends RuntimeException {
            WriteFailure(String message) {
                super(message, null, false, false);
            }
        }

        interface Json {
            void write(JsonGenerator g) throws IOException;
        }

        private final OutputStream out;
        private final AtomicFiles.Pending pending;
        private final Path file;

        Sink(OutputStream out, AtomicFiles.Pending pending, Path file) {
            this.out = out;
            this.pending = pending;
            this.file = file;
        }

        void write(Json json) {
            try {
                try (JsonGenerator g = WRITER.createGenerator(out)) {
                    json.write(g);
                }
                out.write('\n');
            } catch (IOException e) {
                throw failure(e);
            }
        }

        void commit() {
            try {
                if (pending == null) {
                    out.flush();
                } else {
                    pending.commit();
                }
            } catch (IOException e) {
                throw failure(e);
            }
        }

        private WriteFailure failure(IOException e) {
            return new WriteFailure(file == null ? SoftmaxLab.cannotWriteStdout(e)
                    : "cannot write output " + Messages.quote(file.toString()) + ": " + Messages.reason(e));
        }

        @Override
        public void close() throws IOException {
            if (pending != null) {
                pending.close();
            }
        }
    }
}
