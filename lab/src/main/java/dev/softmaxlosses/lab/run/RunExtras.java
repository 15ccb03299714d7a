package dev.softmaxlosses.lab.run;

import dev.softmaxlosses.lab.metrics.OneShot;
import dev.softmaxlosses.lab.train.TrainedModel;

/**
 * What a run does besides training and the usual metrics.
 *
 * @param oneShot the one-shot protocol to measure on the held-out classes (image-folder data), or null
 * @param save    hears about each trained model before its engine's memory is freed (to save it), or null
 */
public record RunExtras(OneShot.Protocol oneShot, ModelSink save) {

    /** Nothing more: the usual metrics, nothing saved. */
    public static final RunExtras NONE = new RunExtras(null, null);

    /** Takes a trained model while it can still embed; a failure is an unchecked exception that ends the comparison. */
    @FunctionalInterface
    public interface ModelSink {
        /** Called on the run's thread with the run's index (the order of the losses) and its model. */
        void accept(int index, TrainedModel model);
    }
}
