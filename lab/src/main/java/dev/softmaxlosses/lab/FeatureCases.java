package dev.softmaxlosses.lab;

import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FeatureLoss;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossState;
import dev.softmaxlosses.margin.ElasticFaceLoss;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.ShardedMarginHead;
import dev.softmaxlosses.margin.StreamingMarginHead;
import dev.softmaxlosses.linalg.MatrixProducts;

/**
 * An {@code eval} case of the margin family: its arrays as a {@link FeatureBatch}, run on the path the
 * case asks for. Without {@code "block"} or {@code "shards"}, the materialised head ({@code N x C}
 * outputs included); with {@code "block": b}, the streaming head with blocks of {@code b} classes (the
 * {@code N x C} outputs left out); with {@code "shards": k}, the classes split into {@code k}
 * contiguous shards whose row states are merged (with {@code "block"} too, each shard walked in blocks).
 */
final class FeatureCases {

    private FeatureCases() {}

    static LossResult compute(FeatureLoss given, JsonCases.Case c, EvalInput in) {
        MarginLoss loss = withCaseState((MarginLoss) given, c, in);
        String name = loss.spec().name();
        EvalInput.require(name, "features", in.features());
        EvalInput.require(name, "weights", in.weights());
        int block = c.option("block");
        int shards = c.option("shards");
        int n = in.features().rows();
        int weightRows = in.weights().rows();
        int classes = loss.classesOf(weightRows);
        boolean perClass = block == 0;
        if (perClass) {
            FloatMatrix.requireLength(n + " features and " + classes + " classes make " + n + "x" + classes + " logits: that",
                    (long) n * classes, "; compute the loss with a StreamingMarginHead, which holds N x block values");
        }
        EvalInput.require(name, "labels", in.labels());
        EvalInput.forbid(name, "logits", in.logits());
        EvalInput.forbid(name, "targets", in.targets());
        EvalInput.forbid(name, "teacher_logits", in.teacherLogits());
        FeatureBatch batch = new FeatureBatch(in.features(), in.weights(), in.labels(), in.classWeights());
        if (shards == 0) {
            return perClass ? loss.compute(batch) : new StreamingMarginHead(loss, block).compute(batch);
        }
        int d = in.weights().cols();
        LossResult out = perClass ? LossResult.forFeatures(n, classes, d, weightRows)
                : LossResult.forStreaming(n, classes, d, weightRows);
        new ShardedMarginHead(loss, shards, perClass ? Integer.MAX_VALUE : block, MatrixProducts.standard())
                .compute(batch, out);
        return out;
    }

    /**
     * The loss with the state the case gives ({@code "batch_mean"}, {@code "batch_std"}, {@code "t"},
     * {@code "step"}) in place of its own, and ElasticFace with the case's {@code "margins"}.
     */
    private static MarginLoss withCaseState(MarginLoss loss, JsonCases.Case c, EvalInput in) {
        String name = loss.spec().name();
        LossState state = loss.state();
        for (String field : c.stateFields()) {
            if (!state.has(field)) {
                throw new IllegalArgumentException(name + " does not take " + field
                        + (state.isEmpty() ? ": it keeps no state across steps" : "; it keeps " + String.join(", ", state.names())));
            }
            state = state.with(field, c.stateValue(field));
        }
        MarginLoss stated = c.stateFields().isEmpty() ? loss : loss.withState(state);
        if (in.margins() == null) {
            return stated;
        }
        if (!(stated instanceof ElasticFaceLoss elastic)) {
            throw new IllegalArgumentException(name + " does not take margins");
        }
        return elastic.withMargins(in.margins());
    }

    /** The memory a case's results take, in values: {@code N x C} five times over, or {@code N x block} for a block. */
    static long resultValues(JsonCases.Case c, int rows, int classes) {
        int block = c.option("block");
        return 5L * rows * (block == 0 ? classes : Math.min(block, classes));
    }
}
