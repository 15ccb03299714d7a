package dev.softmaxlosses.scale;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.margin.ClassShard;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.ShardedMarginHead;
import dev.softmaxlosses.margin.StreamingMarginHead;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BinaryOperator;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The class-sharded training head of InsightFace's Partial FC (An et al., "Killing Two Birds with One
 * Stone: Efficient and Robust Training of Face Recognition CNNs by Partial FC", CVPR 2022): a margin
 * loss ({@link MarginLoss}) over {@code C} classes of dimension {@code D} whose class weights are split
 * into {@code shards} contiguous ranges ({@link ShardedMarginHead#firstClass}: sizes as equal as
 * possible, the first {@code C mod shards} one class larger), each range owned by a {@link ShardWorker}
 * with its weights, gradient and optimizer state, run on a pool of {@code threads} threads. It trains
 * the class weights and returns the gradient with respect to the features, for the backbone.
 *
 * <p><b>One step</b> ({@link #step}), {@code x} the {@code N x D} features, {@code y} the labels:
 * <ol>
 *   <li>each shard picks its classes of the step (below) and the picks are merged;</li>
 *   <li>each shard runs the margin engine over its classes ({@link ClassShard}), walking them in blocks
 *       of {@code block}: its {@code RowState} (each row's max, sum of exponentials, target logit);</li>
 *   <li>the states are merged in shard order (Partial FC's all-reduce of max and sum), the loss taken
 *       from the merged state, and each shard's backward gives its weight gradient and its share of
 *       {@code dL/dx}, summed over the shards in shard order;</li>
 *   <li>each shard updates its rows: SGD with momentum {@code mu} and weight decay {@code wd} as
 *       PyTorch's ({@code g = dL/dW + wd W; v = mu v + g; W = W - lr v}, float32).</li>
 * </ol>
 * The loss and gradients equal {@link MarginLoss#compute} on the same (sampled) weights to float32
 * rounding, for any shard count; every reduction has a fixed order, so the bits do not depend on the
 * number of threads. With {@link MatrixProducts#fixedOrder()} (or the SIMD products) they do not
 * depend on the run either.
 *
 * <p><b>Class-centre sampling</b> (Partial FC, {@code sampleRate} r in (0, 1]): each step keeps the
 * classes of the batch's labels (the positives, always) and each other class {@code c} whose hash of
 * {@code (samplingSeed, step, c)} maps below {@code r} (so about {@code r C} negatives). The sample
 * depends on nothing else: it is the same for any shard count, and so are the results. The step's
 * {@code C'} classes, in class order, are those of the loss: the labels are remapped to their index
 * among them, the sampled rows gathered into a buffer each shard keeps from step to step. Only the
 * sampled rows' weights, gradients and momentum are touched by the step: Partial FC v1's semantics,
 * where each class keeps its momentum and an unsampled class does not move; in Partial FC v2 the
 * optimizer steps every row, so that unsampled rows drift under their momentum and weight decay. With
 * {@code r = 1} every class is used in place, without a copy. InsightFace samples a fixed number of
 * classes per rank; the count here is random (about {@code r C} plus the positives) and the sample a
 * function of the class alone, which is what makes it independent of the shard count.
 *
 * <p><b>Losses with state and sub-centres.</b> A loss that keeps state (adaface's norm statistics,
 * curricularface's {@code t}, elasticface's step) computes it from the whole batch, which every shard
 * holds, so every shard gets the same; each shard's loss starts the next step from it ({@link #loss()}
 * shows it, checkpoints save it in the loss's spec). curricularface needs every row's
 * {@code cos(theta_y + m)} before any shard folds its classes: the shards first exchange the target
 * cosines (each row's from the shard that holds its class), and under {@code gradient=full} one more
 * number after the backward (each shard's share of {@code dL/dt'}). subcenter_arcface's {@code k}
 * sub-centres of a class stay together on its shard ({@code k} contiguous rows of {@code D}). The head
 * takes no per-class weights of the loss, and does not train the scale (a shard's share of
 * {@code dL/ds} is dropped).
 *
 * <p><b>Memory</b> ({@link #trainingBytes}): {@code 4 C D} bytes of weights and {@code 4 C D} of
 * momentum; the gradient of the step's rows, {@code 4 C D} without sampling or about {@code 4 r C D}
 * with it, plus the gathered sampled weights, {@code 4 r C D} (the buffers grow to a quarter above the
 * largest sample seen); per shard, the margin engine's scratch for its classes walked in blocks of
 * {@code b}: {@code 8 N D} (the normalised features and the shard's share of {@code dL/dx}),
 * {@code 8 C_s + 72 N} for norms and row states, {@code 8 b D + 4 N b} for a block, and the products of
 * the forward kept for the backward while they take at most 256 MiB ({@code 4 N C_s}; above it they are
 * computed again, {@code 4 N b}). Nothing is {@code N x C}. With {@code C = 10^6}, {@code D = 512},
 * {@code N = 256}: about 6.2 GB without sampling (6.2 with 2 shards), 4.8 GB with {@code r = 0.1}: within an 8 GB heap.
 *
 * <p><b>Bytes each step sends</b> (a binding across processes; see {@link ShardRank}), per shard: the
 * labels ({@code 4 N}) and features ({@code 4 N D}, all-gathered: each rank sends its rows,
 * {@code 4 N D / shards}); the sample ({@code 4 (shards + N)}); the row state ({@code 32 N}); the share
 * of the feature gradient ({@code 4 N D}, reduce-scattered: each rank gets back its rows); for
 * curricularface, the target cosines ({@code 8 N}) and under {@code gradient=full} {@code 8} bytes more.
 * In all, {@code 4 N D (1 + 1 / shards) + 40 N + 4 shards} bytes a shard (plus the codecs' lengths), so
 * {@code shards (4 N D + 40 N) + 4 N D} a step: independent of {@code C}. Never a weight: a class's
 * weights and momentum stay with their shard. A driver that sends each step's features to workers
 * hosted beside their partitions of a data grid sends the same: the features and labels to each, the
 * merged messages back.
 *
 * <p><b>Checkpoints</b> ({@link #save}, {@link #load}) hold every class in class order, so that a head
 * saved with {@code k} shards loads into any number of shards and takes the same next step. A head is
 * not safe for concurrent steps; {@link #close} stops its threads.
 *
 * @throws IllegalArgumentException (from the builder and {@link #step}) naming the bad value: a shard or
 *                                  thread count, block, rate or optimizer parameter out of range, a
 *                                  shape that does not match, a label out of range, a value that is not finite
 */
public final class ShardedHead implements AutoCloseable {

    /** The first bytes of a checkpoint. */
    static final byte[] MAGIC = "SLPFHEAD".getBytes(StandardCharsets.US_ASCII);
    /** The checkpoint format's version. */
    static final int VERSION = 1;

    private final MarginLoss loss;
    private final int classes;
    private final int dim;
    private final int threads;
    private final int block;
    private final MatrixProducts products;
    private final double momentum;
    private final double weightDecay;
    private final double sampleRate;
    private final long samplingSeed;
    private final ShardWorker[] workers;
    private final ExecutorService pool;
    private final Driver driver = new Driver();
    private double learningRate;
    private long steps;
    /** The last {@link #compute}, until its {@link #update}. */
    private HeadStep.Outcome pending;

    private ShardedHead(Builder b) {
        this.loss = b.loss;
        this.classes = b.classes;
        this.dim = b.dim;
        this.threads = b.threads;
        this.block = b.block;
        this.products = b.products;
        this.momentum = b.momentum;
        this.weightDecay = b.weightDecay;
        this.sampleRate = b.sampleRate;
        this.samplingSeed = b.samplingSeed;
        this.learningRate = b.learningRate;
        this.steps = b.step;
        this.workers = new ShardWorker[b.shards];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = b.worker(i);
        }
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "sharded-head");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * A builder of a head for {@code loss} over {@code classes} classes of dimension {@code dim}: one
     * shard on one thread, blocks of {@link StreamingMarginHead#DEFAULT_BLOCK}, {@link MatrixProducts#standard()},
     * SGD with {@code lr = 0.1, momentum = 0.9, weight_decay = 5e-4} (InsightFace's), no sampling,
     * weights {@code N(0, 0.01^2)} from seed 0.
     *
     * @throws IllegalArgumentException for {@code classes} or {@code dim} below 1
     */
    public static Builder builder(MarginLoss loss, int classes, int dim) {
        return new Builder(loss, classes, dim);
    }

    /** How a head is made; every setter checks its value. */
    public static final class Builder {
        private final MarginLoss loss;
        private final int classes;
        private final int dim;
        private int shards = 1;
        private int threads = 1;
        private int block = StreamingMarginHead.DEFAULT_BLOCK;
        private MatrixProducts products = MatrixProducts.standard();
        private double learningRate = 0.1;
        private double momentum = 0.9;
        private double weightDecay = 5e-4;
        private double sampleRate = 1;
        private long samplingSeed;
        private long initSeed;
        private double initStd = 0.01;
        private float[] weights;
        private long step;

        private Builder(MarginLoss loss, int classes, int dim) {
            this.loss = Objects.requireNonNull(loss, "loss");
            if (classes < 1) {
                throw new IllegalArgumentException("classes must be >= 1, got " + classes);
            }
            if (dim < 1) {
                throw new IllegalArgumentException("dim must be >= 1, got " + dim);
            }
            this.classes = classes;
            this.dim = dim;
        }

        /** The number of class shards, at least 1 (more than {@code classes} leaves the extra ones empty). */
        public Builder shards(int shards) {
            if (shards < 1) {
                throw new IllegalArgumentException("shards must be >= 1, got " + shards);
            }
            this.shards = shards;
            return this;
        }

        /** The threads the shards run on, from 1 to the number of shards (checked by {@link #build}). */
        public Builder threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1, got " + threads);
            }
            this.threads = threads;
            return this;
        }

        /** The classes each shard walks at a time (its {@link ClassShard}'s block), at least 1. */
        public Builder block(int block) {
            if (block < 1) {
                throw new IllegalArgumentException("block must be >= 1, got " + block);
            }
            this.block = block;
            return this;
        }

        public Builder products(MatrixProducts products) {
            this.products = Objects.requireNonNull(products, "products");
            return this;
        }

        /**
         * SGD as PyTorch's: learning rate and weight decay finite and {@code >= 0}, momentum in {@code [0, 1]}.
         */
        public Builder sgd(double learningRate, double momentum, double weightDecay) {
            requireNonNegative("learningRate", learningRate);
            requireNonNegative("weightDecay", weightDecay);
            if (!(momentum >= 0 && momentum <= 1)) {
                throw new IllegalArgumentException("momentum must be in [0, 1], got " + momentum);
            }
            this.learningRate = learningRate;
            this.momentum = momentum;
            this.weightDecay = weightDecay;
            return this;
        }

        /**
         * Partial FC's class-centre sampling: the rate {@code r} in (0, 1] (1: every class, no sampling) and
         * the seed of the negatives' hash.
         */
        public Builder sampling(double rate, long seed) {
            if (!(rate > 0 && rate <= 1)) {
                throw new IllegalArgumentException("the sample rate must be in (0, 1], got " + rate);
            }
            this.sampleRate = rate;
            this.samplingSeed = seed;
            return this;
        }

        /** Initial weights {@code N(0, std^2)}, each class's row from a stream of its own seeded by {@code seed} and the class. */
        public Builder initialWeights(long seed, double std) {
            requireNonNegative("std", std);
            this.initSeed = seed;
            this.initStd = std;
            this.weights = null;
            return this;
        }

        /**
         * Initial weights copied from {@code weights} ({@code C k x D} for {@code k} sub-centres, finite).
         *
         * @throws IllegalArgumentException for another shape or a value that is not finite
         */
        public Builder weights(FloatMatrix weights) {
            Objects.requireNonNull(weights, "weights");
            long rows = (long) classes * loss.subCentres();
            if (weights.rows() != rows || weights.cols() != dim) {
                throw new IllegalArgumentException("weights is " + weights.rows() + "x" + weights.cols() + ", expected "
                        + rows + "x" + dim + (loss.subCentres() == 1 ? " (classes x dim)" : " (classes k x dim)"));
            }
            Checks.requireFinite("weights", weights);
            this.weights = weights.data();
            return this;
        }

        /** The step counter to start from (which picks the sample of each step), at least 0. */
        public Builder step(long step) {
            if (step < 0) {
                throw new IllegalArgumentException("step must be >= 0, got " + step);
            }
            this.step = step;
            return this;
        }

        /**
         * The head, its weights made or copied.
         *
         * @throws IllegalArgumentException for more threads than shards, or sampling with an
         *                                  {@code ignore_index} in {@code [0, C)} (a remapped label could meet it)
         */
        public ShardedHead build() {
            if (threads > shards) {
                throw new IllegalArgumentException("threads must be at most shards (" + shards + "), got " + threads);
            }
            checkSampling();
            return new ShardedHead(this);
        }

        /**
         * Shard {@code shard} alone, its weights made or copied, for a binding that runs each shard
         * elsewhere (a rank, a data-grid member).
         */
        public ShardWorker worker(int shard) {
            return worker(shard, shards);
        }

        /**
         * The SPMD rank of {@code collectives}: shard {@code collectives.rank()} of {@code collectives.size()}
         * shards (the builder's shard and thread counts are not used). The builder is not changed: each
         * rank's thread may call this on one builder.
         */
        public ShardRank rank(Collectives collectives) {
            Objects.requireNonNull(collectives, "collectives");
            return new ShardRank(worker(collectives.rank(), collectives.size()), collectives, loss, classes, dim,
                    learningRate, step);
        }

        private ShardWorker worker(int shard, int shardCount) {
            if (shard < 0 || shard >= shardCount) {
                throw new IllegalArgumentException("shard must be in [0, " + shardCount + "), got " + shard);
            }
            checkSampling();
            ShardWorker w = new ShardWorker(loss, shard, shardCount, classes, dim, block, products, momentum, weightDecay,
                    sampleRate, samplingSeed);
            if (weights != null) {
                w.initialise(weights);
            } else if (initStd > 0) {
                w.initialise(initSeed, initStd);
            }
            return w;
        }

        private void checkSampling() {
            int ignore = loss.ignoreIndex();
            if (sampleRate < 1 && ignore >= 0 && ignore < classes) {
                throw new IllegalArgumentException("sampling needs an ignore_index outside [0, " + classes + "), got "
                        + ignore + ": a label remapped into the sampled classes could meet it");
            }
        }

        private static void requireNonNegative(String name, double value) {
            if (!(value >= 0) || Double.isInfinite(value)) {
                throw new IllegalArgumentException(name + " must be finite and >= 0, got " + value);
            }
        }
    }

    /** The loss, with the state the next step starts from (stateful losses advance it every step). */
    public MarginLoss loss() { return workers[0].loss(); }
    public int classes() { return classes; }
    public int dim() { return dim; }
    public int shards() { return workers.length; }
    public int threads() { return threads; }
    public int block() { return block; }
    public double momentum() { return momentum; }
    public double weightDecay() { return weightDecay; }
    public double sampleRate() { return sampleRate; }
    public long samplingSeed() { return samplingSeed; }
    public double learningRate() { return learningRate; }

    /** The number of steps taken (from the builder's or the checkpoint's), which picks the next step's sample. */
    public long steps() { return steps; }

    /** Sets the learning rate of the next steps (a schedule), finite and {@code >= 0}. */
    public void setLearningRate(double learningRate) {
        if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learningRate must be finite and >= 0, got " + learningRate);
        }
        this.learningRate = learningRate;
    }

    /**
     * What a step gave.
     *
     * @param loss                the reduced loss
     * @param gradFeatures        {@code dL/dx} ({@code N x D})
     * @param targetProbabilities the probability the loss gave each row's class among the step's classes
     *                            (with its margin; over the sampled classes under sampling), NaN for an ignored row
     */
    public record Step(double loss, float[] gradFeatures, double[] targetProbabilities) {}

    /** {@link #step(FloatMatrix, int[], float[])} into a new gradient, with each row's target probability. */
    public Step step(FloatMatrix features, int[] labels) {
        Step step = compute(features, labels);
        update();
        return step;
    }

    /**
     * One training step (see the class): the loss, {@code dL/dx} into {@code gradFeatures}
     * ({@code N x D}, overwritten), the sampled classes' weights and momentum updated. Nothing is
     * updated when it throws. The same as {@link #compute} then {@link #update}.
     *
     * @return the reduced loss (per the loss's reduction)
     * @throws IllegalArgumentException for features of another dimension or no rows, labels not one per
     *                                  row or out of {@code [0, C)} (other than the ignore index), a
     *                                  gradient buffer of another length, a value that is not finite
     */
    public double step(FloatMatrix features, int[] labels, float[] gradFeatures) {
        double loss = compute(features, labels, gradFeatures);
        update();
        return loss;
    }

    /** {@link #compute(FloatMatrix, int[], float[])} into a new gradient, with each row's target probability. */
    public Step compute(FloatMatrix features, int[] labels) {
        Objects.requireNonNull(features, "features");
        float[] grad = new float[FloatMatrix.requireLength("the gradient of " + features.rows() + "x" + dim + " features",
                (long) features.rows() * dim, "")];
        HeadStep.Outcome outcome = computeInto(features, labels, grad);
        return new Step(outcome.loss(), grad, outcome.targetProbabilities());
    }

    /**
     * The first half of a step, for a trainer that updates after its backward pass (DJL's): the loss and
     * {@code dL/dx} into {@code gradFeatures}, each shard's weight gradient kept for {@link #update}.
     * No weight, momentum, loss state or step count changes until then: a computation that
     * {@link #update} does not follow (a validation batch's) leaves no trace, and the next
     * {@code compute} replaces it.
     *
     * @return the reduced loss
     * @throws IllegalArgumentException as {@link #step(FloatMatrix, int[], float[])}
     */
    public double compute(FloatMatrix features, int[] labels, float[] gradFeatures) {
        return computeInto(features, labels, gradFeatures).loss();
    }

    /**
     * The second half of a step: each shard updates the rows of the last {@link #compute} with the
     * learning rate, the loss takes the state that computation left, and the step count advances.
     *
     * @throws IllegalStateException when no computation waits (none since the last update or discard)
     */
    public void update() {
        if (pending == null) {
            throw new IllegalStateException("no computed step waits for its update: call compute first");
        }
        HeadStep.update(driver, learningRate, pending);
        pending = null;
        steps++;
    }

    /** Drops the computation waiting for its update, if any (a validation batch's). */
    public void discard() {
        pending = null;
    }

    /** Whether a computation waits for its {@link #update}. */
    public boolean hasPending() {
        return pending != null;
    }

    private HeadStep.Outcome computeInto(FloatMatrix features, int[] labels, float[] gradFeatures) {
        int n = checkBatch(features, labels, classes, dim, loss.ignoreIndex());
        Objects.requireNonNull(gradFeatures, "gradFeatures");
        if (gradFeatures.length != (long) n * dim) {
            throw new IllegalArgumentException("gradFeatures has " + gradFeatures.length + " values, expected " + (long) n * dim
                    + " (" + n + "x" + dim + ")");
        }
        // A computation overwrites the shards' step buffers: one that throws leaves nothing to update.
        pending = null;
        pending = HeadStep.compute(driver, workers.length, features, labels, steps, gradFeatures);
        return pending;
    }

    /** The checks of a step's batch; its row count. */
    static int checkBatch(FloatMatrix features, int[] labels, int classes, int dim, int ignore) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(labels, "labels");
        int n = features.rows();
        if (n < 1) {
            throw new IllegalArgumentException("features has no rows; a step needs at least one");
        }
        if (features.cols() != dim) {
            throw new IllegalArgumentException("features has " + features.cols() + " columns, expected " + dim
                    + " (the head's dimension)");
        }
        Checks.requireLabels(labels, n, classes, ignore, "features");
        return n;
    }

    /** A copy of the weights ({@code C x D}, row-major, class order; {@code C k x D} with {@code k} sub-centres). */
    public float[] weights() {
        return gatherRows(false);
    }

    /** A copy of the optimizer's momentum ({@code C x D}, row-major, class order). */
    public float[] momentumBuffer() {
        return gatherRows(true);
    }

    private float[] gatherRows(boolean ofMomentum) {
        long row = (long) loss.subCentres() * dim;
        float[] out = new float[FloatMatrix.requireLength("a copy of " + classes + "x" + row + " values",
                classes * row, "")];
        for (ShardWorker w : workers) {
            w.copyRows(out, w.lo() * row, ofMomentum);
        }
        return out;
    }

    /** The bytes of the arrays the shards hold: weights, momentum, gradients, gathered rows, their shares of {@code dL/dx}. */
    public long heldBytes() {
        long sum = 0;
        for (ShardWorker w : workers) {
            sum += w.heldBytes();
        }
        return sum;
    }

    /**
     * The bytes a head of {@code classes x dim} with {@code shards} shards, walked in blocks of
     * {@code block}, holds when it trains on batches of {@code batch} at sample rate {@code rate} (see
     * the class): the state, the step's gradients and gathered rows, and each shard's engine scratch;
     * an estimate from above with sampling (a sample of a quarter above {@code r C_s + N} per shard).
     */
    public static long trainingBytes(int classes, int dim, int batch, double rate, int shards, int block) {
        long c = classes;
        long d = dim;
        long n = batch;
        long total = 8 * c * d;
        for (int i = 0; i < shards; i++) {
            long width = ShardedMarginHead.firstClass(i + 1, shards, classes) - ShardedMarginHead.firstClass(i, shards, classes);
            long used = rate >= 1 ? width : Math.min(width, (long) Math.ceil(1.25 * (rate * width + n)));
            // The step's gradient (and, sampled, the gathered weights, the marks and indices).
            total += rate >= 1 ? 4 * width * d : 8 * used * d + 5 * width;
            long b = Math.max(1, Math.min(block, used));
            total += 8 * n * d + 8 * used + 72 * n + 12 * b + 4 * b * d;
            if (used > b) {
                long kept = 4 * n * used <= StreamingMarginHead.DEFAULT_KEPT_PRODUCT_BYTES ? 4 * n * used : 4 * n * b;
                total += 4 * n * b + 4 * b * d + kept;
            }
        }
        return total;
    }

    // ---- checkpoints ----

    /** {@link #save(Path, boolean) save(file, false)}: never replaces a file. */
    public void save(Path file) throws IOException {
        save(file, false);
    }

    /**
     * Writes the head to {@code file}, whole or not at all (a temporary file beside it, forced to disk,
     * then renamed over it). The layout, big-endian: the 8 bytes {@code SLPFHEAD}, the version (int, 1),
     * the loss's spec string ({@link java.io.DataOutput#writeUTF}), {@code C} and {@code D} (ints), the
     * learning rate, momentum and weight decay (doubles), the step counter (long), the sample rate
     * (double) and its seed (long); then the weights of classes {@code 0 .. C - 1} and their momentum,
     * {@code C x D} floats each; last the CRC-32 of everything before it (int). The layout does not
     * depend on the shard count: each shard writes its rows at their place. A computation waiting for
     * its {@link #update} is not saved: the head is saved as it stands.
     *
     * @throws FileAlreadyExistsException when {@code file} exists and {@code overwrite} is false
     */
    public void save(Path file, boolean overwrite) throws IOException {
        Objects.requireNonNull(file, "file");
        Path target = file.toAbsolutePath();
        requireWritable(target, overwrite);
        Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
        boolean done = false;
        try {
            CRC32 crc = new CRC32();
            try (OutputStream raw = Files.newOutputStream(tmp);
                 BufferedOutputStream buffered = new BufferedOutputStream(raw, 1 << 16);
                 CheckedOutputStream checked = new CheckedOutputStream(buffered, crc)) {
                DataOutputStream out = new DataOutputStream(checked);
                out.write(MAGIC);
                out.writeInt(VERSION);
                out.writeUTF(loss().spec().toString());
                out.writeInt(classes);
                out.writeInt(dim);
                out.writeDouble(learningRate);
                out.writeDouble(momentum);
                out.writeDouble(weightDecay);
                out.writeLong(steps);
                out.writeDouble(sampleRate);
                out.writeLong(samplingSeed);
                byte[] chunk = new byte[1 << 16];
                for (ShardWorker w : workers) {
                    w.writeRows(out, false, chunk);
                }
                for (ShardWorker w : workers) {
                    w.writeRows(out, true, chunk);
                }
                out.flush();
                int sum = (int) crc.getValue();
                new DataOutputStream(buffered).writeInt(sum);
                buffered.flush();
            }
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            requireWritable(target, overwrite);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static void requireWritable(Path target, boolean overwrite) throws IOException {
        if (!overwrite && Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(target.toString(), null,
                    "the checkpoint file exists; save(file, true) replaces it");
        }
    }

    /**
     * The loss spec string a checkpoint of {@link #save} was written with, to build its loss
     * ({@code LossRegistry.create(checkpointSpec(file))}) before {@link #load}.
     *
     * @throws IOException for a file that is not such a checkpoint or of another version
     */
    public static String checkpointSpec(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            return readPreamble(in, file);
        }
    }

    /** The magic and version checked; the spec string. */
    private static String readPreamble(DataInputStream in, Path file) throws IOException {
        byte[] magic = new byte[MAGIC.length];
        try {
            in.readFully(magic);
        } catch (java.io.EOFException e) {
            throw new IOException(file + " is not a sharded-head checkpoint (it has fewer than 8 bytes)", e);
        }
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IOException(file + " is not a sharded-head checkpoint (it does not start with SLPFHEAD)");
        }
        int version = in.readInt();
        if (version != VERSION) {
            throw new IOException(file + " is a checkpoint of version " + version + "; this library reads version " + VERSION);
        }
        return in.readUTF();
    }

    /** {@link #load(Path, MarginLoss, int, int, int, MatrixProducts)} with blocks of {@link StreamingMarginHead#DEFAULT_BLOCK} and {@link MatrixProducts#standard()}. */
    public static ShardedHead load(Path file, MarginLoss loss, int shards, int threads) throws IOException {
        return load(file, loss, shards, threads, StreamingMarginHead.DEFAULT_BLOCK, MatrixProducts.standard());
    }

    /**
     * A head read from a checkpoint of {@link #save}, split into {@code shards} shards on {@code threads}
     * threads whatever the shard count it was saved with: its weights, momentum, optimizer parameters,
     * step counter and sampling. {@code loss} must be the checkpoint's: its spec string, with the state
     * the checkpoint saved ({@link MarginLoss#withStateOf}), must equal the saved one ({@link #checkpointSpec}).
     *
     * @throws IOException              for a file that is not such a checkpoint, of another version, of
     *                                  another loss, of another length than its header says (checked
     *                                  before anything is allocated), or whose CRC-32 differs
     * @throws IllegalArgumentException for a bad shard or thread count or block
     */
    public static ShardedHead load(Path file, MarginLoss loss, int shards, int threads, int block, MatrixProducts products)
            throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(loss, "loss");
        long size = Files.size(file);
        CRC32 crc = new CRC32();
        try (InputStream raw = Files.newInputStream(file);
             BufferedInputStream buffered = new BufferedInputStream(raw, 1 << 16);
             CheckedInputStream checked = new CheckedInputStream(buffered, crc)) {
            DataInputStream in = new DataInputStream(checked);
            String spec = readPreamble(in, file);
            int classes = in.readInt();
            int dim = in.readInt();
            double lr = in.readDouble();
            double mu = in.readDouble();
            double wd = in.readDouble();
            long step = in.readLong();
            double rate = in.readDouble();
            long seed = in.readLong();
            long header = MAGIC.length + 4 + 2 + modifiedUtf8Length(spec) + 4 + 4 + 8 * 3 + 8 + 8 + 8;
            long expected = header + 8L * Math.max(0, classes) * loss.subCentres() * Math.max(0, dim) + 4;
            if (classes < 1 || dim < 1 || size != expected) {
                throw new IOException(file + " has " + size + " bytes; its header (C = " + classes + ", D = " + dim
                        + ") needs " + expected + ": it is truncated or damaged");
            }
            MarginLoss resumed;
            try {
                resumed = loss.withStateOf(spec);
            } catch (IllegalArgumentException e) {
                throw new IOException(file + " holds a bad state of its loss: " + e.getMessage(), e);
            }
            String given = resumed.spec().toString();
            if (!given.equals(spec)) {
                throw new IOException(file + " was saved with the loss '" + spec + "', not '" + given + "'");
            }
            Builder b = builder(resumed, classes, dim).shards(shards).threads(threads).block(block).products(products);
            try {
                b.sgd(lr, mu, wd).sampling(rate, seed).step(step);
            } catch (IllegalArgumentException e) {
                throw new IOException(file + " holds a bad parameter: " + e.getMessage(), e);
            }
            ShardedHead head = b.initialWeights(0, 0).build();
            try {
                byte[] chunk = new byte[1 << 16];
                for (ShardWorker w : head.workers) {
                    w.readRows(in, false, chunk);
                }
                for (ShardWorker w : head.workers) {
                    w.readRows(in, true, chunk);
                }
                int computed = (int) crc.getValue();
                int stored = in.readInt();
                if (computed != stored) {
                    throw new IOException(file + " fails its CRC-32 check (stored " + Integer.toHexString(stored)
                            + ", computed " + Integer.toHexString(computed) + "): it is damaged");
                }
                return head;
            } catch (IOException | RuntimeException e) {
                head.close();
                throw e;
            }
        }
    }

    /** The bytes {@link java.io.DataOutput#writeUTF} writes for {@code s}, less its 2-byte length. */
    private static long modifiedUtf8Length(String s) {
        long bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            bytes += ch >= 1 && ch <= 0x7F ? 1 : ch <= 0x7FF ? 2 : 3;
        }
        return bytes;
    }

    /** Stops the threads of the head (the caller's thread runs a head of one thread: nothing to stop). */
    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    // ---- the driver: every shard from here ----

    /** Runs each phase on every shard on the pool, then merges their messages here, in shard order. */
    private final class Driver implements HeadStep.Exchange {

        @Override
        public <T> T allReduce(Function<ShardWorker, T> local, BinaryOperator<T> merge, Collectives.Codec<T> codec) {
            List<T> values = map(local);
            T acc = values.get(0);
            for (int i = 1; i < values.size(); i++) {
                acc = merge.apply(acc, values.get(i));
            }
            return acc;
        }

        @Override
        public <T> T any(Function<ShardWorker, T> local) {
            return local.apply(workers[0]);
        }

        @Override
        public void sumFeatureGradients(Function<ShardWorker, float[]> local, float[] out) {
            List<float[]> shares = map(local);
            System.arraycopy(shares.get(0), 0, out, 0, out.length);
            for (int i = 1; i < shares.size(); i++) {
                float[] s = shares.get(i);
                for (int k = 0; k < out.length; k++) {
                    out[k] += s[k];
                }
            }
        }

        @Override
        public void each(Consumer<ShardWorker> action) {
            map(w -> {
                action.accept(w);
                return null;
            });
        }

        /** {@code f} of every shard, in shard order; the first failure, after every shard has ended. */
        private <T> List<T> map(Function<ShardWorker, T> f) {
            List<T> out = new ArrayList<>(workers.length);
            if (pool == null) {
                for (ShardWorker w : workers) {
                    out.add(f.apply(w));
                }
                return out;
            }
            List<Future<T>> futures = new ArrayList<>(workers.length);
            for (ShardWorker w : workers) {
                futures.add(pool.submit(() -> f.apply(w)));
            }
            Throwable failure = null;
            boolean interrupted = false;
            for (Future<T> future : futures) {
                while (true) {
                    try {
                        out.add(future.get());
                        break;
                    } catch (ExecutionException e) {
                        failure = failure != null ? failure : e.getCause();
                        out.add(null);
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (failure instanceof RuntimeException e) {
                throw e;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            if (failure != null) {
                throw new IllegalStateException("a shard failed: " + failure, failure);
            }
            return out;
        }
    }
}
