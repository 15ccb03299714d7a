package dev.softmaxlosses.margin;

import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.LossState;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.linalg.MatrixProducts;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

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
 * unsharded head to float32 rounding.
 *
 * <p><b>Reuse.</b> A {@link Forward} holds the scratch its backward needs (as much as a
 * {@link StreamingMarginHead}'s over the shard's classes, the products of the forward kept whenever
 * the shard is walked in one block); when its backward has run it hands that scratch back to the
 * shard for the next forward and is spent. A shard that runs forward, then backward, again and again
 * allocates nothing but a small {@link Forward} per step. Forwards run at the same time on one shard
 * (from several threads, or several before their backwards) each get their own scratch: the shard
 * is safe to share; a {@link Forward} is confined to one thread at a time.
 */
public final class ClassShard {

    private final MarginLoss loss;
    private final int lo;
    private final int hi;
    private final int classes;
    private final MarginEngine engine;
    /** The scratch of the last spent forward, for the next (shared with the shards made by {@link #over}). */
    private final AtomicReference<MarginWorkspace> spare;

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
        Objects.requireNonNull(products, "products");
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
        this.engine = new MarginEngine(loss, products, block, StreamingMarginHead.DEFAULT_KEPT_PRODUCT_BYTES);
        this.spare = new AtomicReference<>();
    }

    /** The engine and scratch of {@code from} over another range. */
    private ClassShard(ClassShard from, MarginLoss loss, MarginEngine engine, int lo, int hi, int classes) {
        this.loss = loss;
        this.engine = engine;
        this.spare = from.spare;
        this.lo = lo;
        this.hi = hi;
        this.classes = classes;
    }

    /**
     * This shard's loss, block, products and scratch over classes {@code [lo, hi)} of {@code classes}:
     * a head whose shard's range changes from step to step (Partial FC's class-centre sampling, where
     * a step's classes are the sampled ones) keeps one shard and reuses its scratch. The two shards
     * share the scratch as a shard shares it between concurrent forwards: both are safe to use.
     *
     * @throws IllegalArgumentException unless {@code 0 <= lo <= hi <= classes} and {@code classes >= 1}
     */
    public ClassShard over(int lo, int hi, int classes) {
        if (classes < 1 || lo < 0 || lo > hi || hi > classes) {
            throw new IllegalArgumentException("a class shard needs 0 <= lo <= hi <= classes and classes >= 1, got lo = "
                    + lo + ", hi = " + hi + ", classes = " + classes);
        }
        return new ClassShard(this, loss, engine, lo, hi, classes);
    }

    /**
     * This shard with {@code next}, the same loss with the state of the next step
     * ({@link MarginLoss#withState}), its scratch shared.
     *
     * @throws IllegalArgumentException when {@code next} is another loss (its spec differs beyond its state)
     */
    public ClassShard withLoss(MarginLoss next) {
        if (next.getClass() != loss.getClass() || !next.withState(loss.state()).spec().equals(loss.spec())) {
            throw new IllegalArgumentException("a shard of " + loss.spec() + " cannot take " + next.spec()
                    + ": only its state may change");
        }
        return new ClassShard(this, next, engine.withLoss(next), lo, hi, classes);
    }

    /** The loss, with the state its next forward starts from. */
    public MarginLoss loss() {
        return loss;
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
        int k = loss.subCentres();
        if (batch.weights().rows() != (long) (hi - lo) * k) {
            throw new IllegalArgumentException("weights has " + batch.weights().rows() + " rows, expected " + (long) (hi - lo) * k
                    + " (the classes " + lo + " to " + (hi - 1) + " of this shard" + (k == 1 ? "" : ", " + k + " sub-centres each")
                    + ")");
        }
        MarginWorkspace ws = spare.getAndSet(null);
        if (ws == null) {
            ws = new MarginWorkspace();
        }
        MarginChecks.validate(loss, batch, lo, classes, null, ws);
        return new Forward(ws);
    }

    /**
     * Whether the loss needs every row's target cosine before a shard's forward (curricularface: its
     * hard negatives are those above {@code cos(theta_y + m)}), so that one more exchange comes first:
     * {@link Forward#targetCosines()}, merged over the shards
     * ({@link ShardedMarginHead#mergeTargetCosines}, {@code 8 N} bytes a shard), into
     * {@link Forward#state(double[])}.
     */
    public boolean needsTargetCosines() {
        return loss.needsTargetCosines();
    }

    /**
     * Whether the loss sends a gradient through its batch parameter (curricularface's {@code t'} under
     * {@code gradient=full}), which takes one more exchange after the backward: see {@link Forward#backward}.
     */
    public boolean differentiatesBatchParameter() {
        return loss.differentiatesBatchParam();
    }

    /**
     * The forward over this shard's classes with their weights the first {@code (hi - lo) k} rows ({@code k} sub-centres) of
     * {@code dim} values of {@code weights}, a buffer that may be longer: a head whose shard gathers a
     * different number of sampled classes each step keeps one buffer for them. The labels index all
     * {@code classes}; no per-class weights.
     *
     * @throws IllegalArgumentException for a buffer shorter than {@code (hi - lo) x dim}, a dimension
     *                                  below 1, or a bad input, as {@link MarginLoss#compute} says it
     */
    public Forward forward(FloatMatrix features, float[] weights, int dim, int[] labels) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(labels, "labels");
        if (dim < 1) {
            throw new IllegalArgumentException("dim must be >= 1, got " + dim);
        }
        int rows = (hi - lo) * loss.subCentres();
        if (weights.length < (long) rows * dim) {
            throw new IllegalArgumentException("weights has " + weights.length + " values, expected at least " + (long) rows * dim
                    + " (the classes " + lo + " to " + (hi - 1) + " of this shard, of dimension " + dim + ")");
        }
        MarginWorkspace ws = spare.getAndSet(null);
        if (ws == null) {
            ws = new MarginWorkspace();
        }
        MarginChecks.validate(loss, features, weights, rows, dim, labels, null, lo, classes, null, ws);
        return new Forward(ws);
    }

    /** A shard's forward, kept for its backward. */
    public final class Forward {
        private MarginWorkspace ws;
        private boolean folded;
        private boolean pendingBatch;

        private Forward(MarginWorkspace ws) {
            this.ws = ws;
            MarginEngine.Pass pass = ws.pass(0);
            pass.range.part(ws.classes, 0, ws.classes.width);
            engine.begin(ws, pass, ws.features, true, null);
            if (ws.features.terms.fixed) {
                fold();
            }
        }

        private void fold() {
            engine.forward(ws, ws.pass(0));
            folded = true;
        }

        /**
         * This shard's row state, to be merged with the other shards'.
         *
         * @throws IllegalStateException when the loss {@linkplain #needsTargetCosines() needs every row's
         *                               target cosine} and they were not given ({@link #state(double[])})
         */
        public RowState state() {
            MarginWorkspace live = live();
            if (!folded) {
                throw new IllegalStateException(loss.name() + " needs every row's target cosine first: merge the shards'"
                        + " targetCosines() and call state(merged)");
            }
            return live.pass(0).state;
        }

        /**
         * The target cosines of the rows whose target this shard holds, NaN for the others: what it
         * sends before its forward when the loss {@linkplain #needsTargetCosines() needs them}.
         */
        public double[] targetCosines() {
            MarginWorkspace live = live();
            // The workspace's buffer may be longer: it is kept from a larger batch.
            return Arrays.copyOf(engine.targetCosines(live.pass(0)), live.features.n);
        }

        /**
         * This shard's row state, folded with every row's target cosine ({@code N} values, merged over
         * all shards); for a loss that does not need them it is {@link #state()}.
         *
         * @throws IllegalArgumentException when {@code merged} has not {@code N} values, or lacks the cosine of a row that counts
         */
        public RowState state(double[] merged) {
            MarginWorkspace live = live();
            if (!folded) {
                MarginEngine.Features f = live.features;
                requireLength("merged target cosines", merged, f.n);
                for (int r = 0; r < f.n; r++) {
                    if (f.labels[r] != loss.ignoreIndex() && Double.isNaN(merged[r])) {
                        throw new IllegalArgumentException("the merged target cosines have none for row " + r
                                + " (label " + f.labels[r] + "): merge every shard's");
                    }
                }
                double[] all = live.targetCosines = MarginWorkspace.atLeast(live.targetCosines, f.n);
                System.arraycopy(merged, 0, all, 0, f.n);
                f.fixTerms(loss, all);
                fold();
            }
            return state();
        }

        /** The state the loss keeps after this step (the same on every shard): the next step's loss is {@code withState} it. */
        public LossState lossState() {
            return live().features.terms.after;
        }

        /**
         * The reduced loss from the state merged over all shards (the same on every shard), with the
         * per-sample losses and log-sum-exps into {@code losses} and {@code lse} when they are not null.
         */
        public double loss(RowState merged, float[] losses, float[] lse) {
            requireRows(merged);
            return engine.finish(ws.features, merged, losses, lse, ws.totals);
        }

        /**
         * The backward over this shard's classes with the merged state: the gradient of its weights into
         * the first {@code (hi - lo) k x D} values ({@code k} sub-centres) of {@code gradWeights} (a longer buffer keeps the rest), its share of the feature gradient into
         * {@code gradFeatures} ({@code N x D}, overwritten), its columns of the {@code N x C} outputs when
         * {@code perClass} is not null. This forward is spent after it: its scratch goes back to the shard.
         * A loss that {@linkplain ClassShard#differentiatesBatchParameter() differentiates its batch parameter} needs one
         * more exchange first: the sum over the shards of {@link #batchGradient()}, then
         * {@link #backwardBatchParameter}, which spends the forward.
         *
         * @return this shard's share of the gradient with respect to the scale
         * @throws IllegalStateException when this forward's backward has run already
         */
        public double backward(RowState merged, float[] gradFeatures, float[] gradWeights, PerClassOutputs perClass) {
            state();
            requireRows(merged);
            MarginEngine.Features features = ws.features;
            requireLength("gradFeatures", gradFeatures, (long) features.n * features.d);
            requireAtLeast(gradWeights, (long) (hi - lo) * loss.subCentres() * features.d);
            engine.finish(features, merged, null, null, ws.totals);
            MarginEngine.Outputs out = ws.outputs.set(gradFeatures, gradWeights, 0);
            if (perClass != null) {
                out.perClass(perClass.logits(), perClass.probabilities(), perClass.gradLogits(), perClass.stride(),
                        perClass.column());
            }
            engine.backward(ws, ws.pass(0), merged, ws.totals, out);
            double gradScale = out.gradScale;
            if (loss.differentiatesBatchParam()) {
                pendingBatch = true;
            } else {
                spend();
            }
            return gradScale;
        }

        /** This shard's share of {@code dL/d(batch parameter)} (curricularface's {@code t'} under {@code gradient=full}), after its backward. */
        public double batchGradient() {
            requirePendingBatch();
            return live().pass(0).batchGradient;
        }

        /**
         * Adds the gradient that flows through the batch parameter into the target cosines of this shard's
         * rows, {@code total} being {@link #batchGradient()} summed over every shard, to the buffers its
         * backward wrote; spends this forward.
         */
        public void backwardBatchParameter(double total, float[] gradFeatures, float[] gradWeights) {
            requirePendingBatch();
            MarginEngine.Features features = ws.features;
            requireLength("gradFeatures", gradFeatures, (long) features.n * features.d);
            requireAtLeast(gradWeights, (long) (hi - lo) * loss.subCentres() * features.d);
            engine.backwardBatchParam(ws.pass(0), total, ws.outputs.set(gradFeatures, gradWeights, 0));
            spend();
        }

        private void requirePendingBatch() {
            live();
            if (!pendingBatch) {
                throw new IllegalStateException(loss.differentiatesBatchParam() ? "run backward first"
                        : loss.name() + " does not differentiate a batch parameter");
            }
        }

        private void spend() {
            ws.release();
            spare.set(ws);
            ws = null;
            pendingBatch = false;
        }

        private MarginWorkspace live() {
            if (ws == null) {
                throw new IllegalStateException("this forward's backward has run and its scratch went back to the shard;"
                        + " run forward again");
            }
            return ws;
        }

        private void requireRows(RowState merged) {
            int n = live().features.n;
            if (Objects.requireNonNull(merged, "merged").rows() != n) {
                throw new IllegalArgumentException("the merged state has " + merged.rows() + " rows, expected " + n);
            }
        }
    }

    private static void requireLength(String name, float[] buffer, long length) {
        if (Objects.requireNonNull(buffer, name).length != length) {
            throw new IllegalArgumentException(name + " must have " + length + " values, got " + buffer.length);
        }
    }

    private static void requireAtLeast(float[] gradWeights, long values) {
        if (Objects.requireNonNull(gradWeights, "gradWeights").length < values) {
            throw new IllegalArgumentException("gradWeights must have at least " + values + " values, got " + gradWeights.length);
        }
    }

    private static void requireLength(String name, double[] buffer, long length) {
        if (Objects.requireNonNull(buffer, name).length != length) {
            throw new IllegalArgumentException(name + " must have " + length + " values, got " + buffer.length);
        }
    }
}
