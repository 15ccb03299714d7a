package dev.softmaxlosses;

/**
 * A test fixture: every array an {@code eval} case may carry, named as in {@code LOSSES.md}, the
 * others {@code null}, as the tests written before the typed inputs ({@link LogitBatch},
 * {@link FeatureBatch}) build their cases; {@code testing.LogitCases} maps one to a loss's batch as
 * the lab does. Not part of the library.
 *
 * @param logits        {@code N x C} logits
 * @param labels        {@code N} hard labels in {@code [0, C)} or the ignore index
 * @param targets       {@code N x C} non-negative soft targets (instead of labels)
 * @param teacherLogits {@code N x C} logits of a teacher (distillation)
 * @param classWeights  {@code C} non-negative per-class weights
 * @param features      {@code N x D} features (margin family)
 * @param weights       {@code C x D} class weights, one row per class (margin family)
 */
public record LossInput(
        FloatMatrix logits,
        int[] labels,
        FloatMatrix targets,
        FloatMatrix teacherLogits,
        float[] classWeights,
        FloatMatrix features,
        FloatMatrix weights) {

    /** Logits with hard labels: the common case. */
    public static LossInput of(FloatMatrix logits, int[] labels) {
        return builder().logits(logits).labels(labels).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link LossInput}; every setter is optional. */
    public static final class Builder {
        private FloatMatrix logits;
        private int[] labels;
        private FloatMatrix targets;
        private FloatMatrix teacherLogits;
        private float[] classWeights;
        private FloatMatrix features;
        private FloatMatrix weights;

        private Builder() {}

        public Builder logits(FloatMatrix logits) { this.logits = logits; return this; }
        public Builder logits(float[][] logits) { return logits(FloatMatrix.of("logits", logits)); }
        public Builder labels(int... labels) { this.labels = labels; return this; }
        public Builder targets(FloatMatrix targets) { this.targets = targets; return this; }
        public Builder targets(float[][] targets) { return targets(FloatMatrix.of("targets", targets)); }
        public Builder teacherLogits(FloatMatrix teacherLogits) { this.teacherLogits = teacherLogits; return this; }
        public Builder teacherLogits(float[][] teacherLogits) { return teacherLogits(FloatMatrix.of("teacher_logits", teacherLogits)); }
        public Builder classWeights(float... classWeights) { this.classWeights = classWeights; return this; }
        public Builder features(FloatMatrix features) { this.features = features; return this; }
        public Builder features(float[][] features) { return features(FloatMatrix.of("features", features)); }
        public Builder weights(FloatMatrix weights) { this.weights = weights; return this; }
        public Builder weights(float[][] weights) { return weights(FloatMatrix.of("weights", weights)); }

        public LossInput build() {
            return new LossInput(logits, labels, targets, teacherLogits, classWeights, features, weights);
        }
    }
}
