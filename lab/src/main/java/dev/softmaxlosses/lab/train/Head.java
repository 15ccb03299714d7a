package dev.softmaxlosses.lab.train;

import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.Loss;
import dev.softmaxlosses.margin.MarginLoss;

import java.util.List;
import java.util.Random;

/**
 * The part of the model that the loss owns: it turns embeddings into the loss and its gradient, and
 * into the logits a trained model predicts with. Logit losses get a dense layer with bias in front
 * ({@link LogitHead}); the margin family takes the embeddings as features and holds the class
 * weights itself ({@link MarginHead}).
 */
public sealed interface Head permits LogitHead, MarginHead {

    /**
     * What one training batch gave.
     *
     * @param loss              the loss (reduced as the spec says)
     * @param gradEmbedding     {@code d loss / d embedding}, {@code n x D}
     * @param targetProbability the sum over the batch of the probability the loss gave each sample's class
     * @param correct           how many samples the inference logits classify right
     */
    record Step(double loss, float[] gradEmbedding, double targetProbability, int correct) {}

    /** Computes the loss of {@code n} embeddings, writes the head's parameter gradients, returns the step. */
    Step train(float[] embedding, int n, int[] labels);

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

    /** The head {@code loss} needs, for {@code classes} classes and embeddings of width {@code dim}. */
    static Head forLoss(Loss loss, int dim, int classes, Random random) {
        if (loss instanceof MarginLoss margin) {
            return new MarginHead(margin, dim, classes, random);
        }
        if (loss instanceof LogitLoss logits) {
            return new LogitHead(logits, dim, classes, random);
        }
        throw new IllegalArgumentException("the loss " + loss.spec().name() + " is neither on logits nor on features");
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
