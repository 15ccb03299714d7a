package dev.softmaxlosses.lab;

import dev.softmaxlosses.lab.run.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;

/** {@code softmax-lab compare --loss A --loss B ...}: several losses, the same settings, one report. */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains several losses with the same settings and writes one report comparing them.",
                "Every loss starts from the same initial weights and sees the same batches; the report goes to"
                        + " lab-out/compare by default. Without --loss: the demo's eight losses.",
                "Exit status: 0 done; 2 bad options or data (one error: line, no report written)."},
        footer = {"", "Example: softmax-lab compare --data ../shared/data/mnist --loss softmax_cross_entropy --loss arcface:s=16,m=0.3"})
final class CompareCommand extends LabCommand {

    @Option(names = "--loss", paramLabel = "SPEC", order = 1,
            description = "A loss as a spec string; repeat for each loss (spec strings contain commas, so one per --loss).")
    List<String> losses;

    @Override
    String name() {
        return "compare";
    }

    @Override
    List<String> lossSpecs(Backend backend) {
        return losses == null || losses.isEmpty() ? DEFAULT_LOSSES : losses;
    }
}
