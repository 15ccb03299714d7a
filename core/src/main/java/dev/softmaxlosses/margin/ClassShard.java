package dev.softmaxlosses.margin;

import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.linalg.MatrixProducts;

import java.util.Objects;

/**
 * Classes {@code [lo, hi)} of a margin head of {@code classes} classes, as one worker of a class-sharded
 * head holds them (InsightFace's Partial FC): the same engine as {@link StreamingMarginHead}, over its
 * range only. One training step of a head split into shards:
 *
 * <pre>{@code
 *   ClassShard.Forward[] f = ...;                        // f[i] = shard[i].forward(batch of shard i's weights)
 *   RowState merged = new RowState(n);
 *   for (ClassShard.Forward part : f) merged.merge(part.state());   // the all-reduce: a fixed order
 *   double loss = f[0].loss(merged, losses, lse);       // the same on every shard
 *   for (i ...) scale += f[i].backward(merged, gradFeatures[i], gradWeights[i], null);
 *   // the feature gradient is the sum of the shards' gradFeatures[i], in a fixed order
 * }</pre>
 *
 * Each shard needs every feature ({@code N x D}, all-gathered), its own weights ({@code (hi - lo) x D}),
 * the labels and the per-class weights of all classes; it sends its {@link RowState}
 * ({@code 32 N} bytes) and its share of the feature gradient ({@code 4 N D} bytes). Results equal the
 * unsharded head to float32 rounding. A {@link Forward} holds scratch for its backward and is not
 * thread-safe; a shard itself is immutable.
 */
public final class ClassShard {

    private final MarginLoss loss;
    private final int lo;
    private final int hi;
    private final int classes;
    private final int block;
    private final MatrixProducts products;

    /** Classes {@code [lo, hi)} of {@code classes}, walked in one block, with {@link MatrixProducts#standard()}. */
    public ClassShard(MarginLoss loss, int lo, int hi, int classes) {
        this(loss, lo, hi, classes, Integer.MAX_VALUE, MatrixProducts.standard());
    }

    /**
     * Classes {@code [lo, hi)} of {@code classes}, walked in blocks of {@code block}.
     *
     * @throws IllegalArgumentException unless {@code 0 <= lo <= hi <= classes}, {@code classes >= 1} and {@code block >= 1}
     */
    public ClassShard(MarginLoss loss, int lo, int hi, int classes, int block, MatrixProducts products) {
        this.loss = Objects.requireNonNull(loss, "loss");
        this.products = Objects.requireNonNull(products, "products");
        if (classes < 1 || lo < 0 || lo > hi || hi > classes) {
            throw new IllegalArgumentException("a class shard needs 0 <= lo <= hi <= classes and classes >= 1, got lo = "
                    + lo + ", hi = " + hi + ", classes = " + classes);
        }
        if (block < 1) {
            throw new IllegalArgumentException("block must be >= 1, got " + block);
        }
        this.lo = lo;
        this.hi = hi;
        this.classes = classes;
        this.block = block;
    }

    public int lo() { return lo; }
    public int hi() { return hi; }
    public int classes() { return classes; }

    /**
     * The forward over this shard's classes: {@code batch.weights()} are the weights of classes
     * {@code lo .. hi - 1}; the labels index all classes, as do the per-class weights (if any).
     *
     * @throws IllegalArgumentException for a bad input, as {@link MarginLoss#compute} says it
     */
    public Forward forward(FeatureBatch batch) {
        Objects.requireNonNull(batch, "batch");
        if (batch.weights().rows() != hi - lo) {
            throw new IllegalArgumentException("weights has " + batch.weights().rows() + " rows, expected " + (hi - lo)
                    + " (the classes " + lo + " to " + (hi - 1) + " of this shard)");
        }
        MarginChecks.Batch b = MarginChecks.validate(loss, batch, lo, classes, null);
        return forward(b.prepare(loss), b.range());
    }

    /** The forward over this shard's range of a batch whose features (and the range) are checked and prepared. */
    Forward forward(MarginEngine.Features features, MarginEngine.Range range) {
        return new Forward(features, range);
    }

    /** A shard's forward, kept for its backward. */
    public final class Forward {
        private final MarginEngine engine;
        private final MarginEngine.Features features;
        private final MarginEngine.Pass pass;

        private Forward(MarginEngine.Features features, MarginEngine.Range range) {
            this.engine = new MarginEngine(loss, products, block);
            this.features = features;
            this.pass = engine.forward(features, range);
        }

        /** This shard's row state, to be merged with the other shards'. */
        public RowState state() {
            return pass.state;
        }

        /**
         * The reduced loss from the state merged over all shards (the same on every shard), with the
         * per-sample losses and log-sum-exps into {@code losses} and {@code lse} when they are not null.
         */
        public double loss(RowState merged, float[] losses, float[] lse) {
            requireRows(merged);
            return engine.finish(features, merged, losses, lse).loss();
        }

        /**
         * The backward over this shard's classes with the merged state: the gradient of its weights into
         * {@code gradWeights} ({@code (hi - lo) x D}), its share of the feature gradient into
         * {@code gradFeatures} ({@code N x D}, overwritten), its columns of the {@code N x C} outputs when
         * {@code perClass} is not null.
         *
         * @return this shard's share of the gradient with respect to the scale
         */
        public double backward(RowState merged, float[] gradFeatures, float[] gradWeights, PerClassOutputs perClass) {
            requireRows(merged);
            requireLength("gradFeatures", gradFeatures, (long) features.n * features.d);
            requireLength("gradWeights", gradWeights, (long) pass.range.width() * features.d);
            MarginEngine.Totals totals = engine.finish(features, merged, null, null);
            MarginEngine.Outputs out = new MarginEngine.Outputs(gradFeatures, gradWeights);
            if (perClass != null) {
                out.perClass(perClass.logits(), perClass.probabilities(), perClass.gradLogits(), perClass.stride(),
                        perClass.column());
            }
            engine.backward(pass, merged, totals, out);
            return out.gradScale;
        }

        private void requireRows(RowState merged) {
            if (Objects.requireNonNull(merged, "merged").rows() != features.n) {
                throw new IllegalArgumentException("the merged state has " + merged.rows() + " rows, expected " + features.n);
            }
        }
    }

    private static void requireLength(String name, float[] buffer, long length) {
        if (Objects.requireNonNull(buffer, name).length != length) {
            throw new IllegalArgumentException(name + " must have " + length + " values, got " + buffer.length);
        }
    }
}
