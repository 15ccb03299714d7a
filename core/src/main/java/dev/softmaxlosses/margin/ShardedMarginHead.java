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
 * Immutable and safe to share; as {@link StreamingMarginHead}, it keeps its scratch in the
 * {@link LossResult} it writes (each shard's products and row state, the largest shard's block
 * scratch, and {@code 4 N D} bytes for a shard's share of the feature gradient), so that a call
 * with the same result allocates nothing.
 */
public final class ShardedMarginHead {

    private final MarginLoss loss;
    private final int shards;
    private final MarginEngine engine;

    /** {@code shards} shards, each walked in one block, with {@link MatrixProducts#standard()}. */
    public ShardedMarginHead(MarginLoss loss, int shards) {
        this(loss, shards, Integer.MAX_VALUE, MatrixProducts.standard());
    }

    /** {@code shards} shards, each walked in blocks of {@code block} classes. */
    public ShardedMarginHead(MarginLoss loss, int shards, int block, MatrixProducts products) {
        this.loss = Objects.requireNonNull(loss, "loss");
        Objects.requireNonNull(products, "products");
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be >= 1, got " + shards);
        }
        if (block < 1) {
            throw new IllegalArgumentException("block must be >= 1, got " + block);
        }
        this.shards = shards;
        this.engine = new MarginEngine(loss, products, block, StreamingMarginHead.DEFAULT_KEPT_PRODUCT_BYTES);
    }

    /** The first class of shard {@code i} of {@code shards} over {@code classes} classes ({@code i = shards} gives {@code classes}). */
    public static int firstClass(int i, int shards, int classes) {
        int size = classes / shards;
        int larger = classes % shards;
        return i * size + Math.min(i, larger);
    }

    /**
     * Folds one shard's target cosines ({@code NaN} where it does not hold a row's target) into
     * {@code merged}: the all-reduce a loss that {@linkplain ClassShard#needsTargetCosines() needs them}
     * runs before its forward. Each row's cosine comes from the one shard that holds its target.
     */
    public static void mergeTargetCosines(double[] shard, double[] merged, int n) {
        for (int r = 0; r < n; r++) {
            if (!Double.isNaN(shard[r])) {
                merged[r] = shard[r];
            }
        }
    }

    /** The shard of {@code shards} over {@code classes} classes that holds class {@code c}: the inverse of {@link #firstClass}. */
    public static int shardOf(int c, int shards, int classes) {
        int size = classes / shards;
        int larger = classes % shards;
        int split = larger * (size + 1);
        return c < split ? c / (size + 1) : larger + (c - split) / size;
    }

    /** Computes into buffers with feature gradients; the {@code N x C} outputs too when {@code out} holds them. */
    public void compute(FeatureBatch batch, LossResult out) {
        Objects.requireNonNull(out, "out");
        MarginWorkspace ws = MarginWorkspace.of(out);
        try {
            MarginChecks.validate(loss, batch, out, ws);
            run(ws, out);
        } finally {
            ws.release();
        }
    }

    /** The shards over the batch checked into {@code ws}, each over its part of the batch's classes. */
    private void run(MarginWorkspace ws, LossResult out) {
        MarginEngine.Features features = ws.features;
        int n = features.n;
        int d = features.d;
        int c = ws.classes.width;
        // More shards than classes: the extra ones are empty and add nothing.
        int used = Math.min(shards, c);
        RowState merged = ws.merged;
        merged.reset(n);
        for (int i = 0; i < used; i++) {
            MarginEngine.Pass pass = ws.pass(i);
            pass.range.part(ws.classes, firstClass(i, shards, c), firstClass(i + 1, shards, c));
            engine.begin(ws, pass, features, true, null);
        }
        if (!features.terms.fixed) {
            // The exchange before the forward: each row's target cosine, from the shard that holds it.
            double[] all = ws.targetCosines = MarginWorkspace.atLeast(ws.targetCosines, n);
            Arrays.fill(all, 0, n, Double.NaN);
            for (int i = 0; i < used; i++) {
                mergeTargetCosines(engine.targetCosines(ws.pass(i)), all, n);
            }
            features.fixTerms(loss, all);
        }
        for (int i = 0; i < used; i++) {
            MarginEngine.Pass pass = ws.pass(i);
            engine.forward(ws, pass);
            merged.merge(pass.state);
        }
        out.setLoss(loss.reduction(), engine.finish(features, merged, out.losses(), out.logSumExp(), ws.totals));
        out.setLossState(features.terms.after);
        float[] gradFeatures = out.gradFeatures();
        float[] share = ws.share = MarginWorkspace.atLeast(ws.share, n * d);
        double gradScale = 0;
        for (int i = 0; i < used; i++) {
            MarginEngine.Pass pass = ws.pass(i);
            int lo = pass.range.lo;
            MarginEngine.Outputs o = ws.outputs.set(i == 0 ? gradFeatures : share, out.gradWeights(), lo);
            if (out.hasPerClassOutputs()) {
                o.perClass(out.logits(), out.probabilities(), out.gradLogits(), c, lo);
            }
            engine.backward(ws, pass, merged, ws.totals, o);
            gradScale += o.gradScale;
            for (int k = 0; i > 0 && k < n * d; k++) {
                gradFeatures[k] += share[k];
            }
        }
        if (loss.differentiatesBatchParam()) {
            // Through the batch parameter once every range's share of its gradient is known.
            double total = 0;
            for (int i = 0; i < used; i++) {
                total += ws.pass(i).batchGradient;
            }
            for (int i = 0; i < used; i++) {
                MarginEngine.Pass pass = ws.pass(i);
                engine.backwardBatchParam(pass, total, ws.outputs.set(gradFeatures, out.gradWeights(), pass.range.lo));
            }
        }
        out.setGradScale(gradScale);
        MarginChecks.requireFiniteGradients(loss, gradFeatures, out.gradWeights(), gradScale, features.norms,
                ws.classes.norms, d);
    }
}
