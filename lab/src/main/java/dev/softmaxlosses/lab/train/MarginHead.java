package dev.softmaxlosses.lab.train;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.StreamingMarginHead;

import java.util.List;
import java.util.Random;

/**
 * The margin family's head: the class weights {@code W} ({@code C x D}, no bias) belong to the loss,
 * which takes the embeddings as features and returns the gradients for both. Weights start from
 * Xavier's normal initialisation; weight decay applies to them as to any weight matrix (for the
 * normalised losses it only shrinks their norm, which the logits do not see).
 */
public final class MarginHead implements Head {

    /** The loss with the state of the next step (adaface, curricularface, elasticface advance it every step). */
    private StreamingMarginHead head;
    private final Parameter weights;
    private final int dim;
    private final int classes;
    /** The rows of the class weights: {@code k} sub-centres per class. */
    private final int rows;

    MarginHead(MarginLoss loss, int dim, int classes, Random random) {
        this.head = walk(loss, classes);
        this.dim = dim;
        this.classes = classes;
        this.rows = Math.multiplyExact(classes, loss.subCentres());
        float[] w = new float[Math.multiplyExact(rows, dim)];
        double std = Math.sqrt(2.0 / (classes + dim));
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * std);
        }
        this.weights = Parameter.of("class_weights", w, true);
    }

    /** One block of every class, with the products whose bits do not depend on the run (as RowMajor's). */
    private static StreamingMarginHead walk(MarginLoss loss, int classes) {
        return new StreamingMarginHead(loss, classes, MatrixProducts.fixedOrder());
    }

    @Override
    public Step train(float[] embedding, int n, int[] labels) {
        LossResult result = LossResult.forFeatures(n, classes, dim, rows);
        head.compute(FeatureBatch.of(new FloatMatrix(embedding, n, dim), new FloatMatrix(weights.value(), rows, dim),
                labels), result);
        if (!result.lossState().isEmpty()) {
            head = walk(head.loss().withState(result.lossState()), classes);
        }
        System.arraycopy(result.gradWeights(), 0, weights.grad(), 0, weights.grad().length);
        float[] p = result.probabilities();
        float[] plain = inferenceLogits(embedding, n);
        double target = 0;
        int correct = 0;
        for (int r = 0; r < n; r++) {
            target += p[r * classes + labels[r]];
            if (Head.argmax(plain, r * classes, classes) == labels[r]) {
                correct++;
            }
        }
        return new Step(result.loss(), result.gradFeatures(), target, correct);
    }

    @Override
    public float[] inferenceLogits(float[] embedding, int n) {
        return head.inferenceLogits(new FloatMatrix(embedding, n, dim), new FloatMatrix(weights.value(), rows, dim)).data();
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weights);
    }

    @Override
    public float[] classWeights() {
        int k = rows / classes;
        if (k == 1) {
            return weights.value();
        }
        // With sub-centres, a class is drawn and measured by its first.
        float[] first = new float[classes * dim];
        for (int c = 0; c < classes; c++) {
            System.arraycopy(weights.value(), c * k * dim, first, c * dim, dim);
        }
        return first;
    }

    @Override
    public int classes() {
        return classes;
    }
}
