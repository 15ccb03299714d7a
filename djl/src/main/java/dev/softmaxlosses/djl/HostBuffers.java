package dev.softmaxlosses.djl;

import dev.softmaxlosses.LossResult;

/**
 * One thread's host arrays, reused while the shapes stay the same (a training run's batches), so that a
 * step allocates nothing of the size of the logits.
 */
final class HostBuffers {
    private static final ThreadLocal<HostBuffers> OF_THREAD = ThreadLocal.withInitial(HostBuffers::new);

    private float[] logits = new float[0];
    private float[] targets = new float[0];
    private float[] features = new float[0];
    private float[] weights = new float[0];
    private float[] gradFeatures = new float[0];
    private LossResult logitResult;
    private LossResult featureResult;
    private final LossResult inferenceScratch = LossResult.forLogits(0, 0);
    private int[] classes = new int[0];

    static HostBuffers ofThread() {
        return OF_THREAD.get();
    }

    /** What a margin head's inference keeps between calls ({@link dev.softmaxlosses.margin.StreamingMarginHead}'s workspace). */
    LossResult inferenceScratch() {
        return inferenceScratch;
    }

    int[] classes(int rows) {
        return classes = classes.length == rows ? classes : new int[rows];
    }

    float[] logits(int rows, int cols) {
        return logits = sized(logits, rows, cols);
    }

    float[] targets(int rows, int cols) {
        return targets = sized(targets, rows, cols);
    }

    float[] features(int rows, int dim) {
        return features = sized(features, rows, dim);
    }

    float[] weights(int classes, int dim) {
        return weights = sized(weights, classes, dim);
    }

    /** A gradient with respect to {@code rows x dim} features, computed on the host before it is copied to the engine. */
    float[] gradFeatures(int rows, int dim) {
        return gradFeatures = sized(gradFeatures, rows, dim);
    }

    /** Buffers for logits of {@code rows x cols}: the previous ones when they fit. */
    LossResult result(int rows, int cols) {
        if (logitResult == null || !logitResult.fits(rows, cols)) {
            logitResult = LossResult.forLogits(rows, cols);
        }
        return logitResult;
    }

    /** Buffers for the margin family ({@code streaming}: without the {@code N x C} arrays; {@code weightRows} rows of class weights). */
    LossResult result(int rows, int cols, int dim, int weightRows, boolean streaming) {
        LossResult r = featureResult;
        if (r == null || !r.fits(rows, cols, dim, weightRows) || r.hasPerClassOutputs() == streaming) {
            featureResult = r = streaming ? LossResult.forStreaming(rows, cols, dim, weightRows)
                    : LossResult.forFeatures(rows, cols, dim, weightRows);
        }
        return r;
    }

    private static float[] sized(float[] current, int rows, int cols) {
        int size = Math.multiplyExact(rows, cols);
        return current.length == size ? current : new float[size];
    }
}
