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
 * softmax state ({@link RowState}); backward, each block's logits are recomputed and pushed back:
 * the block's weight gradient is written at once, the feature gradient accumulates.
 *
 * <p>Extra memory is {@code N x block} floats (plus {@code N x D} and {@code block x D}), whatever
 * {@code C} is. Results equal {@link MarginLoss#compute} (which is this head with one block of all
 * classes) to float32 rounding. The {@code N x C} outputs (logits, probabilities, their gradient) are
 * written only into buffers that hold them ({@link LossResult#forFeatures}); with
 * {@link LossResult#forStreaming} they are not produced. The checks are {@link MarginLoss}'s; a block
 * whose {@code N x block} values are more than a Java array holds is an error that suggests one that
 * fits. The matrix products are the caller's choice ({@link MatrixProducts}, {@link MatrixProducts#standard()} by default).
 * A head is immutable and safe to share; each call allocates its own scratch.
 */
public final class StreamingMarginHead {

    /** The block size used when none is given: 4096 classes. */
    public static final int DEFAULT_BLOCK = 4096;

    private final MarginLoss loss;
    private final int block;
    private final MatrixProducts products;

    /** A streaming head for {@code loss}, walking {@code block} classes at a time, with {@link MatrixProducts#standard()}. */
    public StreamingMarginHead(MarginLoss loss, int block) {
        this(loss, block, MatrixProducts.standard());
    }

    /** A streaming head for {@code loss}, walking {@code block} classes at a time, with the given products. */
    public StreamingMarginHead(MarginLoss loss, int block, MatrixProducts products) {
        this.loss = Objects.requireNonNull(loss, "loss");
        this.products = Objects.requireNonNull(products, "products");
        if (block < 1) {
            throw new IllegalArgumentException("block must be >= 1, got " + block);
        }
        this.block = block;
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
        run(MarginChecks.validate(loss, batch, out), out);
    }

    /** The engine over all classes of a validated batch. */
    void run(MarginChecks.Batch b, LossResult out) {
        MarginEngine engine = new MarginEngine(loss, products, block);
        MarginEngine.Features f = b.prepare(loss);
        MarginEngine.Pass pass = engine.forward(f, b.range());
        MarginEngine.Totals totals = engine.finish(f, pass.state, out.losses(), out.logSumExp());
        out.setLoss(loss.reduction(), totals.loss());
        MarginEngine.Outputs o = new MarginEngine.Outputs(out.gradFeatures(), out.gradWeights());
        if (out.hasPerClassOutputs()) {
            o.perClass(out.logits(), out.probabilities(), out.gradLogits(), b.c(), 0);
        }
        engine.backward(pass, pass.state, totals, o);
        out.setGradScale(o.gradScale);
        MarginChecks.requireFiniteGradients(loss, out.gradFeatures(), out.gradWeights(), o.gradScale, b.featureNorms(),
                b.weightNorms(), b.d());
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
        return logits(MarginChecks.validate(loss, FeatureBatch.of(features, weights, labels), null));
    }

    private FloatMatrix logits(MarginChecks.Batch b) {
        MarginEngine engine = new MarginEngine(loss, products, block);
        MarginEngine.Pass pass = engine.new Pass(b.prepare(loss), b.range());
        float[] f = new float[b.n() * b.c()];
        for (int j0 = 0; j0 < b.c(); j0 += pass.b) {
            int width = Math.min(pass.b, b.c() - j0);
            pass.productsOfBlock(j0, width);
            for (int r = 0; r < b.n(); r++) {
                KernelProvider.get().scaleShift(pass.products, r * width, f, r * b.c() + j0, width, (float) loss.scale(), 0f);
            }
        }
        return new FloatMatrix(f, b.n(), b.c());
    }

    /** The products of n features with one block of classes, and their gradient, are N x block values each. */
    private void requireBlockFits(int n, int c) {
        int b = Math.min(block, c);
        Checks.requireArrayLength("a block of " + b + " classes for " + n + " features", (long) n * b,
                ": use a block of at most " + Checks.MAX_ARRAY_LENGTH / Math.max(n, 1) + " classes");
    }
}
