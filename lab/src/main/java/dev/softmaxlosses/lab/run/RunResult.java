package dev.softmaxlosses.lab.run;

import dev.softmaxlosses.Loss;
import dev.softmaxlosses.lab.metrics.RunMetrics;
import dev.softmaxlosses.lab.train.TrainedModel;

/**
 * One loss trained and measured.
 *
 * @param spec    the loss's spec string, as the user wrote it (the key of {@code metrics.json})
 * @param loss    the loss built from it
 * @param model   the trained network and its history
 * @param metrics what the test set says about it
 */
public record RunResult(String spec, Loss loss, TrainedModel model, RunMetrics metrics) {

    /** The spec's loss name ({@code arcface} for {@code arcface:s=8,m=0.2}). */
    public String lossName() {
        return loss.spec().name();
    }
}
