package dev.softmaxlosses.lab.train;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.StreamingMarginHead;
import dev.softmaxlosses.scale.ShardedHead;

import java.util.List;
import java.util.Random;

/**
 * The margin family's head as InsightFace's Partial FC trains it ({@link ShardedHead}): the class
 * weights split into {@link PartialFc#shards()} class shards, one thread each up to the processors'
 * count, and each step using the positives and a share {@link PartialFc#sampleRate()} of the negative
 * class centres. The head owns its weights and their optimiser: SGD with the run's momentum and weight
 * decay, at the step's rate of the run's schedule, touching only the sampled rows (Partial FC v1). The
 * weights start as {@link MarginHead}'s do, from the same random source, so that one shard at rate 1
 * trains as the plain head does, to float32 rounding of the optimiser's arithmetic. The numbers do not
 * depend on the thread count.
 */
public final class PartialFcHead implements Head {

    private final ShardedHead head;
    /** The walk of the prediction logits, which depend on the loss's scale, not on its state. */
    private final StreamingMarginHead walk;
    private final int dim;
    private final int classes;
    /** The weights when training has finished ({@link #finish}); until then, null: they live in the shards. */
    private float[] trained;

    PartialFcHead(MarginLoss loss, int dim, int classes, Random random, TrainingSettings s) {
        this.dim = dim;
        this.classes = classes;
        this.head = shardedHead(loss, dim, classes, random, s);
        this.walk = Head.marginWalk(loss, classes);
    }

    /**
     * The lab's Partial FC head for {@code loss} over {@code classes} classes of width {@code dim}, as
     * {@code s} says ({@link TrainingSettings#partialFc()}, momentum, weight decay, the first learning
     * rate, the seed of the sampling), its weights drawn from {@code random} as the plain head's are, one
     * thread per shard up to the processors' count. Both engines train through it.
     */
    public static ShardedHead shardedHead(MarginLoss loss, int dim, int classes, Random random, TrainingSettings s) {
        int k = loss.subCentres();
        float[] w = Head.initialClassWeights(classes, k, dim, random);
        int shards = s.partialFc().shards();
        return ShardedHead.builder(loss, classes, dim).shards(shards)
                .threads(Math.min(shards, Runtime.getRuntime().availableProcessors()))
                .products(MatrixProducts.fixedOrder()).sgd(s.learningRate(), s.momentum(), s.weightDecay())
                .sampling(s.partialFc().sampleRate(), s.seed()).weights(new FloatMatrix(w, classes * k, dim)).build();
    }

    @Override
    public Step train(float[] embedding, int n, int[] labels, double learningRate) {
        if (trained != null) {
            throw new IllegalStateException("the head has finished training");
        }
        head.setLearningRate(learningRate);
        ShardedHead.Step step = head.step(new FloatMatrix(embedding, n, dim), labels);
        double target = 0;
        for (double p : step.targetProbabilities()) {
            target += p;
        }
        return new Step(step.loss(), step.gradFeatures(), target, Head.correct(inferenceLogits(embedding, n), n, classes,
                labels));
    }

    /** The logits without the margin over every class (not only a step's sample). */
    @Override
    public float[] inferenceLogits(float[] embedding, int n) {
        float[] w = weights();
        return walk.inferenceLogits(new FloatMatrix(embedding, n, dim), new FloatMatrix(w, w.length / dim, dim)).data();
    }

    private float[] weights() {
        return trained != null ? trained : head.weights();
    }

    /** None: the head's weights and their optimiser's state are its own, not the network's SGD's. */
    @Override
    public List<Parameter> parameters() {
        return List.of();
    }

    /** A copy of the weights as they are now; with sub-centres, each class's first. */
    @Override
    public float[] classWeights() {
        return Head.firstSubCentres(weights(), classes, dim);
    }

    @Override
    public int classes() {
        return classes;
    }

    /** Keeps the weights and stops the shards' threads. */
    @Override
    public void finish() {
        if (trained == null) {
            trained = head.weights();
            head.close();
        }
    }
}
