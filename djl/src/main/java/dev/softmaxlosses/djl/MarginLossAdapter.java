package dev.softmaxlosses.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.margin.MarginLoss;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The loss that trains a {@link MarginHead}: any loss of the margin family (the head's spec) on the
 * head's outputs, as a DJL {@link ai.djl.training.loss.Loss}.
 *
 * <p><b>Inputs.</b> {@code predictions} is the head's output (the features at index 1, the class
 * weights at 2, the learned scale at 3); {@code labels.head()} the hard labels ({@code N} or
 * {@code N x 1}; int32, int64, or float with whole values; the spec's {@code ignore_index} allowed).
 *
 * <p><b>Result.</b> The loss as the spec reduces it (a float32 scalar; float64 for float64 features),
 * or the {@code N} per-sample losses for {@code reduction=none}. The library computes it and its exact gradients with respect to
 * the features, the class weights and the scale (materialised, or block by block in streaming mode), in
 * float32 on the host; they enter DJL's autograd as {@link GradientBridge} describes, each on its
 * array's device. Evaluating the same arrays again does not compute again ({@link RecentEvaluations}).
 * A bad input is the library's {@link IllegalArgumentException}, before any array is touched.
 *
 * <p>Thread-safe, with per-thread host buffers as {@link LogitLossAdapter}'s.
 */
public final class MarginLossAdapter extends BridgedLoss {

    private final MarginHead head;
    private final float[] classWeights;

    MarginLossAdapter(String name, MarginHead head, float[] classWeights) {
        super(name);
        this.head = head;
        this.classWeights = classWeights == null ? null : classWeights.clone();
    }

    /** This loss with per-class weights ({@code C} values, copied). */
    public MarginLossAdapter withClassWeights(float... classWeights) {
        return new MarginLossAdapter(getName(), head, Objects.requireNonNull(classWeights, "classWeights"));
    }

    /** The head this loss trains. */
    public MarginHead head() {
        return head;
    }

    @Override
    RecentEvaluations.Evaluation compute(NDList labels, NDList predictions) {
        int expected = head.learnsScale() ? 4 : 3;
        if (predictions.size() != expected || labels.isEmpty()) {
            throw new IllegalArgumentException("the margin loss needs the MarginHead's " + expected
                    + " outputs and the labels; got " + predictions.size() + " predictions and " + labels.size() + " labels");
        }
        NDArray features = predictions.get(1);
        NDArray w = predictions.get(2);
        NDArray s = head.learnsScale() ? predictions.get(3) : null;
        head.requireFeatures(features.getShape());
        int n = Math.toIntExact(features.getShape().get(0));
        int d = Math.toIntExact(features.getShape().get(1));
        NDManager batch = features.getManager();
        HostBuffers buffers = HostBuffers.ofThread();
        try (NDManager scope = batch.newSubManager()) {
            FloatMatrix x = MarginHead.hostFeatures(features, buffers);
            FloatMatrix weights = head.hostWeights(w, features, buffers);
            int[] hard = LogitLossAdapter.hardLabels(labels.head(), n, scope);
            LossResult result = buffers.result(n, head.classes(), d, head.weightRows(), head.isStreaming());
            head.compute(s, new FeatureBatch(x, weights, hard, classWeights), result);
            List<GradientBridge.Term> terms = new ArrayList<>(3);
            terms.add(new GradientBridge.Term(features,
                    HostArrays.write(result.gradFeatures(), features.getShape(), batch, features.getDevice()), true));
            terms.add(new GradientBridge.Term(w, HostArrays.write(result.gradWeights(), w.getShape(), batch, w.getDevice()), false));
            if (s != null) {
                terms.add(new GradientBridge.Term(s, HostArrays.write(new float[] {(float) result.gradScale()}, new Shape(1),
                        batch, s.getDevice()), false));
            }
            return RecentEvaluations.Evaluation.of(result, terms.toArray(GradientBridge.Term[]::new));
        }
    }

    /** The library's loss this adapter computes, at the spec's scale. */
    public MarginLoss marginLoss() {
        return head.marginLoss();
    }
}
