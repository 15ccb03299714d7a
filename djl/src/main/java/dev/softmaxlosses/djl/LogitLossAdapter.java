package dev.softmaxlosses.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LogitBatch;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.spec.LossRegistry;

import java.util.Objects;

/**
 * Any loss on logits of the library (a spec such as {@code softmax_cross_entropy:label_smoothing=0.1})
 * as a DJL {@link ai.djl.training.loss.Loss}, for {@code DefaultTrainingConfig} and {@code EasyTrain}.
 *
 * <p><b>Inputs.</b> The logits are {@code predictions.head()}, {@code N x C}. {@code labels} holds, by
 * what the loss takes:
 * <ul>
 *   <li>hard labels: {@code labels.head()}, {@code N} or {@code N x 1} (int32, int64, or float with whole
 *       values; the spec's {@code ignore_index} allowed);</li>
 *   <li>soft targets ({@code softmax_cross_entropy}): {@code labels.head()} of {@code N x C} (with
 *       {@code C > 1}) is taken as the targets, any other shape as hard labels;</li>
 *   <li>distillation ({@code distillation}): {@code labels.get(0)} the teacher's logits ({@code N x C}),
 *       {@code labels.get(1)} the hard labels, needed unless {@code alpha = 1}.</li>
 * </ul>
 * Class weights are the adapter's ({@link #withClassWeights}); every other option is the spec's.
 *
 * <p><b>Result.</b> The loss as the spec reduces it (a float32 scalar), or the {@code N} per-sample
 * losses for {@code reduction=none}, whose sum's gradient the backward gives; float64 for float64 logits,
 * which the engine's promotion makes it. Computed in float32 on the host whatever the logits' type and
 * device; the gradient is the library's exact one (cast to the logits' type), brought into
 * DJL's autograd as {@link GradientBridge} describes, on the logits' device. Evaluating the same arrays
 * again (as {@code EasyTrain} does for its loss metric) does not compute the loss again
 * ({@link RecentEvaluations}).
 *
 * <p><b>Errors.</b> A bad input is the library's {@link IllegalArgumentException} with its message
 * (array, row, column and value), thrown before any array of the model is touched.
 *
 * <p>Thread-safe: each thread computes in its own reusable host buffers, which it keeps (the size of
 * its largest batch's logits and gradient).
 */
public final class LogitLossAdapter extends BridgedLoss {

    private final LogitLoss loss;
    private final float[] classWeights;

    /**
     * The adapter of {@code loss}, named {@code name} in DJL's metrics.
     *
     * @param classWeights {@code C} per-class weights (copied), or null for none
     * @throws IllegalArgumentException when the loss takes no class weights and some are given
     */
    public LogitLossAdapter(String name, LogitLoss loss, float[] classWeights) {
        super(name);
        this.loss = Objects.requireNonNull(loss, "loss");
        if (classWeights != null && !loss.takesClassWeights()) {
            throw new IllegalArgumentException(loss.spec().name() + " takes no class weights");
        }
        this.classWeights = classWeights == null ? null : classWeights.clone();
    }

    /** The adapter of {@code loss}, named by its spec name. */
    public LogitLossAdapter(LogitLoss loss) {
        this(loss.spec().name(), loss, null);
    }

    /**
     * The adapter of the loss a spec string names ({@code name[:key=value,...]}).
     *
     * @throws IllegalArgumentException for a bad spec, or a loss of the margin family (train those with a
     *                                  {@link MarginHead})
     */
    public static LogitLossAdapter of(String spec) {
        dev.softmaxlosses.Loss made = LossRegistry.create(spec);
        if (!(made instanceof LogitLoss logitLoss)) {
            throw new IllegalArgumentException(made.spec().name()
                    + " is a loss on features and class weights: train it with a MarginHead and its loss()");
        }
        return new LogitLossAdapter(logitLoss);
    }

    /** This adapter with per-class weights ({@code C} values, copied). */
    public LogitLossAdapter withClassWeights(float... classWeights) {
        return new LogitLossAdapter(getName(), loss, Objects.requireNonNull(classWeights, "classWeights"));
    }

    /** The library's loss this adapter computes. */
    public LogitLoss loss() {
        return loss;
    }

    @Override
    RecentEvaluations.Evaluation compute(NDList labels, NDList predictions) {
        if (predictions.isEmpty() || labels.isEmpty()) {
            throw new IllegalArgumentException("the loss needs predictions (logits) and labels; got "
                    + predictions.size() + " predictions and " + labels.size() + " labels");
        }
        NDArray logits = predictions.head();
        Shape shape = logits.getShape();
        if (shape.dimension() != 2) {
            throw new IllegalArgumentException("logits must be N x C, got shape " + shape);
        }
        int rows = Math.toIntExact(shape.get(0));
        int cols = Math.toIntExact(shape.get(1));
        HostBuffers buffers = HostBuffers.ofThread();
        try (NDManager scope = logits.getManager().newSubManager()) {
            float[] host = buffers.logits(rows, cols);
            HostArrays.read(logits, scope, host);
            LogitBatch batch = new LogitBatch(new FloatMatrix(host, rows, cols), target(labels, rows, cols, scope, buffers),
                    classWeights);
            LossResult result = buffers.result(rows, cols);
            loss.compute(batch, result);
            NDArray grad = HostArrays.write(result.gradLogits(), shape, logits.getManager(), logits.getDevice());
            return RecentEvaluations.Evaluation.of(result, new GradientBridge.Term(logits, grad, true));
        }
    }

    /** The target the loss takes, read from {@code labels} in the order the class documents. */
    private LogitBatch.Target target(NDList labels, int rows, int cols, NDManager scope, HostBuffers buffers) {
        NDArray first = labels.head();
        if (loss.takes(LogitBatch.Teacher.class)) {
            float[] teacher = buffers.targets(rows, cols);
            requireShape(first, rows, cols, "teacher_logits");
            HostArrays.read(first, scope, teacher);
            int[] hard = labels.size() > 1 ? hardLabels(labels.get(1), rows, scope) : null;
            return new LogitBatch.Teacher(new FloatMatrix(teacher, rows, cols), hard);
        }
        Shape shape = first.getShape();
        if (loss.takes(LogitBatch.SoftTargets.class) && shape.dimension() == 2 && shape.get(1) > 1) {
            requireShape(first, rows, cols, "targets");
            float[] targets = buffers.targets(rows, cols);
            HostArrays.read(first, scope, targets);
            return new LogitBatch.SoftTargets(new FloatMatrix(targets, rows, cols));
        }
        return new LogitBatch.Labels(hardLabels(first, rows, scope));
    }

    static int[] hardLabels(NDArray array, int rows, NDManager scope) {
        Shape shape = array.getShape();
        boolean column = shape.dimension() == 2 && shape.get(1) == 1;
        if (!(shape.dimension() == 1 || column) || shape.get(0) != rows) {
            throw new IllegalArgumentException("labels must hold " + rows + " values (N or N x 1), got shape " + shape);
        }
        return HostArrays.labels(array, scope, "labels");
    }

    private static void requireShape(NDArray array, int rows, int cols, String name) {
        Shape shape = array.getShape();
        if (shape.dimension() != 2 || shape.get(0) != rows || shape.get(1) != cols) {
            throw new IllegalArgumentException(name + " must be " + rows + " x " + cols + " as the logits, got shape " + shape);
        }
    }
}
