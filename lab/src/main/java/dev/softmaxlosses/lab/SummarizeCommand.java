package dev.softmaxlosses.lab;

import dev.softmaxlosses.lab.report.ReportFolder;
import dev.softmaxlosses.lab.report.SeedSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code softmax-lab summarize REPORT...}: the reports of one experiment run with several seeds (and
 * networks), as one table of mean and spread per loss, the way a paper reports them.
 */
@Command(name = "summarize", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Summarises reports of the same experiment made with different --seed (and networks): for each"
                + " loss and network, the mean and sample standard deviation over the seeds of the one-shot error (image"
                + " folders), TAR at FAR 1e-3, EER and test accuracy, as a Markdown table.",
                "The reports must be of the same data and held-out classes; reports of one network (engine and model)"
                        + " may differ only in --seed.",
                "Exit status: 0 done; 2 bad input (one error: line, nothing written)."},
        footer = {"", "Example: softmax-lab summarize lab-out/cnn-seed1 lab-out/cnn-seed2 lab-out/cnn-seed3 --out lab-out/summary"})
final class SummarizeCommand implements Callable<Integer> {

    @Parameters(paramLabel = "REPORT", arity = "1..*",
            description = "A report folder of train, compare or demo (or its metrics.json).")
    List<Path> reports;

    @Option(names = "--out", paramLabel = "FOLDER", description = {"Also write summary.md, summary.json and summary.png"
            + " (the figure: the one-shot error, or the EER, per loss and network with the spread as error bars) into"
            + " FOLDER: a new folder, an empty one, or an earlier one of the lab's, replaced whole."})
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            SeedSummary summary = SeedSummary.read(reports);
            String table = summary.markdown();
            if (out != null) {
                try (ReportFolder folder = ReportFolder.open(out)) {
                    Files.writeString(folder.path().resolve("summary.md"), table, StandardCharsets.UTF_8);
                    Files.writeString(folder.path().resolve("summary.json"), summary.json(), StandardCharsets.UTF_8);
                    summary.writeFigure(folder.path().resolve("summary.png"));
                    folder.commit();
                } catch (IOException e) {
                    throw new BadInputException("cannot write the summary into " + Messages.quote(out.toString()) + ": "
                            + Messages.reason(e));
                }
            }
            stdout.print(table);
            stdout.flush();
            return 0;
        } catch (BadInputException e) {
            return SoftmaxLab.badInput(err, e.getMessage());
        }
    }
}
