package dev.softmaxlosses;

import java.util.Objects;

/**
 * What a {@link LogitLoss} is computed on: the {@code N x C} logits, one kind of {@link Target}, and
 * optional per-class weights. Each loss says which kinds of target it takes; a batch of another kind
 * is an {@link IllegalArgumentException} naming the loss and the kind.
 *
 * <pre>{@code
 *   LogitBatch.of(logits, labels)                        // hard labels
 *   LogitBatch.softTargets(logits, targets)              // soft targets (softmax_cross_entropy)
 *   LogitBatch.withTeacher(logits, teacherLogits, null)  // distillation; labels when alpha < 1
 *   LogitBatch.of(logits, labels).classWeights(w)        // with per-class weights
 * }</pre>
 *
 * <p>The factories check that nothing required is null; shapes and values are the loss's to check,
 * when it computes (see {@link LogitLoss}). Arrays are shared with the caller, not copied.
 *
 * @param logits       {@code N x C} logits
 * @param target       the labels, soft targets or teacher's logits
 * @param classWeights {@code C} non-negative per-class weights, or null for none
 */
public record LogitBatch(FloatMatrix logits, Target target, float[] classWeights) {

    public LogitBatch {
        Objects.requireNonNull(logits, "logits");
        Objects.requireNonNull(target, "target");
    }

    /** What the logits are compared with: one of three kinds, each a small value. */
    public sealed interface Target permits Labels, SoftTargets, Teacher {

        /** The kind's name as {@code LOSSES.md} and messages write it: {@code labels}, {@code targets}, {@code teacher_logits}. */
        default String field() {
            return switch (this) {
                case Labels l -> "labels";
                case SoftTargets t -> "targets";
                case Teacher t -> "teacher_logits";
            };
        }

        /** The hard labels, or null where the target has none. */
        default int[] labelsOrNull() {
            return switch (this) {
                case Labels l -> l.labels();
                case SoftTargets t -> null;
                case Teacher t -> t.labels();
            };
        }
    }

    /**
     * Hard labels: {@code N} classes in {@code [0, C)} or the loss's ignore index.
     *
     * @param labels the labels, not null
     */
    public record Labels(int[] labels) implements Target {
        public Labels {
            Objects.requireNonNull(labels, "labels");
        }
    }

    /**
     * Soft targets: an {@code N x C} matrix of non-negative weights per class (they need not sum to 1).
     *
     * @param targets the targets, not null
     */
    public record SoftTargets(FloatMatrix targets) implements Target {
        public SoftTargets {
            Objects.requireNonNull(targets, "targets");
        }
    }

    /**
     * A teacher's logits ({@code N x C}, the student's shape) and, optionally, hard labels.
     *
     * @param logits the teacher's logits, not null
     * @param labels the labels, or null (distillation with {@code alpha = 1} needs none)
     */
    public record Teacher(FloatMatrix logits, int[] labels) implements Target {
        public Teacher {
            Objects.requireNonNull(logits, "teacher_logits");
        }
    }

    /** Logits with hard labels: the common case. */
    public static LogitBatch of(FloatMatrix logits, int[] labels) {
        return new LogitBatch(logits, new Labels(labels), null);
    }

    /** Logits ({@code rows x cols}, row-major) with hard labels. */
    public static LogitBatch of(float[] logits, int rows, int cols, int[] labels) {
        return of(new FloatMatrix(logits, rows, cols), labels);
    }

    /** Logits with soft targets of the same shape. */
    public static LogitBatch softTargets(FloatMatrix logits, FloatMatrix targets) {
        return new LogitBatch(logits, new SoftTargets(targets), null);
    }

    /** A student's logits with its teacher's, and hard labels or null. */
    public static LogitBatch withTeacher(FloatMatrix logits, FloatMatrix teacherLogits, int[] labelsOrNull) {
        return new LogitBatch(logits, new Teacher(teacherLogits, labelsOrNull), null);
    }

    /** This batch with per-class weights ({@code C} values, each finite and {@code >= 0}; shared, not copied). */
    public LogitBatch classWeights(float... classWeights) {
        return new LogitBatch(logits, target, classWeights);
    }

    /** The number of samples {@code N}. */
    public int rows() {
        return logits.rows();
    }

    /** The number of classes {@code C}. */
    public int cols() {
        return logits.cols();
    }
}
