package dev.softmaxlosses.lab;

import dev.softmaxlosses.lab.run.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;

/** {@code softmax-lab train --loss SPEC}: one loss, one report. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains one loss and writes its report (lab-out/train by default).",
                "Exit status: 0 done; 2 bad options or data (one error: line, no report written)."},
        footer = {"", "Example: softmax-lab train --loss arcface:s=30,m=0.3 --data mnist --epochs 10"})
final class TrainCommand extends LabCommand {

    @Option(names = "--loss", required = true, paramLabel = "SPEC", order = 1,
            description = "The loss as a spec string, e.g. softmax_cross_entropy:label_smoothing=0.1 or arcface:s=30,m=0.3.")
    String loss;

    @Override
    String name() {
        return "train";
    }

    @Override
    List<String> lossSpecs(Backend backend) {
        return List.of(loss);
    }
}
