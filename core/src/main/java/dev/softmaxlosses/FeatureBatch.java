package dev.softmaxlosses;

import java.util.Objects;

/**
 * The input of a {@link FeatureLoss} (the margin family): features, the class weights they are
 * compared with, hard labels and optional per-class weights of the loss. Arrays are shared with the
 * caller, not copied.
 *
 * @param features     {@code N x D} features
 * @param weights      {@code C x D} class weights, one row per class
 * @param labels       {@code N} labels in {@code [0, C)} or the loss's ignore index
 * @param classWeights {@code C} non-negative weights of the classes in the loss, or null for all ones
 */
public record FeatureBatch(FloatMatrix features, FloatMatrix weights, int[] labels, float[] classWeights) {

    public FeatureBatch {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(labels, "labels");
    }

    /** Features, class weights and labels, with no per-class weights. */
    public static FeatureBatch of(FloatMatrix features, FloatMatrix weights, int[] labels) {
        return new FeatureBatch(features, weights, labels, null);
    }

    /** Features and class weights given as rows, with labels. */
    public static FeatureBatch of(float[][] features, float[][] weights, int[] labels) {
        return of(FloatMatrix.of("features", features), FloatMatrix.of("weights", weights), labels);
    }

    /** This batch with per-class weights of the loss ({@code C} values, or null for none). */
    public FeatureBatch withClassWeights(float[] classWeights) {
        return new FeatureBatch(features, weights, labels, classWeights);
    }
}
