package dev.softmaxlosses.lab.train;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.LossResult;
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
        this.head = Head.marginWalk(loss, classes);
        this.dim = dim;
        this.classes = classes;
        this.rows = Math.multiplyExact(classes, loss.subCentres());
        this.weights = Parameter.of("class_weights", Head.initialClassWeights(classes, loss.subCentres(), dim, random), true);
    }

    @Override
    public Step train(float[] embedding, int n, int[] labels, double learningRate) {
        LossResult result = LossResult.forFeatures(n, classes, dim, rows);
        head.compute(FeatureBatch.of(new FloatMatrix(embedding, n, dim), new FloatMatrix(weights.value(), rows, dim),
                labels), result);
        if (!result.lossState().isEmpty()) {
            head = Head.marginWalk(head.loss().withState(result.lossState()), classes);
        }
        System.arraycopy(result.gradWeights(), 0, weights.grad(), 0, weights.grad().length);
        float[] p = result.probabilities();
        double target = 0;
        for (int r = 0; r < n; r++) {
            target += p[r * classes + labels[r]];
        }
        return new Step(result.loss(), result.gradFeatures(), target, Head.correct(inferenceLogits(embedding, n), n,
                classes, labels));
    }

    @Override
    public float[] inferenceLogits(float[] embedding, int n) {
        return head.inferenceLogits(new FloatMatrix(embedding, n, dim), new FloatMatrix(weights.value(), rows, dim)).data();
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weights);
    }

    /** The weights, live; with sub-centres, each class's first (a class is drawn and measured by it). */
    @Override
    public float[] classWeights() {
        return Head.firstSubCentres(weights.value(), classes, dim);
    }

    @Override
    public int classes() {
        return classes;
    }
}
