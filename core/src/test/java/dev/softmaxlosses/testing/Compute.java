package dev.softmaxlosses.testing;

import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.Loss;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.ShardedMarginHead;
import dev.softmaxlosses.margin.StreamingMarginHead;
import dev.softmaxlosses.Reduction;

/**
 * The one door of the contract tests into the library: every call they make into its API goes
 * through here, so that a change of the API (typed batches, opt-in diagnostics, the spec package)
 * means editing this file alone. A loss is named by its spec string, its inputs are plain arrays
 * (rows of floats, as {@code eval} reads them), and what comes back is a {@link Result} of doubles
 * (each the float the library computed, widened exactly), field by field as {@code eval} writes it.
 *
 * <p>Errors pass through as the library throws them (an {@link IllegalArgumentException} naming the
 * problem).
 */
public final class Compute {

    /**
     * A loss's outputs: the reduced {@code loss} ({@code null} for {@code reduction=none}), the
     * per-sample {@code losses}, the final {@code logits}, their {@code probabilities}, each row's
     * {@code logSumExp}; {@code gradLogits} for a loss on logits, {@code gradFeatures} and
     * {@code gradWeights} for the margin family (the others null).
     */
    public record Result(Double loss, double[] losses, double[][] logits, double[][] probabilities, double[] logSumExp,
                         double[][] gradLogits, double[][] gradFeatures, double[][] gradWeights) {}

    private Compute() {}

    /** A loss on logits with hard {@code labels} and optional {@code classWeights} (null: none). */
    public static Result logits(String spec, float[][] z, int[] labels, float[] classWeights) {
        return onLogits(spec, LossInput.builder().logits(logitMatrix("logits", z, classWeights)).labels(labels)
                .classWeights(classWeights).build());
    }

    /** {@code softmax_cross_entropy} (or any loss that takes them) on soft {@code targets}. */
    public static Result softTargets(String spec, float[][] z, float[][] targets, float[] classWeights) {
        return onLogits(spec, LossInput.builder().logits(logitMatrix("logits", z, classWeights))
                .targets(logitMatrix("targets", targets, classWeights)).classWeights(classWeights).build());
    }

    /** {@code distillation}: the student's logits {@code z}, the teacher's, and {@code labels} (null: none). */
    public static Result distillation(String spec, float[][] z, float[][] teacher, int[] labels) {
        return onLogits(spec, LossInput.builder().logits(logitMatrix("logits", z, null))
                .teacherLogits(logitMatrix("teacher_logits", teacher, null)).labels(labels).build());
    }

    /**
     * A loss of the margin family on {@code N x D} features {@code x} and {@code C x D} class weights
     * {@code w}; an empty batch ({@code x} of no rows) has {@code D} columns.
     */
    public static Result margin(String spec, float[][] x, float[][] w, int[] labels, float[] classWeights) {
        return margin(spec, x, w, labels, classWeights, 0, 0);
    }

    /**
     * {@link #margin(String, float[][], float[][], int[], float[])} on another path of the one engine: the
     * streaming head with blocks of {@code block} classes (when {@code block > 0}; the {@code N x C}
     * outputs are then null), the classes split into {@code shards} shards with merged row states (when
     * {@code shards > 0}), or both.
     */
    public static Result margin(String spec, float[][] x, float[][] w, int[] labels, float[] classWeights, int block,
                                int shards) {
        MarginLoss loss = (MarginLoss) LossRegistry.create(spec);
        int d = w.length == 0 ? 0 : w[0].length;
        FloatMatrix features = x.length == 0 ? new FloatMatrix(new float[0], 0, d) : FloatMatrix.of("features", x);
        FeatureBatch batch = new FeatureBatch(features, FloatMatrix.of("weights", w), labels, classWeights);
        LossResult r = block > 0 ? LossResult.forStreaming(x.length, w.length, d) : LossResult.forFeatures(x.length, w.length, d);
        if (shards > 0) {
            new ShardedMarginHead(loss, shards, block > 0 ? block : Integer.MAX_VALUE, MatrixProducts.standard()).compute(batch, r);
        } else if (block > 0) {
            new StreamingMarginHead(loss, block).compute(batch, r);
        } else {
            loss.compute(batch, r);
        }
        boolean perClass = r.hasPerClassOutputs();
        return new Result(loss(r), toDouble(r.losses()), perClass ? matrix(r.logits(), r.rows(), r.cols()) : null,
                perClass ? matrix(r.probabilities(), r.rows(), r.cols()) : null, toDouble(r.logSumExp()), null,
                matrix(r.gradFeatures(), r.rows(), r.dim()), matrix(r.gradWeights(), r.cols(), r.dim()));
    }

    // ---------------------------------------------------------------- today's API

    private static Result onLogits(String spec, LossInput input) {
        LossResult r = LogitCases.compute((LogitLoss) LossRegistry.create(spec), input);
        return new Result(loss(r), toDouble(r.losses()), matrix(r.logits(), r.rows(), r.cols()),
                matrix(r.probabilities(), r.rows(), r.cols()), toDouble(r.logSumExp()),
                matrix(r.gradLogits(), r.rows(), r.cols()), null, null);
    }

    private static Double loss(LossResult r) {
        return r.reduction() == Reduction.NONE ? null : r.loss();
    }

    /** Rows of floats; no rows: {@code 0 x C} with {@code C} from the class weights where given (as {@code eval} reads it). */
    private static FloatMatrix logitMatrix(String name, float[][] rows, float[] classWeights) {
        if (rows == null) {
            return null;
        }
        if (rows.length == 0) {
            return new FloatMatrix(new float[0], 0, classWeights == null ? 0 : classWeights.length);
        }
        return FloatMatrix.of(name, rows);
    }

    // ---------------------------------------------------------------- conversions

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    private static double[][] matrix(float[] flat, int rows, int cols) {
        double[][] m = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                m[r][c] = flat[r * cols + c];
            }
        }
        return m;
    }
}
