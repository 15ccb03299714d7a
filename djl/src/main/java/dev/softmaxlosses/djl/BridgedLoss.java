package dev.softmaxlosses.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;

import java.util.Objects;

/**
 * What the adapters share: an evaluation computed on the host once per pair of prediction and label
 * arrays ({@link RecentEvaluations}), returned as its value with the gradients attached
 * ({@link GradientBridge}), on the first input's manager and device.
 */
abstract class BridgedLoss extends Loss {

    private final RecentEvaluations recent = new RecentEvaluations();

    BridgedLoss(String name) {
        super(name);
    }

    /** {@inheritDoc} */
    @Override
    public final NDArray evaluate(NDList labels, NDList predictions) {
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(predictions, "predictions");
        RecentEvaluations.Evaluation e = recent.evaluate(labels, predictions, () -> compute(labels, predictions));
        NDArray first = e.terms()[0].input();
        return GradientBridge.attach(HostArrays.values(e.values(), e.scalar(), first.getManager(), first.getDevice()),
                e.terms());
    }

    /** The loss and its gradients, computed by the library on the host. */
    abstract RecentEvaluations.Evaluation compute(NDList labels, NDList predictions);
}
