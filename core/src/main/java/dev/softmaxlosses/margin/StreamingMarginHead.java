package dev.softmaxlosses.margin;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.kernel.KernelProvider;
import dev.softmaxlosses.kernel.KernelSupport;

import java.util.Arrays;
import java.util.Objects;

/**
 * A margin loss over many classes without the {@code N x C} logits (face recognition trains with
 * 10^5 to 10^7 identities). The classes are walked in blocks twice:
 *
 * <ol>
 *   <li>forward: each block's cosines, by one matrix product with its normalised weights, become
 *       final logits, folded into each row's online softmax state (running maximum and sum, merged
 *       as in Milakov and Gimelshein 2018, "Online normalizer calculation for softmax"), with the
 *       target logit and, for label smoothing, the weighted sum of the logits;</li>
 *   <li>backward: each block's logits are recomputed, turned into {@code dL/df} with the row's
 *       final log-sum-exp, and pushed through the same steps as {@link MarginLoss}: the block's
 *       weight gradient is written at once, the feature gradient accumulates.</li>
 * </ol>
 *
 * Extra memory is {@code N x block} floats (plus {@code N x D} and {@code block x D}), whatever
 * {@code C} is; nothing of size {@code C x D} is copied. Results equal {@link MarginLoss#compute} to
 * float32 rounding; the outputs that would be {@code N x C} (logits, probabilities, their gradient)
 * are not produced ({@link LossResult#forStreaming}). The checks are {@link MarginLoss}'s (the float32
 * range of the logits and gradients, the per-sample overflow rule), and a block whose {@code N x block}
 * values are more than a Java array holds is an error that suggests one that fits.
 */
public final class StreamingMarginHead {

    /** The block size used when none is given: 4096 classes. */
    public static final int DEFAULT_BLOCK = 4096;

    private final MarginLoss loss;
    private final int block;

    /** A streaming head for {@code loss}, walking {@code block} classes at a time. */
    public StreamingMarginHead(MarginLoss loss, int block) {
        Objects.requireNonNull(loss, "loss");
        if (block < 1) {
            throw new IllegalArgumentException("block must be >= 1, got " + block);
        }
        this.loss = loss;
        this.block = block;
    }

    public StreamingMarginHead(MarginLoss loss) {
        this(loss, DEFAULT_BLOCK);
    }

    /** Computes into new buffers. */
    public LossResult compute(LossInput input) {
        Objects.requireNonNull(input, "input");
        FloatMatrix w = Checks.require(loss.name(), "weights", input.weights());
        FloatMatrix x = Checks.require(loss.name(), "features", input.features());
        requireBlockFits(x.rows(), w.rows());
        LossResult out = LossResult.forStreaming(x.rows(), w.rows(), w.cols());
        compute(input, out);
        return out;
    }

    /** Computes into buffers from {@link LossResult#forStreaming} (or any with feature gradients). */
    public void compute(LossInput input, LossResult out) {
        Objects.requireNonNull(input, "input");
        if (input.features() != null && input.weights() != null) {
            requireBlockFits(input.features().rows(), input.weights().rows());
        }
        MarginLoss.Batch batch = loss.validate(input, out);
        int n = batch.n();
        int c = batch.c();
        int d = batch.d();
        float[] x = batch.features();
        float[] w = batch.weights();
        int[] labels = batch.labels();
        float[] classWeights = batch.classWeights();
        int ignore = loss.ignoreIndex();
        double s = loss.scale();
        double eps = loss.labelSmoothing();
        boolean rawFeatures = loss.scalesByFeatureNorm();
        boolean rawWeights = loss.scalesByWeightNorm();
        boolean clamp = !rawFeatures && !rawWeights;

        double[] featureNorms = batch.featureNorms();
        float[] featuresHat = MarginLoss.normalise(x, n, d, featureNorms);
        float[] featureOperand = rawFeatures ? x : featuresHat;
        double[] weightNorms = batch.weightNorms();
        double[] targetCos = new double[n];
        double[] targetLogit = new double[n];
        for (int r = 0; r < n; r++) {
            int y = labels[r];
            if (y != ignore) {
                targetCos[r] = MarginLoss.cosine(x, r, featureNorms[r], w, y, weightNorms[y], d);
                targetLogit[r] = (float) loss.targetLogit(targetCos[r], featureNorms[r], weightNorms[y]);
            }
        }
        int b = Math.min(block, c);
        float[] weightsHat = new float[b * d];
        float[] products = new float[n * b];
        float[] gradProducts = new float[n * b];

        // Forward: the online softmax state of every row, block by block.
        KernelSupport k = KernelProvider.get();
        float[] logits = new float[b];
        double[] max = new double[n];
        double[] sum = new double[n];
        double[] weightedLogitSum = new double[n];
        Arrays.fill(max, Double.NEGATIVE_INFINITY);
        double weightSum = classWeights == null ? c : 0;
        for (int j0 = 0; j0 < c; j0 += b) {
            int width = Math.min(b, c - j0);
            productsOfBlock(featureOperand, w, weightNorms, j0, width, n, d, weightsHat, rawWeights, clamp, products);
            for (int r = 0; r < n; r++) {
                logitsOfRow(k, r, j0, width, labels, ignore, products, s, targetLogit, logits);
                float blockMax = k.max(logits, 0, width);
                double newMax = Math.max(max[r], blockMax);
                double blockSum = k.expSum(logits, 0, width, 1f, (float) newMax, null, 0);
                sum[r] = sum[r] * Math.exp(max[r] - newMax) + blockSum;
                max[r] = newMax;
                if (eps > 0) {
                    weightedLogitSum[r] += classWeights == null ? k.sum(logits, 0, width)
                            : k.dot(classWeights, j0, logits, 0, width);
                }
            }
            for (int j = 0; j < width && classWeights != null; j++) {
                weightSum += classWeights[j0 + j];
            }
        }

        // The per-sample losses, the normaliser and each row's dL/df scale, as the softmax loss has them.
        double normaliser = 0;
        double total = 0;
        double[] lse = new double[n];
        double[] mass = new double[n];
        for (int r = 0; r < n; r++) {
            lse[r] = max[r] + Math.log(sum[r]);
            out.logSumExp()[r] = (float) lse[r];
            int y = labels[r];
            if (y == ignore) {
                out.losses()[r] = 0;
                continue;
            }
            double wy = classWeights == null ? 1 : classWeights[y];
            normaliser += wy;
            mass[r] = (1 - eps) * wy + eps / c * weightSum;
            double l = mass[r] * lse[r] - (1 - eps) * wy * targetLogit[r] - eps / c * weightedLogitSum[r];
            if (!Checks.isFloat32(l)) {
                // The logits are in range (MarginLoss.validate): only class weights above 1 can do this.
                throw Checks.lossOverflow(r, l, "lower class_weights (up to "
                        + Checks.show(Checks.maxWeight(classWeights)) + "), which multiply it");
            }
            out.losses()[r] = (float) l;
            total += l;
        }
        Reduction reduction = loss.reduction();
        double scale = reduction != Reduction.MEAN ? 1 : normaliser > 0 ? 1 / normaliser : 0;
        out.setLoss(reduction, reduction == Reduction.MEAN ? total * scale : total);

        // Backward: recompute each block, write its weight gradient, accumulate the features'.
        float[] gradFeatures = out.gradFeatures();
        Arrays.fill(gradFeatures, 0f);
        double[] gradFeatureNorm = new double[n];
        double[] excess = new double[n];
        double[] target = new double[4];
        double gradScale = 0;
        float[] gradWeightsBlock = new float[b * d];
        double[] gradWeightNorm = new double[b];
        for (int j0 = 0; j0 < c; j0 += b) {
            int width = Math.min(b, c - j0);
            productsOfBlock(featureOperand, w, weightNorms, j0, width, n, d, weightsHat, rawWeights, clamp, products);
            Arrays.fill(gradWeightNorm, 0);
            for (int r = 0; r < n; r++) {
                int y = labels[r];
                int off = r * width;
                if (y == ignore) {
                    Arrays.fill(gradProducts, off, off + width, 0f);
                    continue;
                }
                // dL/df = p mass - w q (times the reduction's scale), with p = exp(f - max) / S; off the
                // target dL/dK = s dL/df, so s is folded in here and taken out for the scale's gradient.
                logitsOfRow(k, r, j0, width, labels, ignore, products, s, targetLogit, logits);
                float shift = (float) max[r];
                double expScale = Math.exp(max[r] - lse[r]);
                k.expSum(logits, 0, width, 1f, shift, gradProducts, off);
                float alpha = (float) (expScale * mass[r] * scale * s);
                float beta = (float) (-eps / c * scale * s);
                if (classWeights == null) {
                    k.scaleAddInPlace(gradProducts, off, width, alpha, beta);
                } else {
                    k.scaleAddScaledInPlace(gradProducts, off, width, alpha, classWeights, j0, beta);
                }
                gradScale += k.dot(gradProducts, off, products, off, width) / s;
                if (y >= j0 && y < j0 + width) {
                    double dLdf = gradProducts[off + y - j0] / s
                            - (1 - eps) * (classWeights == null ? 1 : classWeights[y]) * scale;
                    gradScale -= (gradProducts[off + y - j0] / s) * products[off + y - j0];
                    loss.targetBackward(dLdf, targetCos[r], featureNorms[r], weightNorms[y], target);
                    // As in MarginLoss: with normalised operands only dT/dc = 1 goes through the products.
                    gradProducts[off + y - j0] = (float) (clamp ? dLdf * s : target[0]);
                    excess[r] = clamp ? target[0] - dLdf * s : 0;
                    gradFeatureNorm[r] += target[1];
                    gradWeightNorm[y - j0] += target[2];
                    gradScale += target[3];
                }
            }
            // Raw weights are used in place, the block's rows from j0 on; normalised ones are in weightsHat.
            MatrixProducts.netlib().times(gradProducts, n, width, rawWeights ? w : weightsHat,
                    rawWeights ? j0 * d : 0, d, gradFeatures, true);
            MatrixProducts.netlib().transposedTimes(gradProducts, n, width, featureOperand, d, gradWeightsBlock);
            if (rawWeights) {
                normalisedBlock(w, weightNorms, j0, width, d, weightsHat);
            }
            MarginLoss.finishOperandGradient(gradWeightsBlock, weightsHat, weightNorms, j0, gradWeightNorm, width, d, rawWeights);
            System.arraycopy(gradWeightsBlock, 0, out.gradWeights(), j0 * d, width * d);
        }
        MarginLoss.finishOperandGradient(gradFeatures, featuresHat, featureNorms, 0, gradFeatureNorm, n, d, rawFeatures);
        for (int r = 0; r < n; r++) {
            if (excess[r] != 0) {
                MarginLoss.addExcess(excess[r], x, r, featureNorms[r], w, labels[r], weightNorms[labels[r]], targetCos[r], d,
                        gradFeatures, r * d, out.gradWeights(), labels[r] * d);
            }
        }
        out.setGradScale(loss.hasScale() ? gradScale : 0);
        loss.requireFiniteGradients(out, featureNorms, weightNorms, d);
    }

    /** The products of n features with one block of classes, and their gradient, are N x block values each. */
    private void requireBlockFits(int n, int c) {
        int b = Math.min(block, c);
        Checks.requireArrayLength("a block of " + b + " classes for " + n + " features", (long) n * b,
                ": use a block of at most " + Checks.MAX_ARRAY_LENGTH / Math.max(n, 1) + " classes");
    }

    /**
     * Row {@code r}'s final logits over the block: {@code s K} and, if the target is in the block, its
     * logit (rounded to float as the materialised path stores it, so that both give the same softmax).
     */
    private static void logitsOfRow(KernelSupport k, int r, int j0, int width, int[] labels, int ignore,
                                    float[] products, double s, double[] targetLogit, float[] logits) {
        k.scaleShift(products, r * width, logits, 0, width, (float) s, 0f);
        int y = labels[r];
        if (y != ignore && y >= j0 && y < j0 + width) {
            logits[y - j0] = (float) targetLogit[r];
        }
    }

    /** The products {@code K} of every feature with classes {@code [j0, j0 + width)}. */
    private static void productsOfBlock(float[] featureOperand, float[] w, double[] weightNorms, int j0, int width,
                                        int n, int d, float[] weightsHat, boolean rawWeights, boolean clamp,
                                        float[] products) {
        if (rawWeights) {
            MatrixProducts.netlib().timesTransposed(featureOperand, n, d, w, j0 * d, width, products);
        } else {
            normalisedBlock(w, weightNorms, j0, width, d, weightsHat);
            MatrixProducts.netlib().timesTransposed(featureOperand, n, d, weightsHat, width, products);
        }
        for (int i = 0; clamp && i < n * width; i++) {
            products[i] = Math.max(-1f, Math.min(1f, products[i]));
        }
    }

    /** The normalised weights of classes {@code [j0, j0 + width)} into {@code weightsHat}. */
    private static void normalisedBlock(float[] w, double[] weightNorms, int j0, int width, int d, float[] weightsHat) {
        for (int j = 0; j < width; j++) {
            MarginLoss.normaliseRow(w, (j0 + j) * d, weightsHat, j * d, d, weightNorms[j0 + j]);
        }
    }
}
