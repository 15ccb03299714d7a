package dev.softmaxlosses.margin;

import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.linalg.MatrixProducts;

import java.util.Arrays;
import java.util.Objects;

/**
 * A margin head whose classes are split into {@code shards} contiguous {@link ClassShard}s of sizes as
 * equal as possible (the first {@code C mod shards} one class larger; with more shards than classes
 * the extra ones are empty), run one after another in
 * this thread: each shard's forward, the row states merged in shard order, each shard's backward
 * with the merged state, the weight gradients concatenated and the feature gradients summed in shard
 * order. Its results equal {@link MarginLoss#compute} to float32 rounding; it is the reference for a
 * head whose shards live on several threads or machines, and what {@code eval}'s {@code "shards"} runs.
 * Immutable and safe to share.
 */
public final class ShardedMarginHead {

    private final MarginLoss loss;
    private final int shards;
    private final int block;
    private final MatrixProducts products;

    /** {@code shards} shards, each walked in one block, with {@link MatrixProducts#standard()}. */
    public ShardedMarginHead(MarginLoss loss, int shards) {
        this(loss, shards, Integer.MAX_VALUE, MatrixProducts.standard());
    }

    /** {@code shards} shards, each walked in blocks of {@code block} classes. */
    public ShardedMarginHead(MarginLoss loss, int shards, int block, MatrixProducts products) {
        this.loss = Objects.requireNonNull(loss, "loss");
        this.products = Objects.requireNonNull(products, "products");
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be >= 1, got " + shards);
        }
        if (block < 1) {
            throw new IllegalArgumentException("block must be >= 1, got " + block);
        }
        this.shards = shards;
        this.block = block;
    }

    /** The first class of shard {@code i} of {@code shards} over {@code classes} classes ({@code i = shards} gives {@code classes}). */
    public static int firstClass(int i, int shards, int classes) {
        int size = classes / shards;
        int larger = classes % shards;
        return i * size + Math.min(i, larger);
    }

    /** Computes into buffers with feature gradients; the {@code N x C} outputs too when {@code out} holds them. */
    public void compute(FeatureBatch batch, LossResult out) {
        Objects.requireNonNull(out, "out");
        MarginChecks.Batch whole = MarginChecks.validate(loss, batch, out);
        int n = whole.n();
        int c = whole.c();
        int d = whole.d();
        // More shards than classes: the extra ones are empty and add nothing.
        int used = Math.min(shards, c);
        // The batch is checked and its features prepared once; each shard owns a copy of its weights.
        MarginEngine.Features features = whole.prepare(loss);
        ClassShard.Forward[] forwards = new ClassShard.Forward[used];
        RowState merged = new RowState(n);
        for (int i = 0; i < used; i++) {
            int lo = firstClass(i, shards, c);
            int hi = firstClass(i + 1, shards, c);
            MarginEngine.Range range = new MarginEngine.Range(Arrays.copyOfRange(whole.weights(), lo * d, hi * d), lo,
                    hi - lo, Arrays.copyOfRange(whole.weightNorms(), lo, hi));
            forwards[i] = new ClassShard(loss, lo, hi, c, block, products).forward(features, range);
            merged.merge(forwards[i].state());
        }
        out.setLoss(loss.reduction(), forwards[0].loss(merged, out.losses(), out.logSumExp()));
        float[] gradFeatures = out.gradFeatures();
        float[] share = new float[n * d];
        double gradScale = 0;
        for (int i = 0; i < used; i++) {
            int lo = firstClass(i, shards, c);
            int hi = firstClass(i + 1, shards, c);
            float[] gradWeights = new float[(hi - lo) * d];
            PerClassOutputs perClass = out.hasPerClassOutputs()
                    ? new PerClassOutputs(out.logits(), out.probabilities(), out.gradLogits(), c, lo) : null;
            gradScale += forwards[i].backward(merged, i == 0 ? gradFeatures : share, gradWeights, perClass);
            for (int k = 0; i > 0 && k < share.length; k++) {
                gradFeatures[k] += share[k];
            }
            System.arraycopy(gradWeights, 0, out.gradWeights(), lo * d, gradWeights.length);
        }
        out.setGradScale(gradScale);
        MarginChecks.requireFiniteGradients(loss, gradFeatures, out.gradWeights(), gradScale, whole.featureNorms(),
                whole.weightNorms(), d);
    }
}
