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

    /** Computes into new buffers, without the {@code N x C} outputs. */
    public LossResult compute(FeatureBatch batch) {
        Objects.requireNonNull(batch, "batch");
        requireBlockFits(batch.features().rows(), batch.weights().rows());
        LossResult out = LossResult.forStreaming(batch.features().rows(), batch.weights().rows(), batch.weights().cols());
        compute(batch, out);
        return out;
    }

    /** Computes into buffers with feature gradients; the {@code N x C} outputs too when {@code out} holds them. */
    public void compute(FeatureBatch batch, LossResult out) {
        Objects.requireNonNull(batch, "batch");
        Objects.requireNonNull(out, "out");
        requireBlockFits(batch.features().rows(), batch.weights().rows());
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
        MarginChecks.requireLogitsFit(features.rows(), weights.rows(), "; compute the logits of fewer features at a time");
        int[] labels = new int[features.rows()];
        Arrays.fill(labels, loss.ignoreIndex());
        MarginWorkspace ws = new MarginWorkspace();
        MarginChecks.validate(loss, FeatureBatch.of(features, weights, labels), null, ws);
        MarginEngine.Pass pass = ws.pass(0);
        pass.range.part(ws.classes, 0, ws.classes.width);
        engine.begin(ws, pass, ws.features, false, null);
        int n = ws.features.n;
        int c = pass.range.width;
        float[] f = new float[n * c];
        for (int j0 = 0; j0 < c; j0 += pass.b) {
            int width = Math.min(pass.b, c - j0);
            engine.productsOfBlock(ws, pass, j0, width, false);
            for (int r = 0; r < n; r++) {
                KernelProvider.get().scaleShift(pass.products, r * width, f, r * c + j0, width, (float) loss.scale(), 0f);
            }
        }
        return new FloatMatrix(f, n, c);
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
