package dev.softmaxlosses.scale;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.margin.MarginLoss;

import java.util.Objects;
import java.util.function.BinaryOperator;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One rank of an SPMD class-sharded head (Partial FC as InsightFace runs it under
 * {@code torch.distributed}): rank {@code i} of {@code k} owns shard {@code i} of the class weights
 * ({@link ShardWorker}) and its part of each batch; every rank calls {@link #step} with its own rows.
 * The step all-gathers the features ({@code 4 n_i D} bytes sent by rank {@code i}) and labels
 * ({@code 4 n_i}), runs {@link ShardedHead}'s one step with the exchanges made through
 * {@link Collectives} (the sample, {@code 4 (k + N)} bytes; the row state, {@code 32 N}) and
 * reduce-scatters the feature gradient ({@code 4 N D}), so that each rank gets the gradient of its own
 * rows. The loss, the weights and the gradients have the bits of a {@link ShardedHead} of {@code k}
 * shards on the concatenated batch. Built by {@link ShardedHead.Builder#rank}.
 *
 * <p>A rank that throws leaves the others waiting in their next collective: the binding must abort
 * the group ({@link InProcessCollectives#run} does). The checks of a batch see the gathered batch,
 * the same on every rank, so every rank throws alike.
 */
public final class ShardRank {

    private final ShardWorker worker;
    private final Collectives collectives;
    private final MarginLoss loss;
    private final int classes;
    private final int dim;
    private double learningRate;
    private long steps;

    ShardRank(ShardWorker worker, Collectives collectives, MarginLoss loss, int classes, int dim, double learningRate,
              long step) {
        this.worker = worker;
        this.collectives = collectives;
        this.loss = loss;
        this.classes = classes;
        this.dim = dim;
        this.learningRate = learningRate;
        this.steps = step;
    }

    /** This rank's shard. */
    public ShardWorker worker() { return worker; }

    public long steps() { return steps; }

    /** Sets the learning rate of the next steps, finite and {@code >= 0}; every rank must set the same. */
    public void setLearningRate(double learningRate) {
        if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learningRate must be finite and >= 0, got " + learningRate);
        }
        this.learningRate = learningRate;
    }

    /**
     * One step on this rank's rows ({@code n_i x D} features, {@code n_i} labels; {@code n_i} may be 0 on
     * some ranks), the gradient of those rows into {@code gradFeatures} ({@code n_i x D}).
     *
     * @return the loss of the whole (gathered) batch, the same on every rank
     * @throws IllegalArgumentException as {@link ShardedHead#step}, for the local shapes or the gathered batch
     */
    public double step(FloatMatrix features, int[] labels, float[] gradFeatures) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(gradFeatures, "gradFeatures");
        int local = features.rows();
        if (local > 0 && features.cols() != dim) {
            throw new IllegalArgumentException("features has " + features.cols() + " columns, expected " + dim
                    + " (the head's dimension)");
        }
        if (labels.length != local || gradFeatures.length != (long) local * dim) {
            throw new IllegalArgumentException("labels has " + labels.length + " entries and gradFeatures "
                    + gradFeatures.length + " values, expected " + local + " and " + (long) local * dim);
        }
        int[] rows = collectives.allGather(new int[] {local});
        float[] all = collectives.allGather(features.data());
        int[] allLabels = collectives.allGather(labels);
        int n = allLabels.length;
        FloatMatrix gathered = new FloatMatrix(all, n, dim);
        ShardedHead.checkBatch(gathered, allLabels, classes, dim, loss.ignoreIndex());
        int[] counts = new int[rows.length];
        for (int r = 0; r < rows.length; r++) {
            counts[r] = rows[r] * dim;
        }
        HeadStep.Exchange exchange = new HeadStep.Exchange() {
            @Override
            public <T> T allReduce(Function<ShardWorker, T> f, BinaryOperator<T> merge, Collectives.Codec<T> codec) {
                return collectives.allReduce(f.apply(worker), merge, codec);
            }

            @Override
            public <T> T any(Function<ShardWorker, T> f) {
                return f.apply(worker);
            }

            @Override
            public void sumFeatureGradients(Function<ShardWorker, float[]> f, float[] out) {
                float[] slice = collectives.reduceScatter(f.apply(worker), counts);
                System.arraycopy(slice, 0, out, 0, slice.length);
            }

            @Override
            public void each(Consumer<ShardWorker> action) {
                action.accept(worker);
            }
        };
        double l = HeadStep.run(exchange, collectives.size(), gathered, allLabels, steps, learningRate, gradFeatures).loss();
        steps++;
        return l;
    }
}
