package dev.softmaxlosses.lab;

import dev.softmaxlosses.lab.run.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/** {@code softmax-lab train --loss SPEC}: one loss, one report. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains one loss and writes its report (lab-out/train by default).",
                "Exit status: 0 done; 2 bad options or data (one error: line, no report written)."},
        footer = {"", "Example: softmax-lab train --loss arcface:s=30,m=0.3 --data mnist --epochs 10",
                "         softmax-lab train --loss cosface:s=16,m=0.2 --embedding 64 --save lab-models/cosface"})
final class TrainCommand extends LabCommand {

    @Option(names = "--loss", required = true, paramLabel = "SPEC", order = 1,
            description = "The loss as a spec string, e.g. softmax_cross_entropy:label_smoothing=0.1 or arcface:s=30,m=0.3.")
    String loss;

    @Option(names = "--save", paramLabel = "FOLDER", order = 2,
            description = {"Also save the trained network there, to embed images later (softmax-lab oneshot --model):"
                    + " the loss, the engine and network with the settings that rebuild it, the input shape, the image"
                    + " preprocessing, the class names and the weights. A new folder, an empty one, or a model the lab"
                    + " saved before, replaced whole when the run succeeds; a folder with other files is refused."})
    Path save;

    @Override
    String name() {
        return "train";
    }

    @Override
    Path saveTarget() {
        return save;
    }

    @Override
    List<String> lossSpecs(Backend backend) {
        return List.of(loss);
    }
}
