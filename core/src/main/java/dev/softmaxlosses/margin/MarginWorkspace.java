package dev.softmaxlosses.margin;

import dev.softmaxlosses.LossResult;

import java.util.Arrays;

/**
 * The margin engine's scratch, kept from call to call so that a call of the same shapes allocates
 * nothing: each array grows when a larger shape arrives and is never shrunk. A workspace serves one
 * call at a time: a {@link LossResult} carries one (a result is the buffers of one call), a
 * {@link ClassShard} lends one to each forward until its backward has run.
 *
 * <p>For {@code N} features of dimension {@code D} and {@code C} classes walked in blocks of
 * {@code b} it holds, in bytes:
 * <ul>
 *   <li>{@code 4 N D + 8 C + 72 N + 12 b}: the normalised features, the norms, each row's state and
 *       sums, a row of logits;</li>
 *   <li>{@code 4 b D}: a block's normalised weights;</li>
 *   <li>with more than one block, {@code 4 N b + 4 b D} for a block's {@code dL/dK} and weight
 *       gradient, and the products {@code K}: {@code 4 N C} of them when the range keeps them for its
 *       backward, else {@code 4 N b}. One block of all classes ({@link MarginLoss#compute}) needs
 *       neither: its products and {@code dL/dK} are computed in the result's logits and their gradient
 *       (only for a result without them, {@code 8 N C});</li>
 *   <li>for the sharded head, each shard's row state and products, and {@code 4 N D} for a shard's
 *       share of the feature gradient.</li>
 * </ul>
 * A call drops its references to the caller's arrays when it ends.
 */
final class MarginWorkspace {

    /** The batch's features, prepared once per call for every range. */
    final MarginEngine.Features features = new MarginEngine.Features();
    /** Every class of the batch: the weights and their norms. */
    final MarginEngine.Range classes = new MarginEngine.Range();
    /** The state merged over every range (the sharded head's). */
    final RowState merged = new RowState(0);
    final MarginEngine.Totals totals = new MarginEngine.Totals();
    final MarginEngine.Outputs outputs = new MarginEngine.Outputs();
    private MarginEngine.Pass[] passes = {};

    // The ranges run one after another and share the scratch of the block being walked.
    /** The normalised weights of one block ({@code b x D}), of the block {@link #hatBlock} of {@link #hatPass}. */
    float[] weightsHat = {};
    MarginEngine.Pass hatPass;
    int hatBlock = -1;
    /** With sub-centres: the products of one block with every sub-centre ({@code N x b k}), before each class takes its best. */
    float[] subProducts = {};
    /** With sub-centres: {@code dL/dK} of one block spread to the sub-centres ({@code N x b k}). */
    float[] gradSubProducts = {};
    /** {@code dL/dK} of one block ({@code N x b}). */
    float[] gradProducts = {};
    /** One block's weight gradient ({@code b x D}) when it cannot be written in place. */
    float[] gradWeightsBlock = {};
    double[] gradWeightNorm = {};
    double[] gradFeatureNorm = {};
    /** Each row's {@code dL/df_y}. */
    double[] targetGrad = {};
    /** Every row's target cosine, merged over the shards of a sharded head. */
    double[] targetCosines = {};
    /** A shard's share of the feature gradient ({@code N x D}), for the sharded head. */
    float[] share = {};
    final double[] target = new double[5];
    /** Each row's {@code dL/dq_r} ({@link RowTerms}). */
    double[] gradParam = {};

    /** The workspace {@code out} carries, made on its first call. */
    static MarginWorkspace of(LossResult out) {
        return out.scratch(MarginWorkspace.class, MarginWorkspace::new);
    }

    /** The pass of range {@code i} (ranges run in one call are numbered from 0). */
    MarginEngine.Pass pass(int i) {
        if (passes.length <= i) {
            MarginEngine.Pass[] more = Arrays.copyOf(passes, i + 1);
            for (int j = passes.length; j <= i; j++) {
                more[j] = new MarginEngine.Pass();
            }
            passes = more;
        }
        return passes[i];
    }

    /** Drops the references to the caller's arrays, which the workspace must not keep alive. */
    void release() {
        features.release();
        classes.w = null;
        for (MarginEngine.Pass p : passes) {
            p.release();
        }
        outputs.set(null, null, 0);
    }

    /** {@code a} when it holds {@code length} values, else a new array that does. */
    static float[] atLeast(float[] a, int length) {
        return a.length >= length ? a : new float[length];
    }

    static double[] atLeast(double[] a, int length) {
        return a.length >= length ? a : new double[length];
    }

    static int[] atLeast(int[] a, int length) {
        return a.length >= length ? a : new int[length];
    }
}
