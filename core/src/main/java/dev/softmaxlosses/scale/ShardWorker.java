package dev.softmaxlosses.scale;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossState;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.margin.ClassShard;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.RowState;
import dev.softmaxlosses.margin.ShardedMarginHead;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * One class shard of a {@link ShardedHead}: classes {@code [lo, hi)} of {@code C}, with their weights
 * ({@code (hi - lo) x D}), the momentum of their optimizer, their gradient, and the scratch of its
 * {@link ClassShard}. Every method is a function of what it is given (all the features, all the labels,
 * the messages of the other shards) and of this shard's own state, so that a worker can live on a
 * thread of the driver ({@link ShardedHead}), on a rank of an SPMD group ({@link ShardRank}) or on the
 * member of a data grid that holds its partition. One training step, in this order (the messages
 * between the calls are merged over all shards in shard order, see {@link ShardedHead}):
 *
 * <ol>
 *   <li>{@link #sample}: the classes of this step (all, or Partial FC's sample), as a message of
 *       {@code shards + N} ints;</li>
 *   <li>{@link #forward}: with every shard's samples merged ({@link #mergeSamples}), the shard's
 *       {@link RowState} over its classes of this step;</li>
 *   <li>{@link #loss} and {@link #backward}: with the states merged in shard order, the loss (the same
 *       on every shard) and this shard's share of the feature gradient ({@code N x D});</li>
 *   <li>{@link #update}: SGD with momentum and weight decay on this shard's rows of this step.</li>
 * </ol>
 *
 * A worker serves one step at a time (one thread at a time).
 */
public final class ShardWorker {

    private final int shard;
    private final int shards;
    private final int classes;
    private final int dim;
    /** A class's values: its {@code k} sub-centres of {@code dim} each, contiguous. */
    private final int row;
    private final int lo;
    private final int hi;
    private final int width;
    private final float momentum;
    private final float weightDecay;
    private final double rate;
    private final long seed;
    /** This shard's weights and momentum, rows {@code 0 .. width - 1} for classes {@code lo ..}. */
    private final float[] weights;
    private final float[] velocity;
    /** The whole range's gradient, made on the first step without sampling. */
    private float[] gradient = {};
    private ClassShard whole;

    // Class-centre sampling, reused from step to step.
    private boolean[] positive = {};
    private int[] sampled = {};
    private int count;
    private float[] gathered = {};
    private float[] gatheredGrad = {};
    private int[] prefix = {};
    private int[] remapped = {};

    // The step in flight.
    private ClassShard.Forward forward;
    /** The forward whose backward has run and waits for the batch parameter's exchange. */
    private ClassShard.Forward pending;
    private float[] share = {};

    ShardWorker(MarginLoss loss, int shard, int shards, int classes, int dim, int block, MatrixProducts products,
                double momentum, double weightDecay, double rate, long seed) {
        this.shard = shard;
        this.shards = shards;
        this.classes = classes;
        this.dim = dim;
        this.row = loss.subCentres() * dim;
        this.lo = ShardedMarginHead.firstClass(shard, shards, classes);
        this.hi = ShardedMarginHead.firstClass(shard + 1, shards, classes);
        this.width = hi - lo;
        this.momentum = (float) momentum;
        this.weightDecay = (float) weightDecay;
        this.rate = rate;
        this.seed = seed;
        long values = (long) width * row;
        FloatMatrix.requireLength("the weights of classes " + lo + " to " + (hi - 1) + " (" + width + "x" + row + ")",
                values, ": use more shards");
        this.weights = new float[(int) values];
        this.velocity = new float[(int) values];
        this.whole = new ClassShard(loss, lo, hi, classes, block, products);
    }

    /** The first class of this shard. */
    public int lo() { return lo; }

    /** One past the last class of this shard. */
    public int hi() { return hi; }

    /** This shard's index, in {@code [0, shards)}. */
    public int shard() { return shard; }

    /** The number of shards of the head. */
    public int shards() { return shards; }

    /** The number of classes of this step's sample on this shard (after {@link #sample}). */
    public int sampledClasses() { return count; }

    /** This shard's weight ({@code ofMomentum}: momentum) rows into {@code out} from {@code at}. */
    void copyRows(float[] out, long at, boolean ofMomentum) {
        System.arraycopy(ofMomentum ? velocity : weights, 0, out, (int) at, weights.length);
    }

    /** Rows of the initial weights, each {@code N(0, std^2)} from its own seeded stream: the same for any shard count. */
    void initialise(long initSeed, double std) {
        for (int j = 0; j < width; j++) {
            SplittableRandom random = new SplittableRandom(mix(initSeed ^ mix(lo + j + 0x5DEECE66DL)));
            for (int k = 0; k < row; k++) {
                weights[j * row + k] = (float) (random.nextGaussian() * std);
            }
        }
    }

    /** Copies this shard's rows from all of {@code allWeights} ({@code C x D}). */
    void initialise(float[] allWeights) {
        System.arraycopy(allWeights, (int) ((long) lo * row), weights, 0, weights.length);
    }

    /**
     * Whether class {@code c} is a sampled negative in step {@code step}: a hash of
     * {@code (seed, step, c)} mapped to {@code [0, 1)} is below {@code rate}. It depends on nothing
     * else, so a step's sample is the same for any number of shards.
     */
    static boolean sampledNegative(long seed, long step, int c, double rate) {
        long h = mix(mix(seed + 0x9E3779B97F4A7C15L * (step + 1)) + 0xD1B54A32D192ED03L * (c + 1L));
        return (h >>> 11) * 0x1.0p-53 < rate;
    }

    /** The finaliser of SplitMix64. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Step 1: this shard's classes of step {@code step}. Without sampling ({@code rate = 1}) every class
     * of the shard; else the classes of the batch's labels in the shard (the positives, always) and every
     * class {@link #sampledNegative}. The message ({@code shards + N} ints): at {@code shard} the number
     * of classes, the other counts 0; at {@code shards + r} the index among them of row {@code r}'s label
     * when this shard holds it, else -1.
     */
    public int[] sample(int[] labels, long step) {
        int n = labels.length;
        int ignore = whole.loss().ignoreIndex();
        int[] message = new int[shards + n];
        Arrays.fill(message, shards, shards + n, -1);
        if (rate >= 1) {
            count = width;
            for (int r = 0; r < n; r++) {
                int y = labels[r];
                if (y != ignore && y >= lo && y < hi) {
                    message[shards + r] = y - lo;
                }
            }
        } else {
            if (positive.length < width) {
                positive = new boolean[width];
                sampled = new int[width];
            }
            for (int y : labels) {
                if (y != ignore && y >= lo && y < hi) {
                    positive[y - lo] = true;
                }
            }
            count = 0;
            for (int j = 0; j < width; j++) {
                if (positive[j] || sampledNegative(seed, step, lo + j, rate)) {
                    sampled[count++] = j;
                }
            }
            for (int r = 0; r < n; r++) {
                int y = labels[r];
                if (y != ignore && y >= lo && y < hi) {
                    positive[y - lo] = false;
                    message[shards + r] = Arrays.binarySearch(sampled, 0, count, y - lo);
                }
            }
        }
        message[shard] = count;
        return message;
    }

    /** The merge of two {@link #sample} messages: the counts added, each row's index from the shard that holds it. */
    public static int[] mergeSamples(int[] a, int[] b, int shards) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("cannot merge samples of " + (a.length - shards) + " and " + (b.length - shards) + " rows");
        }
        for (int i = 0; i < a.length; i++) {
            a[i] = i < shards ? a[i] + b[i] : Math.max(a[i], b[i]);
        }
        return a;
    }

    /**
     * Step 2: the forward over this shard's classes of the step, with {@code samples} merged over all
     * shards. With sampling the step's classes are the sampled ones in class order ({@code C'} of them,
     * shard after shard), each label is remapped to its index among them, and this shard's sampled rows
     * are gathered into a buffer kept from step to step; without, the shard's weights are used in place.
     * Then {@link #state}, after {@link #targetCosines} have been exchanged when the loss
     * {@linkplain #needsTargetCosines() needs them}.
     *
     * @throws IllegalArgumentException for a bad input, as {@link ClassShard#forward} says it
     */
    public void begin(FloatMatrix features, int[] labels, int[] samples) {
        Objects.requireNonNull(features, "features");
        int n = features.rows();
        if (samples.length != shards + n || labels.length != n) {
            throw new IllegalArgumentException("the samples message has " + samples.length + " ints and labels "
                    + labels.length + ", expected " + (shards + n) + " and " + n);
        }
        ClassShard range;
        float[] w;
        int[] y;
        if (rate >= 1) {
            range = whole;
            w = weights;
            y = labels;
        } else {
            if (prefix.length != shards + 1) {
                prefix = new int[shards + 1];
            }
            for (int i = 0; i < shards; i++) {
                prefix[i + 1] = prefix[i] + samples[i];
            }
            int total = prefix[shards];
            if (remapped.length != n) {
                remapped = new int[n];
            }
            int ignore = whole.loss().ignoreIndex();
            for (int r = 0; r < n; r++) {
                int label = labels[r];
                remapped[r] = label == ignore ? ignore : prefix[ShardedMarginHead.shardOf(label, shards, classes)] + samples[shards + r];
            }
            long need = (long) count * row;
            if (gathered.length < need) {
                // A quarter more than this step needs, at most the whole range: the sample's size varies.
                long grown = Math.min((long) width * row, need + need / 4);
                gathered = new float[(int) grown];
                gatheredGrad = new float[(int) grown];
            }
            for (int k = 0; k < count; k++) {
                System.arraycopy(weights, sampled[k] * row, gathered, k * row, row);
            }
            range = whole.over(prefix[shard], prefix[shard] + count, Math.max(1, total));
            w = gathered;
            y = remapped;
        }
        forward = range.forward(features, w, dim, y);
    }

    /** Whether the loss needs every row's target cosine before {@link #state} (curricularface). */
    public boolean needsTargetCosines() {
        return whole.needsTargetCosines();
    }

    /** This shard's rows' target cosines, NaN where another shard holds the target ({@code 8 N} bytes to send). */
    public double[] targetCosines() {
        return live().targetCosines();
    }

    /**
     * This shard's row state, with every row's target cosine merged over the shards when the loss needs
     * them (else null).
     *
     * @return a copy of this shard's row state ({@code 32 N} bytes to send)
     */
    public RowState state(double[] cosines) {
        ClassShard.Forward f = live();
        RowState state = cosines == null ? f.state() : f.state(cosines);
        return new RowState(state.rows()).merge(state);
    }

    /** The loss's state after this step (the same on every shard). */
    public LossState lossState() {
        return live().lossState();
    }

    /** Step 3a: the reduced loss from the state merged over all shards (the same on every shard). */
    public double loss(RowState merged) {
        return live().loss(merged, null, null);
    }

    /**
     * Step 3b: the backward with the merged state: this shard's gradient of its step's weights (kept for
     * {@link #update}) and its share of the feature gradient, returned ({@code N x D}, a buffer of this
     * worker's that the next backward overwrites).
     */
    public float[] backward(RowState merged) {
        ClassShard.Forward f = live();
        int n = merged.rows();
        if (share.length != n * dim) {
            share = new float[n * dim];
        }
        if (rate >= 1 && gradient.length != weights.length) {
            gradient = new float[weights.length];
        }
        forward = null;
        f.backward(merged, share, stepGradient(), null);
        pending = whole.differentiatesBatchParameter() ? f : null;
        return share;
    }

    private float[] stepGradient() {
        return rate >= 1 ? gradient : gatheredGrad;
    }

    /** This shard's share of the feature gradient of the step, after {@link #backward} ({@code N x D}). */
    public float[] featureGradient() {
        return share;
    }

    /** Whether the loss sends a gradient through its batch parameter (curricularface, {@code gradient=full}). */
    public boolean differentiatesBatchParameter() {
        return whole.differentiatesBatchParameter();
    }

    /** This shard's share of {@code dL/d(batch parameter)}, after {@link #backward} (8 bytes to send). */
    public double batchGradient() {
        return requirePending().batchGradient();
    }

    /** With {@code total}, the sum over the shards of {@link #batchGradient()}: the gradient through the batch parameter. */
    public void backwardBatchParameter(double total) {
        requirePending().backwardBatchParameter(total, share, stepGradient());
        pending = null;
    }

    private ClassShard.Forward requirePending() {
        if (pending == null) {
            throw new IllegalStateException("shard " + shard + " has no backward waiting for the batch parameter");
        }
        return pending;
    }

    /**
     * Step 4: SGD with momentum and weight decay, as PyTorch's {@code SGD} (no dampening, not Nesterov),
     * in float32, on the rows of this step only: {@code g = grad + wd w; v = mu v + g; w = w - lr v}.
     * Rows outside the step's sample keep their weights and momentum (Partial FC v1). The loss then
     * starts the next step from {@code after}, the state this step left (the same on every shard).
     */
    public void update(double learningRate, LossState after) {
        float lr = (float) learningRate;
        if (rate >= 1) {
            for (int j = 0; j < width; j++) {
                sgdRow(j * row, gradient, j * row, lr);
            }
        } else {
            for (int k = 0; k < count; k++) {
                sgdRow(sampled[k] * row, gatheredGrad, k * row, lr);
            }
        }
        advance(after);
    }

    /** The loss starts the next step from {@code state}. */
    void advance(LossState state) {
        if (!state.isEmpty()) {
            whole = whole.withLoss(whole.loss().withState(state));
        }
    }

    /** The loss, with the state of the step to come. */
    MarginLoss loss() {
        return whole.loss();
    }

    private void sgdRow(int at, float[] grad, int g0, float lr) {
        for (int i = 0; i < row; i++) {
            float g = grad[g0 + i] + weightDecay * weights[at + i];
            float v = momentum * velocity[at + i] + g;
            velocity[at + i] = v;
            weights[at + i] -= lr * v;
        }
    }

    private ClassShard.Forward live() {
        if (forward == null) {
            throw new IllegalStateException("shard " + shard + " has no forward in flight: call forward first");
        }
        return forward;
    }

    /** The bytes of the arrays this worker holds (not its {@link ClassShard}'s scratch). */
    long heldBytes() {
        return 4L * (weights.length + velocity.length + gradient.length + gathered.length + gatheredGrad.length
                + sampled.length + prefix.length + remapped.length + share.length) + positive.length;
    }

    /** Writes this shard's weights ({@code ofMomentum}: momentum) rows as big-endian floats. */
    void writeRows(DataOutput out, boolean ofMomentum, byte[] chunk) throws IOException {
        float[] values = ofMomentum ? velocity : weights;
        ByteBuffer buffer = ByteBuffer.wrap(chunk);
        for (int i = 0; i < values.length; i += chunk.length / 4) {
            int len = Math.min(chunk.length / 4, values.length - i);
            buffer.clear();
            buffer.asFloatBuffer().put(values, i, len);
            out.write(chunk, 0, 4 * len);
        }
    }

    /** Reads this shard's weights ({@code ofMomentum}: momentum) rows written by {@link #writeRows}. */
    void readRows(DataInput in, boolean ofMomentum, byte[] chunk) throws IOException {
        float[] values = ofMomentum ? velocity : weights;
        ByteBuffer buffer = ByteBuffer.wrap(chunk);
        for (int i = 0; i < values.length; i += chunk.length / 4) {
            int len = Math.min(chunk.length / 4, values.length - i);
            in.readFully(chunk, 0, 4 * len);
            buffer.clear();
            buffer.asFloatBuffer().get(values, i, len);
        }
    }
}
