package dev.softmaxlosses.lab;

import dev.softmaxlosses.lab.run.Backend;
import picocli.CommandLine.Command;

import java.util.List;

/**
 * {@code softmax-lab demo}: the eight losses of the survey on the bundled Fashion-MNIST subset, one
 * report; with {@code --engine djl --model cnn}, the papers' 2-D MNIST figure from LeNet++.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains eight losses on the bundled Fashion-MNIST subset and writes lab-out/demo/report.html.",
                "Softmax, softmax with label smoothing, focal, NormFace, CosFace, ArcFace, SphereFace and L-Softmax, each"
                        + " training the same small network with a 2-D embedding; three classes are held out for open-set"
                        + " verification. The report shows the plots, metrics.json holds the numbers. About a minute on two cores.",
                "With --engine djl --model cnn: the 2-D MNIST features of the center-loss and SphereFace papers. Softmax,"
                        + " CosFace, ArcFace and SphereFace each train LeNet++ with DJL (PyTorch) for one epoch over MNIST"
                        + " (--data mnist, downloaded once, unless --data names a folder), digits 7, 8 and 9 held out; into"
                        + " lab-out/demo-cnn. About 10 to 15 minutes on two cores.",
                "Exit status: 0 done; 2 bad options or data (one error: line, no report written)."})
final class DemoCommand extends LabCommand {

    /**
     * The CNN demo's losses: the softmax loss and three margins, as in the papers' MNIST figures (the
     * demo's specs). Four, so that two cores train them in two rounds of two.
     */
    static final List<String> CNN_LOSSES = List.of(
            "softmax_cross_entropy",
            "cosface:s=8,m=0.1",
            "arcface:s=8,m=0.2",
            "sphereface:m=4,lambda=5");

    /**
     * The CNN demo's epochs over MNIST's 41,935 training images of the seven known digits: LeNet++ costs
     * about 0.7 s a batch of 128 on one core, so one epoch is some four minutes a loss.
     */
    static final int CNN_EPOCHS = 1;

    private static final Backend CNN = new Backend(Backend.Engine.DJL, Backend.Model.CNN);

    @Override
    String name() {
        return "demo";
    }

    @Override
    List<String> lossSpecs(Backend backend) {
        return backend.equals(CNN) ? CNN_LOSSES : DEFAULT_LOSSES;
    }

    @Override
    void defaults(Backend backend) {
        if (backend.equals(CNN)) {
            if (!given("--data")) {
                options.data = "mnist";
            }
            if (!given("--epochs")) {
                options.epochs = CNN_EPOCHS;
            }
        }
    }

    @Override
    String folderName(Backend backend) {
        return backend.equals(CNN) ? "demo-cnn" : "demo";
    }
}
