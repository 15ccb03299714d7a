package dev.softmaxlosses.lab;

import picocli.CommandLine.Command;

import java.util.List;

/** {@code softmax-lab demo}: the eight losses of the survey on the bundled Fashion-MNIST subset, one report. */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains eight losses on the bundled Fashion-MNIST subset and writes lab-out/demo/report.html.",
                "Softmax, softmax with label smoothing, focal, NormFace, CosFace, ArcFace, SphereFace and L-Softmax, each"
                        + " training the same small network with a 2-D embedding; three classes are held out for open-set"
                        + " verification. The report shows the plots, metrics.json holds the numbers. About a minute on two cores.",
                "Exit status: 0 done; 2 bad options or data (one error: line, no report written)."})
final class DemoCommand extends LabCommand {

    @Override
    String name() {
        return "demo";
    }

    @Override
    List<String> lossSpecs() {
        return DEFAULT_LOSSES;
    }
}
