package dev.softmaxlosses.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.listener.TrainingListenerAdapter;
import ai.djl.training.tracker.Tracker;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.scale.ShardedHead;

import java.util.Objects;

/**
 * InsightFace's Partial FC head ({@link ShardedHead}: class weights in shards, class-centre sampling)
 * as a DJL {@link ai.djl.training.loss.Loss} on a network's embeddings. The head holds the class
 * weights and their optimiser itself, off DJL's parameters (Partial FC's weights are not the
 * backbone's, and at a million classes they would not fit DJL's optimiser state): the network ends at
 * the embedding, and DJL's optimiser trains the network alone.
 *
 * <p><b>Inputs.</b> {@code predictions.head()} the embeddings ({@code N x D}, {@code D} the head's
 * dimension); {@code labels.head()} the labels ({@code N} or {@code N x 1}; int32, int64, or float with
 * whole values; the spec's {@code ignore_index} allowed).
 *
 * <p><b>Result.</b> The head's reduced loss over the step's classes (a float32 scalar) with
 * {@code dL/dx} attached for DJL's backward ({@link GradientBridge}).
 *
 * <p><b>The head's update waits for the training batch.</b> Evaluating a batch computes the step
 * ({@link ShardedHead#compute}): the loss, {@code dL/dx}, and each shard's weight gradient, kept. The
 * update of the class weights ({@link ShardedHead#update}) comes when the training batch is done:
 * <ul>
 *   <li>with DJL's {@code EasyTrain}, add {@link #listener(Tracker)} to the training config: after each
 *       training batch it sets the head's learning rate from the tracker (at the head's step count)
 *       and updates; after each validation batch it drops that batch's computation, so validating
 *       leaves the head as it was;</li>
 *   <li>in a loop of one's own, call {@link #update(double)} after the backward pass.</li>
 * </ul>
 * Evaluating the same arrays again (EasyTrain evaluates a training batch twice) does not compute again
 * ({@link RecentEvaluations}); a new batch's computation replaces one that waits. Train on one device:
 * the head lives on the host, and one computation waits at a time. A bad input is the library's
 * {@link IllegalArgumentException}, before any array or the head is touched.
 */
public final class PartialFcLoss extends BridgedLoss {

    private final ShardedHead head;

    private PartialFcLoss(ShardedHead head) {
        super("partial_fc:" + head.loss().spec().name());
        this.head = head;
    }

    /** The loss that trains {@code head}, which it does not close. */
    public static PartialFcLoss of(ShardedHead head) {
        return new PartialFcLoss(Objects.requireNonNull(head, "head"));
    }

    /** The head: its weights, its loss with the state of the next step, checkpoints. */
    public ShardedHead head() {
        return head;
    }

    /**
     * Updates the head with the last training batch's computation at {@code learningRate}: call it after
     * the backward pass (EasyTrain's users add {@link #listener} instead).
     *
     * @throws IllegalStateException when no computation waits
     * @throws IllegalArgumentException for a learning rate that is negative or not finite
     */
    public void update(double learningRate) {
        head.setLearningRate(learningRate);
        head.update();
    }

    /**
     * The listener that finishes each of EasyTrain's training batches with the head's update at
     * {@code learningRate.getNewValue(steps)} ({@code steps} the head's step count, which a checkpoint
     * keeps), and drops each validation batch's computation.
     */
    public TrainingListener listener(Tracker learningRate) {
        Objects.requireNonNull(learningRate, "learningRate");
        return new TrainingListenerAdapter() {
            @Override
            public void onTrainingBatch(Trainer trainer, BatchData batchData) {
                if (head.hasPending()) {
                    update(learningRate.getNewValue(Math.toIntExact(head.steps())));
                }
            }

            @Override
            public void onValidationBatch(Trainer trainer, BatchData batchData) {
                head.discard();
            }
        };
    }

    @Override
    RecentEvaluations.Evaluation compute(NDList labels, NDList predictions) {
        if (predictions.isEmpty() || labels.isEmpty()) {
            throw new IllegalArgumentException("the Partial FC loss needs the embeddings and the labels; got "
                    + predictions.size() + " predictions and " + labels.size() + " labels");
        }
        NDArray embeddings = predictions.head();
        if (embeddings.getShape().dimension() != 2 || embeddings.getShape().get(1) != head.dim()) {
            throw new IllegalArgumentException("the embeddings must be N x " + head.dim() + " (the head's dimension), got shape "
                    + embeddings.getShape());
        }
        int n = Math.toIntExact(embeddings.getShape().get(0));
        NDManager batch = embeddings.getManager();
        try (NDManager scope = batch.newSubManager()) {
            HostBuffers buffers = HostBuffers.ofThread();
            FloatMatrix x = MarginHead.hostFeatures(embeddings, buffers);
            int[] hard = LogitLossAdapter.hardLabels(labels.head(), n, scope);
            float[] grad = buffers.gradFeatures(n, head.dim());
            double loss = head.compute(x, hard, grad);
            GradientBridge.Term term = new GradientBridge.Term(embeddings,
                    HostArrays.write(grad, embeddings.getShape(), batch, embeddings.getDevice()), true);
            return new RecentEvaluations.Evaluation(new float[] {(float) loss}, true, new GradientBridge.Term[] {term});
        }
    }
}
