package dev.softmaxlosses.lab.train;

import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.Loss;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.StreamingMarginHead;

import java.util.List;
import java.util.Random;

/**
 * The part of the model that the loss owns: it turns embeddings into the loss and its gradient, and
 * into the logits a trained model predicts with. Logit losses get a dense layer with bias in front
 * ({@link LogitHead}); the margin family takes the embeddings as features and holds the class
 * weights itself ({@link MarginHead}), or holds them in class shards with their own optimiser as
 * Partial FC does ({@link PartialFcHead}).
 */
public sealed interface Head permits LogitHead, MarginHead, PartialFcHead {

    /**
     * What one training batch gave.
     *
     * @param loss              the loss (reduced as the spec says)
     * @param gradEmbedding     {@code d loss / d embedding}, {@code n x D}
     * @param targetProbability the sum over the batch of the probability the loss gave each sample's class
     * @param correct           how many samples the inference logits classify right
     */
    record Step(double loss, float[] gradEmbedding, double targetProbability, int correct) {}

    /**
     * Computes the loss of {@code n} embeddings, writes the head's parameter gradients, returns the step.
     * {@code learningRate} is the step's rate, for a head that updates its own weights
     * ({@link PartialFcHead}); the other heads' parameters are the trainer's SGD's.
     */
    Step train(float[] embedding, int n, int[] labels, double learningRate);

    /** The logits used for prediction: for the margin family, without the margin ({@code n x C}). */
    float[] inferenceLogits(float[] embedding, int n);

    /** The head's learned arrays. */
    List<Parameter> parameters();

    /**
     * The class weight vectors ({@code C x D}, live) whose directions the feature plot draws, or null
     * when the logits are not a function of the angle to them.
     */
    float[] classWeights();

    /** The number of classes. */
    int classes();

    /** Ends training: a head with threads of its own stops them. It still predicts and draws afterwards. */
    default void finish() {}

    /** The head {@code loss} needs, for {@code classes} classes and embeddings of width {@code dim}. */
    static Head forLoss(Loss loss, int dim, int classes, Random random) {
        return forLoss(loss, dim, classes, random, null);
    }

    /**
     * The head {@code loss} needs, for {@code classes} classes and embeddings of width {@code dim}: with
     * {@code settings} whose {@link PartialFc} is on, a Partial FC head with their momentum and weight decay.
     *
     * @throws IllegalArgumentException for Partial FC with a loss that is not of the margin family
     */
    static Head forLoss(Loss loss, int dim, int classes, Random random, TrainingSettings settings) {
        if (settings != null && settings.partialFc().on()) {
            if (!(loss instanceof MarginLoss margin)) {
                throw new IllegalArgumentException(PartialFc.notMargin(loss.spec().name()));
            }
            return new PartialFcHead(margin, dim, classes, random, settings);
        }
        if (loss instanceof MarginLoss margin) {
            return new MarginHead(margin, dim, classes, random);
        }
        if (loss instanceof LogitLoss logits) {
            return new LogitHead(logits, dim, classes, random);
        }
        throw new IllegalArgumentException("the loss " + loss.spec().name() + " is neither on logits nor on features");
    }

    /**
     * Xavier's normal initial class weights: {@code classes k} rows of {@code dim} ({@code k} sub-centres per
     * class), each value {@code N(0, 2 / (classes + dim))}.
     */
    static float[] initialClassWeights(int classes, int k, int dim, Random random) {
        float[] w = new float[Math.multiplyExact(Math.multiplyExact(classes, k), dim)];
        double std = Math.sqrt(2.0 / (classes + dim));
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * std);
        }
        return w;
    }

    /** One block of every class, with the products whose bits do not depend on the run (as RowMajor's). */
    static StreamingMarginHead marginWalk(MarginLoss loss, int classes) {
        return new StreamingMarginHead(loss, classes, MatrixProducts.fixedOrder());
    }

    /**
     * The class weights the plots draw ({@code C x dim}): {@code weights} itself with one centre per class;
     * with {@code k} sub-centres, each class's first.
     */
    static float[] firstSubCentres(float[] weights, int classes, int dim) {
        int k = weights.length / (classes * dim);
        if (k == 1) {
            return weights;
        }
        float[] first = new float[classes * dim];
        for (int c = 0; c < classes; c++) {
            System.arraycopy(weights, c * k * dim, first, c * dim, dim);
        }
        return first;
    }

    /** How many of the {@code n} rows of {@code logits} ({@code n x c}) have their label as the first largest. */
    static int correct(float[] logits, int n, int c, int[] labels) {
        int correct = 0;
        for (int r = 0; r < n; r++) {
            if (argmax(logits, r * c, c) == labels[r]) {
                correct++;
            }
        }
        return correct;
    }

    /** Index of the largest of the {@code c} values at {@code offset}; the first on ties. */
    static int argmax(float[] values, int offset, int c) {
        int best = 0;
        for (int j = 1; j < c; j++) {
            if (values[offset + j] > values[offset + best]) {
                best = j;
            }
        }
        return best;
    }
}
