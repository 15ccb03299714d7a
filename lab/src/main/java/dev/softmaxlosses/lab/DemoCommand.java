package dev.softmaxlosses.lab;

import picocli.CommandLine.Command;

import java.util.List;

/** {@code softmax-lab demo}: the eight losses of the survey on the bundled Fashion-MNIST subset, one report. */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains a small network once per loss (softmax, softmax with label smoothing, focal, NormFace,",
                "CosFace, ArcFace, SphereFace, L-Softmax) with a 2-D embedding on the bundled Fashion-MNIST subset,",
                "holding classes out for open-set verification, and writes lab-out/demo/report.html with its plots",
                "and metrics.json. About a minute on two cores.",
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
