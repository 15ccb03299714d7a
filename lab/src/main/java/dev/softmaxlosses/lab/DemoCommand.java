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
                        + " CosFace, ArcFace and SphereFace each train LeNet++ with DJL (PyTorch) for one epoch over 2000"
                        + " training images of each digit of MNIST (--data mnist, downloaded once, unless --data names a"
                        + " folder), digits 7, 8 and 9 held out, in batches of 32; into lab-out/demo-cnn. About 5 to 15"
                        + " minutes on two cores.",
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
     * The CNN demo's training: one epoch over the first 2000 training images of each of the seven known
     * digits (14,000 of MNIST's 41,935), in batches of 32 (437 steps). LeNet++ costs some 5 ms an image
     * on one core (a batch of 128 in 0.7 s), so each loss trains in about a minute and a half, and two
     * cores train the four in two rounds; more steps for the same images beat larger batches here.
     */
    static final int CNN_EPOCHS = 1;
    static final int CNN_TRAIN_PER_CLASS = 2000;
    static final int CNN_BATCH_SIZE = 32;

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
                options.data = List.of("mnist");
            }
            if (!given("--epochs")) {
                options.epochs = CNN_EPOCHS;
            }
            if (!given("--train-per-class")) {
                options.trainPerClass = CNN_TRAIN_PER_CLASS;
            }
            if (!given("--batch-size")) {
                options.batchSize = CNN_BATCH_SIZE;
            }
        }
    }

    @Override
    String folderName(Backend backend) {
        return backend.equals(CNN) ? "demo-cnn" : "demo";
    }
}
