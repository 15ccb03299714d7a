package dev.softmaxlosses.scale;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossState;
import dev.softmaxlosses.margin.RowState;
import dev.softmaxlosses.margin.ShardedMarginHead;

import java.util.function.BinaryOperator;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The one training step of a class-sharded head, written against {@link Exchange}: the driver
 * ({@link ShardedHead}) and the SPMD rank ({@link ShardRank}) run this same method, so that a change to
 * the step (a loss with state, one more exchange) is made once.
 */
final class HeadStep {

    private HeadStep() {}

    /** How the shards' messages meet: every reduction in shard order. */
    interface Exchange {
        /** Each local shard's {@code local}, merged over all shards in shard order; every shard gets the result. */
        <T> T allReduce(Function<ShardWorker, T> local, BinaryOperator<T> merge, Collectives.Codec<T> codec);

        /** A value every shard computes alike, from one local shard. */
        <T> T any(Function<ShardWorker, T> local);

        /** Each local shard's share of the feature gradient, summed over all shards in shard order into {@code out} (this side's rows). */
        void sumFeatureGradients(Function<ShardWorker, float[]> local, float[] out);

        /** Runs {@code action} on every local shard. */
        void each(Consumer<ShardWorker> action);
    }

    /**
     * What a step gave.
     *
     * @param loss  the reduced loss
     * @param rows  each row's merged softmax state over the step's classes
     * @param after the state the loss keeps after the step, which {@link #update} hands every shard
     */
    record Outcome(double loss, RowState rows, LossState after) {
        /** The probability the loss gave each row's class among the step's classes; NaN for an ignored row. */
        double[] targetProbabilities() {
            double[] p = new double[rows.rows()];
            for (int r = 0; r < p.length; r++) {
                p[r] = Math.exp(rows.targetLogit(r) - rows.logSumExp(r));
            }
            return p;
        }
    }

    /**
     * One step on the whole batch ({@code features} {@code N x D}, {@code labels} {@code N}, checked):
     * the sample, the forward and the merge of the row states, the loss, the backward and the sum of
     * the feature gradient into {@code gradFeatures}, the update with {@code learningRate}.
     *
     * @return the loss and the merged row states
     */
    static Outcome run(Exchange exchange, int shards, FloatMatrix features, int[] labels, long step, double learningRate,
                       float[] gradFeatures) {
        Outcome outcome = compute(exchange, shards, features, labels, step, gradFeatures);
        update(exchange, learningRate, outcome);
        return outcome;
    }

    /**
     * The step up to its update: the sample, the forward and the merge of the row states, the loss, the
     * backward and the sum of the feature gradient into {@code gradFeatures}. Each shard keeps its
     * weight gradient for {@link #update}; no weight, momentum or loss state changes.
     */
    static Outcome compute(Exchange exchange, int shards, FloatMatrix features, int[] labels, long step,
                           float[] gradFeatures) {
        // 4 (shards + N) bytes per shard: the sample's counts and each label's index in it.
        int[] samples = exchange.allReduce(w -> w.sample(labels, step), (a, b) -> ShardWorker.mergeSamples(a, b, shards),
                Collectives.Codec.INTS);
        exchange.each(w -> w.begin(features, labels, samples));
        // 4 + 8 N bytes per shard, for a loss whose row terms need every row's target cosine (curricularface).
        double[] cosines = exchange.any(ShardWorker::needsTargetCosines)
                ? exchange.allReduce(ShardWorker::targetCosines, HeadStep::mergeTargetCosines, Collectives.Codec.DOUBLES)
                : null;
        // 4 + 32 N bytes per shard.
        RowState merged = exchange.allReduce(w -> w.state(cosines), RowState::merge, Collectives.Codec.ROW_STATE);
        double loss = exchange.any(w -> w.loss(merged));
        LossState after = exchange.any(ShardWorker::lossState);
        exchange.each(w -> w.backward(merged));
        if (exchange.any(ShardWorker::differentiatesBatchParameter)) {
            // 12 bytes per shard: each shard's share of dL/d(batch parameter), summed, then its path into the targets.
            double total = exchange.allReduce(w -> new double[] {w.batchGradient()}, (a, b) -> new double[] {a[0] + b[0]},
                    Collectives.Codec.DOUBLES)[0];
            exchange.each(w -> w.backwardBatchParameter(total));
        }
        // 4 N D bytes per shard.
        exchange.sumFeatureGradients(ShardWorker::featureGradient, gradFeatures);
        return new Outcome(loss, merged, after);
    }

    /** The rest of the step {@link #compute} gave: each shard's update of its rows with {@code learningRate}. */
    static void update(Exchange exchange, double learningRate, Outcome computed) {
        exchange.each(w -> w.update(learningRate, computed.after()));
    }

    /** Each row's target cosine from the shard that holds it (the others' are NaN). */
    private static double[] mergeTargetCosines(double[] a, double[] b) {
        ShardedMarginHead.mergeTargetCosines(b, a, a.length);
        return a;
    }
}
