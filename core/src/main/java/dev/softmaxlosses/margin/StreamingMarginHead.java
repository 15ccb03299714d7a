package dev.softmaxlosses.margin;

import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.kernel.KernelProvider;
import dev.softmaxlosses.linalg.MatrixProducts;

import java.util.Arrays;
import java.util.Objects;

/**
 * A margin loss over many classes without the {@code N x C} logits (face recognition trains with
 * 10^5 to 10^7 identities): the margin family's one engine, walking the classes in blocks of
 * {@code block}. Forward, each block's cosines become final logits folded into each row's online
 * softmax state ({@link RowState}); backward, each block's logits are made again from its products
 * and pushed back: the block's weight gradient is written at once, the feature gradient accumulates.
 *
 * <p><b>Memory and time.</b> The backward needs each block's products {@code K} (its cosines, for the
 * normalised losses) again. The head keeps them from the forward when the {@code N x C} of them take
 * at most {@code keptProductBytes} ({@code 4 N C} bytes; {@link #DEFAULT_KEPT_PRODUCT_BYTES} unless
 * told): then a call does the three matrix products of the materialised path. Past that it computes
 * them again, a fourth product as large as each of the three (a third more arithmetic), and its
 * memory stays flat: {@code 4 N block} bytes for the products, whatever {@code C} is. Either way the
 * head also holds one block's {@code dL/dK} ({@code 4 N block} bytes), its normalised weights and
 * weight gradient ({@code 8 block D}), and {@code 4 N D + 8 C + 72 N} bytes for the features and the
 * rows, but never an {@code N x C} array of logits, probabilities or their gradient.
 *
 * <p><b>Reuse.</b> That scratch is kept by the {@link LossResult} a call writes into: pass the same
 * result again (one per thread) and a call allocates nothing. The head itself is immutable and safe
 * to share between threads.
 *
 * <p>Results equal {@link MarginLoss#compute} (which is this engine with one block of all classes) to
 * float32 rounding. The {@code N x C} outputs (logits, probabilities, their gradient) are written
 * only into buffers that hold them ({@link LossResult#forFeatures}); with
 * {@link LossResult#forStreaming} they are not produced. The checks are {@link MarginLoss}'s; a block
 * whose {@code N x block} values are more than a Java array holds is an error that suggests one that
 * fits. The matrix products are the caller's choice ({@link MatrixProducts}, {@link MatrixProducts#standard()} by default).
 */
public final class StreamingMarginHead {

    /** The block size used when none is given: 4096 classes. */
    public static final int DEFAULT_BLOCK = 4096;

    /**
     * How many bytes of products a head keeps from its forward for its backward when not told: 256 MiB,
     * the {@code N x C} products of 256 features and 262,144 classes.
     */
    public static final long DEFAULT_KEPT_PRODUCT_BYTES = 256L << 20;

    private final MarginLoss loss;
    private final int block;
    private final MarginEngine engine;

    /** A streaming head for {@code loss}, walking {@code block} classes at a time, with {@link MatrixProducts#standard()}. */
    public StreamingMarginHead(MarginLoss loss, int block) {
        this(loss, block, MatrixProducts.standard());
    }

    /** A streaming head for {@code loss}, walking {@code block} classes at a time, with the given products. */
    public StreamingMarginHead(MarginLoss loss, int block, MatrixProducts products) {
        this(loss, block, products, DEFAULT_KEPT_PRODUCT_BYTES);
    }

    /**
     * A streaming head for {@code loss}, walking {@code block} classes at a time, with the given
     * products, keeping them from the forward for the backward when they take at most
     * {@code keptProductBytes} ({@code 0}: never, the least memory).
     *
     * @throws IllegalArgumentException for a block below 1 or a negative number of bytes
     */
    public StreamingMarginHead(MarginLoss loss, int block, MatrixProducts products, long keptProductBytes) {
        this.loss = Objects.requireNonNull(loss, "loss");
        Objects.requireNonNull(products, "products");
        if (block < 1) {
            throw new IllegalArgumentException("block must be >= 1, got " + block);
        }
        if (keptProductBytes < 0) {
            throw new IllegalArgumentException("keptProductBytes must be >= 0, got " + keptProductBytes);
        }
        this.block = block;
        this.engine = new MarginEngine(loss, products, block, keptProductBytes);
    }

    public StreamingMarginHead(MarginLoss loss) {
        this(loss, DEFAULT_BLOCK);
    }

    /** The loss this head computes. */
    public MarginLoss loss() {
        return loss;
    }

    /** Computes into new buffers, without the {@code N x C} outputs. */
    public LossResult compute(FeatureBatch batch) {
        Objects.requireNonNull(batch, "batch");
        int rows = batch.weights().rows();
        int classes = MarginChecks.classes(loss, rows);
        requireBlockFits(batch.features().rows(), classes);
        LossResult out = LossResult.forStreaming(batch.features().rows(), classes, batch.weights().cols(), rows);
        compute(batch, out);
        return out;
    }

    /** Computes into buffers with feature gradients; the {@code N x C} outputs too when {@code out} holds them. */
    public void compute(FeatureBatch batch, LossResult out) {
        Objects.requireNonNull(batch, "batch");
        Objects.requireNonNull(out, "out");
        requireBlockFits(batch.features().rows(), MarginChecks.classes(loss, batch.weights().rows()));
        MarginWorkspace ws = MarginWorkspace.of(out);
        try {
            MarginChecks.validate(loss, batch, out, ws);
            engine.run(ws, out);
        } finally {
            ws.release();
        }
    }

    /**
     * The logits a trained model predicts with: {@code s A_n B_j cos_nj} for every class, no margin,
     * through this head's products.
     *
     * @throws IllegalArgumentException for mismatched columns, a value that is not finite, or
     *                                  {@code N x C} logits that are more than a Java array holds
     */
    public FloatMatrix inferenceLogits(FloatMatrix features, FloatMatrix weights) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(weights, "weights");
        int classes = MarginChecks.classes(loss, weights.rows());
        MarginChecks.requireLogitsFit(features.rows(), classes, "; compute the logits of fewer features at a time");
        float[] f = new float[features.rows() * classes];
        inferenceLogits(features, weights, f, LossResult.forLogits(0, 0));
        return new FloatMatrix(f, features.rows(), classes);
    }

    /**
     * The inference logits into {@code out} ({@code N x C}, row-major), the scratch kept by
     * {@code scratch} ({@link LossResult#scratch}): pass the same one again (one per thread) and a
     * call allocates nothing.
     *
     * @throws IllegalArgumentException as {@link #inferenceLogits(FloatMatrix, FloatMatrix)}, or for an
     *                                  {@code out} of another length
     */
    public void inferenceLogits(FloatMatrix features, FloatMatrix weights, float[] out, LossResult scratch) {
        Objects.requireNonNull(out, "out");
        int c = MarginChecks.classes(loss, weights.rows());
        if (out.length != (long) features.rows() * c) {
            throw new IllegalArgumentException("the logits of " + features.rows() + "x" + c + " need "
                    + (long) features.rows() * c + " values, got " + out.length);
        }
        float scale = (float) loss.scale();
        walkBlocks(features, weights, scratch, (products, n, j0, width) -> {
            for (int r = 0; r < n; r++) {
                KernelProvider.get().scaleShift(products, r * width, out, r * c + j0, width, scale, 0f);
            }
        });
    }

    /**
     * Each sample's predicted class into {@code out} ({@code N}): the first of its largest inference
     * logits, found block by block, so that no {@code N x C} array is held; the scratch as
     * {@link #inferenceLogits(FloatMatrix, FloatMatrix, float[], LossResult)}'s.
     *
     * @throws IllegalArgumentException for mismatched columns or a value that is not finite
     */
    public void predictedClasses(FloatMatrix features, FloatMatrix weights, int[] out, LossResult scratch) {
        Objects.requireNonNull(out, "out");
        if (out.length != features.rows()) {
            throw new IllegalArgumentException("the classes of " + features.rows() + " samples need as many values, got " + out.length);
        }
        float[] best = new float[out.length];
        Arrays.fill(best, Float.NEGATIVE_INFINITY);
        Arrays.fill(out, 0);
        // The scale is positive, so the largest product is the largest logit.
        walkBlocks(features, weights, scratch, (products, n, j0, width) -> {
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < width; j++) {
                    if (products[r * width + j] > best[r]) {
                        best[r] = products[r * width + j];
                        out[r] = j0 + j;
                    }
                }
            }
        });
    }

    /** What is done with each block's products ({@code n x width}, row-major), for classes {@code j0 ..}. */
    private interface BlockVisitor {
        void visit(float[] products, int n, int j0, int width);
    }

    /** Validates, then hands each block's products without a margin ({@code A_n B_j cos_nj}) to {@code visitor}. */
    private void walkBlocks(FloatMatrix features, FloatMatrix weights, LossResult scratch, BlockVisitor visitor) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(scratch, "scratch");
        int[] labels = new int[features.rows()];
        Arrays.fill(labels, loss.ignoreIndex());
        MarginWorkspace ws = MarginWorkspace.of(scratch);
        try {
            MarginChecks.validate(loss, FeatureBatch.of(features, weights, labels), null, ws);
            MarginEngine.Pass pass = ws.pass(0);
            pass.range.part(ws.classes, 0, ws.classes.width);
            engine.begin(ws, pass, ws.features, false, null);
            for (int j0 = 0; j0 < pass.range.width; j0 += pass.b) {
                int width = Math.min(pass.b, pass.range.width - j0);
                engine.productsOfBlock(ws, pass, j0, width, false);
                visitor.visit(pass.products, ws.features.n, j0, width);
            }
        } finally {
            ws.release();
        }
    }

    /** The products of n features with one block of classes, and their gradient, are N x block values each. */
    private void requireBlockFits(int n, int c) {
        int b = Math.min(block, c);
        // The message is built only for a block that does not fit: a call allocates nothing.
        if ((long) n * b > Checks.MAX_ARRAY_LENGTH) {
            Checks.requireArrayLength("a block of " + b + " classes for " + n + " features", (long) n * b,
                    ": use a block of at most " + Checks.MAX_ARRAY_LENGTH / Math.max(n, 1) + " classes");
        }
    }
}
