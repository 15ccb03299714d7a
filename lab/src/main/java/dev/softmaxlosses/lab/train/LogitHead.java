package dev.softmaxlosses.lab.train;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LogitBatch;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.logits.Softmax;

import java.util.List;
import java.util.Random;

/**
 * A dense layer with bias from the embedding to the logits, then a loss on logits (softmax
 * cross-entropy, focal, the hinges): the loss's fused forward and backward give {@code d loss / d logits},
 * the dense layer takes it back to the embedding.
 */
public final class LogitHead implements Head {

    private final LogitLoss loss;
    private final Dense classifier;
    private final int classes;
    /** The lean result (gradient, losses, log-sum-exps) of the last batch size, reused from step to step. */
    private LossResult result;

    LogitHead(LogitLoss loss, int dim, int classes, Random random) {
        this.loss = loss;
        this.classes = classes;
        this.classifier = new Dense("classifier", dim, classes, true, random);
    }

    @Override
    public Step train(float[] embedding, int n, int[] labels, double learningRate) {
        float[] logits = classifier.forward(embedding, n, true);
        FloatMatrix m = new FloatMatrix(logits, n, classes);
        if (result == null || !result.fits(n, classes)) {
            result = LossResult.forLogits(n, classes);
        }
        loss.compute(LogitBatch.of(m, labels), result);
        // The model's probability of the target, softmax(z)_y = exp(z_y - LSE(z)): one read of the logits,
        // rather than the N x C probabilities of the loss's final logits.
        double[] lse = Softmax.logSumExp(m, 1.0);
        double target = 0;
        for (int r = 0; r < n; r++) {
            target += Math.exp(logits[r * classes + labels[r]] - lse[r]);
        }
        float[] grad = classifier.backward(result.gradLogits(), true);
        return new Step(result.loss(), grad, target, Head.correct(logits, n, classes, labels));
    }

    @Override
    public float[] inferenceLogits(float[] embedding, int n) {
        return classifier.forward(embedding, n, false);
    }

    @Override
    public List<Parameter> parameters() {
        return classifier.parameters();
    }

    @Override
    public float[] classWeights() {
        return null;
    }

    @Override
    public int classes() {
        return classes;
    }
}
