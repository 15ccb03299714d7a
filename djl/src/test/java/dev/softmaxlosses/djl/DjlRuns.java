package dev.softmaxlosses.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LogitBatch;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.testing.Random2;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The adapters run as a DJL user runs them: the loss evaluated under a {@link GradientCollector}, its
 * value backpropagated by PyTorch, the gradients read from the inputs' and the parameters' arrays.
 * Also the conversions between the tests' {@code float[]} data and NDArrays.
 */
final class DjlRuns {

    private DjlRuns() {
    }

    /** A logit loss's value (a scalar as one value, or the {@code N} per-sample losses) and the logits' gradient. */
    record LogitRun(Shape valueShape, DataType valueType, float[] value, float[] grad) {
    }

    /** A margin loss's value and the gradients of the features, of {@code W} and of the learned scale (or null). */
    record MarginRun(Shape valueShape, float[] value, float[] gradFeatures, float[] gradWeights, float[] gradScale) {
    }

    /** What {@code labels} holds for a loss on logits. */
    enum Target { LABELS, SOFT_TARGETS, TEACHER, TEACHER_ALONE }

    /**
     * A batch on logits: {@code n x c} logits, hard labels, and {@code second}, the soft targets or the
     * teacher's logits ({@code n x c}) as {@code target} says.
     */
    record LogitData(int n, int c, float[] z, int[] labels, float[] second, Target target) {

        /** The adapter's labels: hard labels (int64), soft targets, or the teacher's logits with or without labels. */
        NDList labels(NDManager manager) {
            NDArray hard = DjlRuns.labels(manager, labels, DataType.INT64);
            NDArray other = manager.create(second, new Shape(n, c));
            return switch (target) {
                case LABELS -> new NDList(hard);
                case SOFT_TARGETS, TEACHER_ALONE -> new NDList(other);
                case TEACHER -> new NDList(other, hard);
            };
        }

        /** The library's batch on {@code logits} (those the adapter read) with {@code classWeights} (or null). */
        LogitBatch batch(float[] logits, float[] classWeights) {
            FloatMatrix z = new FloatMatrix(logits, n, c);
            FloatMatrix other = new FloatMatrix(second, n, c);
            LogitBatch batch = switch (target) {
                case LABELS -> LogitBatch.of(z, labels);
                case SOFT_TARGETS -> LogitBatch.softTargets(z, other);
                case TEACHER -> LogitBatch.withTeacher(z, other, labels);
                case TEACHER_ALONE -> LogitBatch.withTeacher(z, other, null);
            };
            return batch.classWeights(classWeights);
        }
    }

    /**
     * Random logits in {@code [-3, 3)} with labels (row 1 labelled {@code ignoreIndex}) and, for soft
     * targets, non-negative targets up to 1 (for a teacher, its logits in {@code [-3, 3)}).
     */
    static LogitData logitData(Random random, int n, int c, int ignoreIndex, Target target) {
        float[] z = Random2.uniform(random, n, c, 3);
        int[] labels = Random2.labels(random, n, c);
        labels[1] = ignoreIndex;
        float[] second = Random2.uniform(random, n, c, 3);
        if (target == Target.SOFT_TARGETS) {
            for (int i = 0; i < second.length; i++) {
                second[i] = Math.abs(second[i]) / 3;
            }
        }
        return new LogitData(n, c, z, labels, second, target);
    }

    /**
     * Margin data: {@code n x d} features (given to the head as {@code featureType}), {@code c x d} class
     * weights, labels and optional per-class weights.
     */
    record MarginData(int n, int c, int d, float[] x, float[] w, int[] labels, float[] classWeights, DataType featureType) {
    }

    /** {@code loss} on {@code logits} (which get a gradient) and {@code labels}, backpropagated. */
    static LogitRun run(LogitLossAdapter loss, NDArray logits, NDList labels) {
        logits.setRequiresGradient(true);
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray value = loss.evaluate(labels, new NDList(logits));
            collector.backward(value);
            return new LogitRun(value.getShape(), value.getDataType(), floats(value), floats(logits.getGradient()));
        }
    }

    /**
     * A fresh {@code head} initialised with {@code data}'s W (and {@code scale}, when the head learns it),
     * its forward pass on the features and {@code loss} on its outputs, backpropagated. The parameters
     * are the head's own arrays, as a {@link ParameterStore} without copies hands them to the block.
     */
    static MarginRun run(MarginHead head, MarginLossAdapter loss, MarginData data, Float scale, NDManager manager) {
        head.setInitializer((m, shape, type) -> m.create(data.w(), shape), "weight");
        if (head.learnsScale()) {
            head.setInitializer((m, shape, type) -> m.create(new float[] {scale}, shape), "scale");
        }
        head.initialize(manager, DataType.FLOAT32, new Shape(data.n(), data.d()));
        ParameterStore store = new ParameterStore(manager, false);
        NDArray features = array(manager, data.x(), data.featureType(), data.n(), data.d());
        features.setRequiresGradient(true);
        NDArray labels = manager.create(data.labels());
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDList outputs = head.forward(store, new NDList(features), true);
            NDArray value = loss.evaluate(new NDList(labels), outputs);
            collector.backward(value);
            float[] gradScale = head.learnsScale() ? floats(parameter(head, "scale").getGradient()) : null;
            return new MarginRun(value.getShape(), floats(value), floats(features.getGradient()),
                    floats(parameter(head, "weight").getGradient()), gradScale);
        }
    }

    private static NDArray parameter(MarginHead head, String name) {
        return head.getParameters().get(name).getArray();
    }

    /** {@code values} as an array of {@code type} (created in float32, then cast by the engine). */
    static NDArray array(NDManager manager, float[] values, DataType type, long... shape) {
        NDArray array = manager.create(values, new Shape(shape));
        return type == DataType.FLOAT32 ? array : array.toType(type, false);
    }

    /** {@code values} widened exactly to float64, for the references. */
    static NDArray float64(NDManager manager, float[] values, long... shape) {
        double[] wide = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            wide[i] = values[i];
        }
        return manager.create(wide, new Shape(shape));
    }

    /** Labels as int32, int64 or float32 (with whole values): the three kinds the adapters read. */
    static NDArray labels(NDManager manager, int[] labels, DataType type) {
        NDArray array = manager.create(labels);
        return type == DataType.INT32 ? array : array.toType(type, false);
    }

    /** The values of any floating array, as float32 (exact for float16 and bfloat16). */
    static float[] floats(NDArray array) {
        return array.toType(DataType.FLOAT32, false).toFloatArray();
    }

    /** The values of a float64 array. */
    static double[] doubles(NDArray array) {
        return array.toDoubleArray();
    }

    /** The library's value as the adapter returns it: the reduced loss as one float, or the per-sample losses. */
    static float[] libraryValue(LossResult result) {
        return result.reduction() == Reduction.NONE ? result.losses().clone()
                : new float[] {(float) result.loss()};
    }

    /** The shape of the adapter's value: a scalar, or the {@code N} per-sample losses. */
    static void assertValueShape(LossResult result, Shape actual, String what) {
        Shape expected = result.reduction() == Reduction.NONE ? new Shape(result.rows()) : new Shape();
        assertEquals(expected, actual, what + ": the value's shape");
    }
}
