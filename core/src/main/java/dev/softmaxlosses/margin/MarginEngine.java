package dev.softmaxlosses.margin;

import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.kernel.CrossEntropyTerms;
import dev.softmaxlosses.kernel.KernelProvider;
import dev.softmaxlosses.kernel.KernelSupport;
import dev.softmaxlosses.linalg.MatrixProducts;

import java.util.Arrays;

/**
 * The one walk of the margin family: over a range of classes, in blocks of at most {@code block}
 * classes, twice.
 *
 * <ol>
 *   <li>{@link #forward}: each block's products {@code K = X' W'^T} become final logits
 *       ({@code s K}, the target's replaced by {@code s A B T(c)}), folded into each row's
 *       {@link RowState};</li>
 *   <li>{@link #backward}, with the state merged over every range: each block's logits are
 *       recomputed (or kept, for a range of one block), turned into {@code dL/df} from the row's
 *       log-sum-exp, and pushed back through the same steps: {@code dL/dK}, two products, the
 *       Jacobians of the normalisations and of the norms.</li>
 * </ol>
 *
 * The materialised head is one range of one block; the streaming head one range of many blocks; a
 * class shard one range among several. Not thread-safe: a {@link Pass} holds its scratch buffers.
 */
final class MarginEngine {

    private final MarginLoss loss;
    private final MatrixProducts matrices;
    private final int block;

    MarginEngine(MarginLoss loss, MatrixProducts products, int block) {
        this.loss = loss;
        this.matrices = products;
        this.block = block;
    }

    /** One batch's features and labels, prepared once for every range. */
    static final class Features {
        final float[] x;
        final int n;
        final int d;
        final double[] norms;
        final float[] hat;
        final float[] operand;
        final int[] labels;
        final float[] classWeights;
        final int classes;
        final double classWeightSum;

        Features(MarginLoss loss, float[] x, int n, int d, double[] norms, int[] labels, float[] classWeights, int classes) {
            this.x = x;
            this.n = n;
            this.d = d;
            this.norms = norms;
            this.hat = Normalisation.normalise(x, n, d, norms);
            this.operand = loss.scalesByFeatureNorm() ? x : hat;
            this.labels = labels;
            this.classWeights = classWeights;
            this.classes = classes;
            double sum = 0;
            for (int j = 0; classWeights != null && j < classes; j++) {
                sum += classWeights[j];
            }
            this.classWeightSum = classWeights == null ? classes : sum;
        }

        double classWeight(int j) {
            return classWeights == null ? 1 : classWeights[j];
        }
    }

    /** Classes {@code [lo, lo + width)}: their weights as rows of {@code w} from its start, and their norms. */
    record Range(float[] w, int lo, int width, double[] norms) {
        boolean holds(int label) {
            return label >= lo && label < lo + width;
        }
    }

    /** Each row's mass {@code sum_c w_c q_c}, the reduction's scale and the reduced loss, after the merge. */
    record Totals(double[] mass, double scale, double loss) {}

    /** The outputs of a range's backward; the {@code N x C} ones ({@code stride} C, from column {@code lo}) may be null. */
    static final class Outputs {
        final float[] gradFeatures;
        final float[] gradWeights;
        double gradScale;
        float[] logits;
        float[] probabilities;
        float[] gradLogits;
        int stride;
        int column;

        Outputs(float[] gradFeatures, float[] gradWeights) {
            this.gradFeatures = gradFeatures;
            this.gradWeights = gradWeights;
        }

        Outputs perClass(float[] logits, float[] probabilities, float[] gradLogits, int stride, int column) {
            this.logits = logits;
            this.probabilities = probabilities;
            this.gradLogits = gradLogits;
            this.stride = stride;
            this.column = column;
            return this;
        }
    }

    /** A range's forward state and scratch, kept for its backward. */
    final class Pass {
        final Features f;
        final Range range;
        final RowState state;
        final int b;
        final float[] products;
        final float[] weightsHat;
        final float[] row;
        final double[] targetCos;
        private int keptBlock = -1;

        Pass(Features f, Range range) {
            this.f = f;
            this.range = range;
            this.state = new RowState(f.n);
            this.b = Math.max(1, Math.min(block, range.width()));
            this.products = new float[f.n * b];
            this.weightsHat = new float[b * f.d];
            this.row = new float[b];
            this.targetCos = new double[f.n];
        }

        /** The products of every feature with classes {@code [lo + j0, lo + j0 + width)} into {@link #products}. */
        void productsOfBlock(int j0, int width) {
            if (keptBlock == j0) {
                return;
            }
            Normalisation.normaliseRows(range.w(), j0, width, f.d, range.norms(), weightsHat);
            float[] operand = loss.scalesByWeightNorm() ? range.w() : weightsHat;
            matrices.timesTransposed(f.operand, f.n, f.d, operand, loss.scalesByWeightNorm() ? j0 * f.d : 0, width,
                    this.products);
            if (!loss.scalesByFeatureNorm() && !loss.scalesByWeightNorm()) {
                for (int i = 0; i < f.n * width; i++) {
                    this.products[i] = Math.max(-1f, Math.min(1f, this.products[i]));
                }
            }
            keptBlock = width == range.width() ? j0 : -1;
        }

        /** Row {@code r}'s final logits over the block into {@link #row}: {@code s K}, and the target's when it is there. */
        void logitsOfRow(KernelSupport k, int r, int j0, int width, RowState merged) {
            k.scaleShift(products, r * width, row, 0, width, (float) loss.scale(), 0f);
            int y = f.labels[r] - range.lo() - j0;
            if (f.labels[r] != loss.ignoreIndex() && y >= 0 && y < width) {
                row[y] = (float) merged.targetLogit(r);
            }
        }
    }

    /** The forward over one range: each row's state over its classes. */
    Pass forward(Features f, Range range) {
        Pass p = new Pass(f, range);
        int ignore = loss.ignoreIndex();
        for (int r = 0; r < f.n; r++) {
            int y = f.labels[r];
            if (y != ignore && range.holds(y)) {
                int local = y - range.lo();
                p.targetCos[r] = Normalisation.cosine(f.x, r, f.norms[r], range.w(), local, range.norms()[local], f.d);
                p.state.setTargetLogit(r, (float) targetLogit(p.targetCos[r], f.norms[r], range.norms()[local]));
            }
        }
        KernelSupport k = KernelProvider.get();
        boolean smoothing = loss.labelSmoothing() > 0;
        for (int j0 = 0; j0 < range.width(); j0 += p.b) {
            int width = Math.min(p.b, range.width() - j0);
            p.productsOfBlock(j0, width);
            for (int r = 0; r < f.n; r++) {
                p.logitsOfRow(k, r, j0, width, p.state);
                double newMax = Math.max(p.state.max(r), k.max(p.row, 0, width));
                double blockSum = k.expSum(p.row, 0, width, 1f, (float) newMax, null, 0);
                double weighted = !smoothing ? 0 : f.classWeights == null ? k.sum(p.row, 0, width)
                        : k.dot(f.classWeights, range.lo() + j0, p.row, 0, width);
                p.state.fold(r, newMax, blockSum, weighted);
            }
        }
        return p;
    }

    /**
     * The per-sample losses (into {@code losses} and {@code lseOut}, when not null) and the reduced
     * loss from the state merged over all classes.
     */
    Totals finish(Features f, RowState merged, float[] losses, float[] lseOut) {
        float eps = (float) loss.labelSmoothing();
        int ignore = loss.ignoreIndex();
        double[] mass = new double[f.n];
        double normaliser = 0;
        double total = 0;
        for (int r = 0; r < f.n; r++) {
            double logSum = Math.log(merged.sumExp(r));
            if (lseOut != null) {
                lseOut[r] = (float) (merged.max(r) + logSum);
            }
            int y = f.labels[r];
            double l = 0;
            if (y != ignore) {
                double wy = f.classWeight(y);
                normaliser += wy;
                mass[r] = CrossEntropyTerms.mass(eps, wy, f.classWeightSum, f.classes);
                l = CrossEntropyTerms.loss(mass[r], merged.max(r), logSum, eps, wy, merged.targetLogit(r),
                        f.classWeightSum, merged.weightedLogitSum(r), f.classes);
                if (!Checks.isFloat32(l)) {
                    // The logits are in range (MarginLoss checks them): only class weights above 1 can do this.
                    throw Checks.lossOverflow(r, l, "lower class_weights (up to "
                            + Checks.show(Checks.maxWeight(f.classWeights)) + "), which multiply it");
                }
            }
            if (losses != null) {
                losses[r] = (float) l;
            }
            total += l;
        }
        Reduction reduction = loss.reduction();
        double scale = reduction != Reduction.MEAN ? 1 : normaliser > 0 ? 1 / normaliser : 0;
        return new Totals(mass, scale, reduction == Reduction.MEAN ? total * scale : total);
    }

    /**
     * The backward over one range, with the state merged over every range: the range's weight
     * gradient, its share of the feature gradient and of the scale's, and the {@code N x C} outputs
     * of its columns when asked for.
     */
    void backward(Pass p, RowState merged, Totals t, Outputs out) {
        Features f = p.f;
        Range range = p.range;
        int n = f.n;
        int d = f.d;
        double s = loss.scale();
        float eps = (float) loss.labelSmoothing();
        double uniform = CrossEntropyTerms.uniform(eps, f.classes);
        boolean normalised = !loss.scalesByFeatureNorm() && !loss.scalesByWeightNorm();
        KernelSupport k = KernelProvider.get();
        float[] gradProducts = new float[n * p.b];
        // One block: its weight gradient is the range's, written in place.
        boolean oneBlock = p.b >= range.width();
        float[] gradWeightsBlock = oneBlock ? out.gradWeights : new float[p.b * d];
        double[] gradFeatureNorm = new double[n];
        double[] gradWeightNorm = new double[p.b];
        double[] targetGrad = new double[n];
        double[] target = new double[4];
        double gradScale = 0;
        Arrays.fill(out.gradFeatures, 0f);
        for (int j0 = 0; j0 < range.width(); j0 += p.b) {
            int width = Math.min(p.b, range.width() - j0);
            p.productsOfBlock(j0, width);
            Arrays.fill(gradWeightNorm, 0);
            for (int r = 0; r < n; r++) {
                int off = r * width;
                int y = f.labels[r];
                boolean ignored = y == loss.ignoreIndex();
                if (ignored && out.logits == null) {
                    Arrays.fill(gradProducts, off, off + width, 0f);
                    continue;
                }
                p.logitsOfRow(k, r, j0, width, merged);
                double sum = merged.sumExp(r);
                k.expSum(p.row, 0, width, 1f, (float) merged.max(r), gradProducts, off);
                int local = ignored ? -1 : y - range.lo() - j0;
                boolean owns = local >= 0 && local < width;
                double expTarget = owns ? gradProducts[off + local] : 0;
                if (out.logits != null) {
                    perClassOutputs(k, p, r, j0, width, gradProducts, off, 1 / sum, out);
                }
                // dL/df = p mass - w q, times the reduction's scale; off the target dL/dK = s dL/df.
                double rowScale = ignored ? 0 : t.scale();
                float alpha = (float) (t.mass()[r] / sum * rowScale * s);
                float beta = (float) (-uniform * rowScale * s);
                if (f.classWeights == null) {
                    k.scaleAddInPlace(gradProducts, off, width, alpha, beta);
                } else {
                    k.scaleAddScaledInPlace(gradProducts, off, width, alpha, f.classWeights, range.lo() + j0, beta);
                }
                if (out.gradLogits != null) {
                    k.scaleShift(gradProducts, off, out.gradLogits, r * out.stride + out.column + j0, width, (float) (1 / s), 0f);
                }
                gradScale += k.dot(gradProducts, off, p.products, off, width) / s;
                if (!owns) {
                    continue;
                }
                double dLdf = CrossEntropyTerms.targetGradient(t.mass()[r], sum - expTarget, 1 / sum, eps,
                        f.classWeight(y), f.classWeightSum, f.classes, rowScale);
                if (out.gradLogits != null) {
                    out.gradLogits[r * out.stride + out.column + j0 + local] = (float) dLdf;
                }
                gradScale -= gradProducts[off + local] / s * p.products[off + local];
                int yr = local + j0;
                targetBackward(dLdf, p.targetCos[r], f.norms[r], range.norms()[yr], target);
                // With both operands normalised, T' can be huge near c = +-1 (1 / sin(theta)): only dT/dc = 1
                // goes through the products, the rest along the cosine's own gradient (addCosineGradient).
                gradProducts[off + local] = (float) (normalised ? dLdf * s : target[0]);
                targetGrad[r] = dLdf;
                gradFeatureNorm[r] += target[1];
                gradWeightNorm[local] += target[2];
                gradScale += target[3];
            }
            boolean rawWeights = loss.scalesByWeightNorm();
            matrices.times(gradProducts, n, width, rawWeights ? range.w() : p.weightsHat, rawWeights ? j0 * d : 0, d,
                    out.gradFeatures, true);
            matrices.transposedTimes(gradProducts, n, width, f.operand, d, gradWeightsBlock);
            Normalisation.finishOperandGradient(gradWeightsBlock, p.weightsHat, range.norms(), j0, gradWeightNorm, width, d,
                    rawWeights);
            if (!oneBlock) {
                System.arraycopy(gradWeightsBlock, 0, out.gradWeights, j0 * d, width * d);
            }
        }
        Normalisation.finishOperandGradient(out.gradFeatures, f.hat, f.norms, 0, gradFeatureNorm, n, d,
                loss.scalesByFeatureNorm());
        for (int r = 0; r < n; r++) {
            if (targetGrad[r] == 0) {
                continue;
            }
            int local = f.labels[r] - range.lo();
            if (normalised) {
                targetBackward(targetGrad[r], p.targetCos[r], f.norms[r], range.norms()[local], target);
                Normalisation.addCosineGradient(target[0] - targetGrad[r] * s, f.x, r, f.norms[r], range.w(), local,
                        range.norms()[local], p.targetCos[r], d, out.gradFeatures, out.gradWeights);
            }
            loss.adjustTargetFeatureGradient(targetGrad[r], p.targetCos[r], f.norms[r], f.hat, r, range.w(), local,
                    range.norms()[local], d, out.gradFeatures);
        }
        out.gradScale = loss.hasScale() ? gradScale : 0;
    }

    /** {@code f_y = s A B T(c)}: the target's final logit. */
    private double targetLogit(double c, double featureNorm, double weightNorm) {
        return loss.scale() * (loss.scalesByFeatureNorm() ? featureNorm : 1)
                * (loss.scalesByWeightNorm() ? weightNorm : 1) * loss.target(c);
    }

    /**
     * The target's share of the backward pass for {@code G = dL/df_y}: into {@code out[0]}
     * {@code dL/dK_ny} (the target's {@code K} is {@code A B c}), into {@code out[1]} and {@code out[2]}
     * the gradients of the norms {@code A} and {@code B} (0 when the logit does not carry them), into
     * {@code out[3]} the gradient of the scale.
     */
    private void targetBackward(double dLdf, double c, double featureNorm, double weightNorm, double[] out) {
        boolean byFeature = loss.scalesByFeatureNorm();
        boolean byWeight = loss.scalesByWeightNorm();
        double a = byFeature ? featureNorm : 1;
        double b = byWeight ? weightNorm : 1;
        double s = loss.scale();
        double t = loss.target(c);
        double slope = loss.gradient() == MarginLoss.Gradient.STRAIGHT_THROUGH ? 1.0 : loss.targetSlope(c);
        // f_y = s A B T(K / (A B)): df_y/dK = s T'(c); below the norm floor c does not depend on the norm.
        out[0] = dLdf * s * slope;
        out[1] = byFeature ? dLdf * s * b * (t - (featureNorm >= MarginLoss.NORM_EPS ? c * slope : 0)) : 0;
        out[2] = byWeight ? dLdf * s * a * (t - (weightNorm >= MarginLoss.NORM_EPS ? c * slope : 0)) : 0;
        out[3] = dLdf * a * b * t;
    }

    /** Row r's final logits and probabilities over the block, from its exponentials {@code e} (times {@code 1 / S}). */
    private static void perClassOutputs(KernelSupport k, Pass p, int r, int j0, int width, float[] e, int off,
                                        double inverseSum, Outputs out) {
        int at = r * out.stride + out.column + j0;
        System.arraycopy(p.row, 0, out.logits, at, width);
        k.scaleShift(e, off, out.probabilities, at, width, (float) inverseSum, 0f);
    }
}
