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

    private final StreamingMarginHead head;
    private final Parameter weights;
    private final int dim;
    private final int classes;

    MarginHead(MarginLoss loss, int dim, int classes, Random random) {
        // One block of every class, with the products whose bits do not depend on the run (as RowMajor's).
        this.head = new StreamingMarginHead(loss, classes, MatrixProducts.fixedOrder());
        this.dim = dim;
        this.classes = classes;
        float[] w = new float[Math.multiplyExact(classes, dim)];
        double std = Math.sqrt(2.0 / (classes + dim));
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * std);
        }
        this.weights = Parameter.of("class_weights", w, true);
    }

    @Override
    public Step train(float[] embedding, int n, int[] labels) {
        LossResult result = LossResult.forFeatures(n, classes, dim);
        head.compute(FeatureBatch.of(new FloatMatrix(embedding, n, dim), new FloatMatrix(weights.value(), classes, dim),
                labels), result);
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
        return head.inferenceLogits(new FloatMatrix(embedding, n, dim), new FloatMatrix(weights.value(), classes, dim)).data();
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weights);
    }

    @Override
    public float[] classWeights() {
        return weights.value();
    }

    @Override
    public int classes() {
        return classes;
    }
}
