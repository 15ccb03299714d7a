package dev.softmaxlosses.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.evaluator.AbstractAccuracy;
import ai.djl.util.Pair;

/**
 * DJL's top-1 accuracy for a head's first output in either form: {@code N x C} logits (the class is
 * their argmax, as DJL's {@code Accuracy} takes it) or {@code N} predicted classes, which a
 * {@link MarginHead} in streaming mode outputs. The labels are {@code N} or {@code N x 1} class indices.
 */
public final class PredictedClassAccuracy extends AbstractAccuracy {

    /** Named {@code Accuracy}, as DJL's own. */
    public PredictedClassAccuracy() {
        super("Accuracy");
    }

    /** {@inheritDoc} */
    @Override
    protected Pair<Long, NDArray> accuracyHelper(NDList labels, NDList predictions) {
        NDArray label = labels.head();
        NDArray prediction = predictions.head();
        NDArray predicted = prediction.getShape().dimension() == 2 ? prediction.argMax(1) : prediction;
        if (predicted.size() != label.size()) {
            throw new IllegalArgumentException("the labels hold " + label.size() + " values and the predictions "
                    + predicted.size() + " samples");
        }
        NDArray correct = predicted.toType(DataType.INT64, false).reshape(-1)
                .eq(label.toType(DataType.INT64, false).reshape(-1)).countNonzero();
        return new Pair<>(label.size(), correct);
    }
}
