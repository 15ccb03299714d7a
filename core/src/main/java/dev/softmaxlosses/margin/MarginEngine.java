package dev.softmaxlosses.margin;

import dev.softmaxlosses.LossResult;
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
 *   <li>{@link #backward}, with the state merged over every range: each block's logits are made
 *       again from its products (kept from the forward when they fit the engine's budget, as they
 *       always do for a range of one block; else computed again), turned into {@code dL/df} from the
 *       row's log-sum-exp, and pushed back through the same steps: {@code dL/dK}, two products, the
 *       Jacobians of the normalisations and of the norms.</li>
 * </ol>
 *
 * The materialised head is one range of one block; the streaming head one range of many blocks; a
 * class shard one range among several. An engine is immutable and holds no scratch: every call
 * works in a {@link MarginWorkspace}, whose {@link Pass}es (one per range) keep a range's forward
 * for its backward.
 */
final class MarginEngine {

    private static final float[] NO_VALUES = {};
    private static final int[] NO_CHOICES = {};

    private final MarginLoss loss;
    private final MatrixProducts matrices;
    private final int block;
    private final long keptProductBytes;

    /**
     * The walk of {@code loss} in blocks of {@code block} classes; a range of more than one block keeps
     * its products from the forward for the backward when they take at most {@code keptProductBytes}
     * ({@code 4 N} times its width), else computes them again.
     */
    MarginEngine(MarginLoss loss, MatrixProducts products, int block, long keptProductBytes) {
        this.loss = loss;
        this.matrices = products;
        this.block = block;
        this.keptProductBytes = keptProductBytes;
    }

    /** This walk (products, block, budget) of {@code next}: the same loss with another state. */
    MarginEngine withLoss(MarginLoss next) {
        return new MarginEngine(next, matrices, block, keptProductBytes);
    }

    /** One batch's features and labels, prepared once for every range. */
    static final class Features {
        float[] x;
        int n;
        int d;
        double[] norms = {};
        float[] hat = NO_VALUES;
        float[] operand;
        int[] labels;
        float[] classWeights;
        int classes;
        double classWeightSum;
        /** The batch's row terms: fixed in {@link #prepare}, or once every row's target cosine is known. */
        final RowTerms terms = new RowTerms();

        /** Points at {@code n} features of dimension {@code d} and computes their norms, which the checks need. */
        void measure(float[] x, int n, int d) {
            this.x = x;
            this.n = n;
            this.d = d;
            norms = MarginWorkspace.atLeast(norms, n);
            Normalisation.norms(x, n, d, norms);
        }

        /** After the checks: the normalised features, the operand of the products, the labels and class weights. */
        void prepare(MarginLoss loss, int[] labels, float[] classWeights, int classes) {
            hat = MarginWorkspace.atLeast(hat, n * d);
            Normalisation.normaliseRows(x, 0, n, d, norms, hat);
            this.operand = loss.scalesByFeatureNorm() ? x : hat;
            this.labels = labels;
            this.classWeights = classWeights;
            this.classes = classes;
            double sum = 0;
            for (int j = 0; classWeights != null && j < classes; j++) {
                sum += classWeights[j];
            }
            this.classWeightSum = classWeights == null ? classes : sum;
            terms.reset(n, norms, labels, loss.ignoreIndex());
            if (!loss.needsTargetCosines()) {
                fixTerms(loss, null);
            }
        }

        /** Fixes the row terms, with every row's target cosine ({@code n} values) when the loss needs them. */
        void fixTerms(MarginLoss loss, double[] targetCos) {
            terms.targetCos = targetCos;
            loss.fixRowTerms(terms);
            terms.fixed = true;
        }

        double classWeight(int j) {
            return classWeights == null ? 1 : classWeights[j];
        }

        void release() {
            x = operand = classWeights = null;
            labels = null;
            terms.release();
        }
    }

    /**
     * Classes {@code [lo, lo + width)} of {@code k} sub-centres each: class {@code lo + j}'s weights are
     * rows {@code (first + j) k .. (first + j) k + k - 1} of {@code w}, with their norms at the same
     * indices of {@code norms} (a shard's own weights start at row 0, the sharded head's shards share
     * the batch's).
     */
    static final class Range {
        float[] w;
        double[] norms = {};
        int first;
        int lo;
        int width;
        int k = 1;

        Range set(float[] w, double[] norms, int first, int lo, int width, int k) {
            this.w = w;
            this.norms = norms;
            this.first = first;
            this.lo = lo;
            this.width = width;
            this.k = k;
            return this;
        }

        /** The classes {@code from .. to - 1} of {@code whole}, counted from its first. */
        Range part(Range whole, int from, int to) {
            return set(whole.w, whole.norms, whole.first + from, whole.lo + from, to - from, whole.k);
        }

        boolean holds(int label) {
            return label >= lo && label < lo + width;
        }

        /** The row of {@code w} and {@code norms} of sub-centre {@code sub} of the range's class {@code j}. */
        int row(int j, int sub) {
            return (first + j) * k + sub;
        }

        double norm(int j, int sub) {
            return norms[row(j, sub)];
        }
    }

    /** Each row's mass {@code sum_c w_c q_c}, the reduction's scale and the reduced loss, after the merge. */
    static final class Totals {
        double[] mass = {};
        double scale;
        double loss;
    }

    /**
     * Where a range's backward writes: the feature gradient (overwritten), the gradient of its class
     * {@code j} at row {@code gradWeightsRow + j} of {@code gradWeights}, and the {@code N x C} outputs
     * ({@code stride} C, from column {@code column}) when they are not null.
     */
    static final class Outputs {
        float[] gradFeatures;
        float[] gradWeights;
        int gradWeightsRow;
        double gradScale;
        float[] logits;
        float[] probabilities;
        float[] gradLogits;
        int stride;
        int column;

        Outputs set(float[] gradFeatures, float[] gradWeights, int gradWeightsRow) {
            this.gradFeatures = gradFeatures;
            this.gradWeights = gradWeights;
            this.gradWeightsRow = gradWeightsRow;
            return perClass(null, null, null, 0, 0);
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
    static final class Pass {
        final Range range = new Range();
        final RowState state = new RowState(0);
        Features f;
        /** The block size, at most the range's width. */
        int b;
        /** {@code dL/d(batch parameter)} over this range's logits, from its backward. */
        double batchGradient;
        /** Whether each block keeps its products from the forward for the backward. */
        boolean keeps;
        double[] targetCos = {};
        /** The sub-centre of each row's target whose cosine is {@link #targetCos}. */
        int[] targetSub = {};
        /** Block {@code i}'s chosen sub-centres ({@code N x width}) when the range keeps them, else one array. */
        private int[][] blockChoices = {};
        /** The chosen sub-centre of each (row, class) of the block being walked, with sub-centres. */
        int[] choices = NO_CHOICES;
        float[] row = NO_VALUES;
        /** Block {@code i}'s products when the range keeps them, else one array that every block reuses. */
        private float[][] blockProducts = {};
        /** The products of the block being walked ({@code N x width}). */
        float[] products = NO_VALUES;
        /**
         * The result's final logits when the one block's products are computed there (and its
         * {@code dL/dK} in the logits' gradient): the backward overwrites each row after its last use.
         */
        float[] inOutputs;

        void release() {
            f = null;
            range.w = null;
            inOutputs = null;
        }
    }

    /**
     * Readies {@code p}, whose range is set, for a forward over the features {@code f}: the block size,
     * whether it keeps its products (only when {@code keep} allows), and its scratch; a range of one
     * block computes its products into {@code logits} when that is not null ({@code N x width}, the
     * result's final logits, whose gradient then holds its {@code dL/dK}).
     */
    void begin(MarginWorkspace ws, Pass p, Features f, boolean keep, float[] logits) {
        int width = p.range.width;
        p.f = f;
        p.b = Math.max(1, Math.min(block, width));
        p.keeps = width <= p.b || keep && 4L * f.n * width <= keptProductBytes;
        // dL/df off the target is dL/dK / s only when the logits there are s K.
        int k = p.range.k;
        p.inOutputs = width <= p.b && !loss.transformsOthers() && k == 1 ? logits : null;
        p.state.reset(f.n);
        p.targetCos = MarginWorkspace.atLeast(p.targetCos, f.n);
        p.targetSub = MarginWorkspace.atLeast(p.targetSub, f.n);
        p.row = MarginWorkspace.atLeast(p.row, p.b);
        int arrays = p.inOutputs != null ? 0 : p.keeps ? (width + p.b - 1) / p.b : 1;
        if (p.blockProducts.length < arrays) {
            p.blockProducts = Arrays.copyOf(p.blockProducts, arrays);
        }
        for (int i = 0; i < arrays; i++) {
            float[] kept = p.blockProducts[i];
            p.blockProducts[i] = MarginWorkspace.atLeast(kept == null ? NO_VALUES : kept,
                    f.n * Math.min(p.b, width - i * p.b));
        }
        if (k > 1) {
            if (p.blockChoices.length < arrays) {
                p.blockChoices = Arrays.copyOf(p.blockChoices, arrays);
            }
            for (int i = 0; i < arrays; i++) {
                int[] kept = p.blockChoices[i];
                p.blockChoices[i] = MarginWorkspace.atLeast(kept == null ? NO_CHOICES : kept, f.n * Math.min(p.b, width - i * p.b));
            }
            ws.subProducts = MarginWorkspace.atLeast(ws.subProducts, f.n * p.b * k);
        }
        ws.weightsHat = MarginWorkspace.atLeast(ws.weightsHat, p.b * k * f.d);
        // The weights may have changed since the last call (a training step): none are normalised yet.
        ws.hatPass = null;
    }

    /**
     * The products of every feature with classes {@code [lo + j0, lo + j0 + width)} into
     * {@code p.products}, and their normalised weights into {@code ws.weightsHat}; in the backward
     * ({@code again}) what the forward kept is used as it is.
     */
    void productsOfBlock(MarginWorkspace ws, Pass p, int j0, int width, boolean again) {
        Features f = p.f;
        Range range = p.range;
        int k = range.k;
        int rows = width * k;
        p.products = p.inOutputs != null ? p.inOutputs : p.blockProducts[p.keeps ? j0 / p.b : 0];
        if (k > 1) {
            p.choices = p.blockChoices[p.keeps ? j0 / p.b : 0];
        }
        if (ws.hatPass != p || ws.hatBlock != j0) {
            Normalisation.normaliseRows(range.w, range.row(j0, 0), rows, f.d, range.norms, ws.weightsHat);
            ws.hatPass = p;
            ws.hatBlock = j0;
        }
        if (again && p.keeps) {
            return;
        }
        float[] operand = loss.scalesByWeightNorm() ? range.w : ws.weightsHat;
        float[] products = k == 1 ? p.products : ws.subProducts;
        matrices.timesTransposed(f.operand, f.n, f.d, operand, loss.scalesByWeightNorm() ? range.row(j0, 0) * f.d : 0, rows,
                products);
        if (!loss.scalesByFeatureNorm() && !loss.scalesByWeightNorm()) {
            for (int i = 0; i < f.n * rows; i++) {
                products[i] = Math.max(-1f, Math.min(1f, products[i]));
            }
        }
        if (k > 1) {
            // A class's product is its closest sub-centre's (the first of equals).
            for (int r = 0; r < f.n; r++) {
                for (int j = 0; j < width; j++) {
                    int at = r * rows + j * k;
                    int best = 0;
                    for (int sub = 1; sub < k; sub++) {
                        if (products[at + sub] > products[at + best]) {
                            best = sub;
                        }
                    }
                    p.products[r * width + j] = products[at + best];
                    p.choices[r * width + j] = best;
                }
            }
        }
    }

    /** Row {@code r}'s final logits over the block into {@code p.row}: {@code s K} (or {@code s N(K)}), and the target's when it is there. */
    void logitsOfRow(KernelSupport k, Pass p, int r, int j0, int width, RowState merged) {
        if (loss.transformsOthers()) {
            RowTerms terms = p.f.terms;
            double q = terms.param[r];
            int off = r * width;
            for (int j = 0; j < width; j++) {
                p.row[j] = (float) (loss.scale() * loss.other(p.products[off + j], q, terms.batchParam));
            }
        } else {
            k.scaleShift(p.products, r * width, p.row, 0, width, (float) loss.scale(), 0f);
        }
        int y = p.f.labels[r] - p.range.lo - j0;
        if (p.f.labels[r] != loss.ignoreIndex() && y >= 0 && y < width) {
            p.row[y] = (float) merged.targetLogit(r);
        }
    }

    /**
     * The target cosine of each row whose target the range holds into {@code p.targetCos}, NaN for the
     * other rows (and ignored ones): what a sharded head exchanges for a loss that needs them all.
     */
    double[] targetCosines(Pass p) {
        Features f = p.f;
        Range range = p.range;
        int ignore = loss.ignoreIndex();
        for (int r = 0; r < f.n; r++) {
            int y = f.labels[r];
            if (y != ignore && range.holds(y)) {
                int local = y - range.lo;
                double best = Double.NEGATIVE_INFINITY;
                for (int sub = 0; sub < range.k; sub++) {
                    double c = Normalisation.cosine(f.x, r, f.norms[r], range.w, range.row(local, sub), range.norm(local, sub), f.d);
                    if (c > best) {
                        best = c;
                        p.targetSub[r] = sub;
                    }
                }
                p.targetCos[r] = best;
            } else {
                p.targetCos[r] = Double.NaN;
            }
        }
        return p.targetCos;
    }

    /** The forward over {@code p}'s range, readied by {@link #begin}: each row's state over its classes. */
    void forward(MarginWorkspace ws, Pass p) {
        Features f = p.f;
        Range range = p.range;
        targetCosines(p);
        if (!f.terms.fixed) {
            if (range.width != f.classes) {
                throw new IllegalStateException(loss.name() + " needs every row's target cosine before a range's forward:"
                        + " exchange them first");
            }
            f.fixTerms(loss, p.targetCos);
        }
        for (int r = 0; r < f.n; r++) {
            if (!Double.isNaN(p.targetCos[r])) {
                int local = f.labels[r] - range.lo;
                p.state.setTargetLogit(r, (float) targetLogit(p.targetCos[r], f.norms[r], range.norm(local, p.targetSub[r]),
                        f.terms.param[r]));
            }
        }
        KernelSupport k = KernelProvider.get();
        boolean smoothing = loss.labelSmoothing() > 0;
        for (int j0 = 0; j0 < range.width; j0 += p.b) {
            int width = Math.min(p.b, range.width - j0);
            productsOfBlock(ws, p, j0, width, false);
            for (int r = 0; r < f.n; r++) {
                logitsOfRow(k, p, r, j0, width, p.state);
                double newMax = Math.max(p.state.max(r), k.max(p.row, 0, width));
                double blockSum = k.expSum(p.row, 0, width, 1f, (float) newMax, null, 0);
                double weighted = !smoothing ? 0 : f.classWeights == null ? k.sum(p.row, 0, width)
                        : k.dot(f.classWeights, range.lo + j0, p.row, 0, width);
                p.state.fold(r, newMax, blockSum, weighted);
            }
        }
    }

    /**
     * One range over every class of the batch checked into {@code ws}: the forward, the losses and
     * the gradients into {@code out} (the {@code N x C} outputs when it holds them), which are then
     * checked for overflow.
     */
    void run(MarginWorkspace ws, LossResult out) {
        Features f = ws.features;
        Pass p = ws.pass(0);
        p.range.part(ws.classes, 0, ws.classes.width);
        begin(ws, p, f, true, out.hasPerClassOutputs() ? out.logits() : null);
        forward(ws, p);
        out.setLoss(loss.reduction(), finish(f, p.state, out.losses(), out.logSumExp(), ws.totals));
        Outputs o = ws.outputs.set(out.gradFeatures(), out.gradWeights(), 0);
        if (out.hasPerClassOutputs()) {
            o.perClass(out.logits(), out.probabilities(), out.gradLogits(), p.range.width, 0);
        }
        backward(ws, p, p.state, ws.totals, o);
        if (loss.differentiatesBatchParam()) {
            backwardBatchParam(p, p.batchGradient, o);
        }
        out.setGradScale(o.gradScale);
        out.setLossState(f.terms.after);
        MarginChecks.requireFiniteGradients(loss, out.gradFeatures(), out.gradWeights(), o.gradScale, f.norms,
                ws.classes.norms, f.d);
    }

    /**
     * The per-sample losses (into {@code losses} and {@code lseOut}, when not null) and the reduced
     * loss from the state merged over all classes, into {@code t}.
     *
     * @return the reduced loss
     */
    double finish(Features f, RowState merged, float[] losses, float[] lseOut, Totals t) {
        float eps = (float) loss.labelSmoothing();
        int ignore = loss.ignoreIndex();
        double[] mass = t.mass = MarginWorkspace.atLeast(t.mass, f.n);
        double normaliser = 0;
        double total = 0;
        for (int r = 0; r < f.n; r++) {
            double logSum = Math.log(merged.sumExp(r));
            if (lseOut != null) {
                lseOut[r] = (float) (merged.max(r) + logSum);
            }
            int y = f.labels[r];
            double l = 0;
            mass[r] = 0;
            if (y != ignore) {
                double wy = f.classWeight(y);
                normaliser += wy;
                mass[r] = CrossEntropyTerms.mass(eps, wy, f.classWeightSum, f.classes);
                l = CrossEntropyTerms.loss(mass[r], merged.max(r), logSum, eps, wy, merged.targetLogit(r),
                        f.classWeightSum, merged.weightedLogitSum(r), f.classes) + wy * loss.penalty(f.norms[r]);
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
        t.scale = reduction != Reduction.MEAN ? 1 : normaliser > 0 ? 1 / normaliser : 0;
        t.loss = reduction == Reduction.MEAN ? total * t.scale : total;
        return t.loss;
    }

    /**
     * The backward over one range, with the state merged over every range: the range's weight
     * gradient, its share of the feature gradient and of the scale's, and the {@code N x C} outputs
     * of its columns when asked for.
     */
    void backward(MarginWorkspace ws, Pass p, RowState merged, Totals t, Outputs out) {
        Features f = p.f;
        Range range = p.range;
        int n = f.n;
        int d = f.d;
        double s = loss.scale();
        float eps = (float) loss.labelSmoothing();
        double uniform = CrossEntropyTerms.uniform(eps, f.classes);
        boolean normalised = !loss.scalesByFeatureNorm() && !loss.scalesByWeightNorm();
        KernelSupport k = KernelProvider.get();
        boolean inOutputs = p.inOutputs != null;
        int subs = range.k;
        float[] gradProducts = inOutputs ? out.gradLogits
                : (ws.gradProducts = MarginWorkspace.atLeast(ws.gradProducts, n * p.b));
        // dL/dK of each (row, class) goes to its chosen sub-centre, the others' are 0.
        float[] gradSubProducts = subs == 1 ? gradProducts
                : (ws.gradSubProducts = MarginWorkspace.atLeast(ws.gradSubProducts, n * p.b * subs));
        // One block whose gradient starts the output's: written in place.
        boolean inPlace = p.b >= range.width && out.gradWeightsRow == 0;
        float[] gradWeightsBlock = inPlace ? out.gradWeights
                : (ws.gradWeightsBlock = MarginWorkspace.atLeast(ws.gradWeightsBlock, p.b * subs * d));
        double[] gradFeatureNorm = ws.gradFeatureNorm = MarginWorkspace.atLeast(ws.gradFeatureNorm, n);
        double[] gradWeightNorm = ws.gradWeightNorm = MarginWorkspace.atLeast(ws.gradWeightNorm, p.b * subs);
        double[] targetGrad = ws.targetGrad = MarginWorkspace.atLeast(ws.targetGrad, n);
        double[] gradParam = ws.gradParam = MarginWorkspace.atLeast(ws.gradParam, n);
        double[] target = ws.target;
        RowTerms terms = f.terms;
        boolean transformed = loss.transformsOthers();
        boolean batchGrad = transformed && loss.differentiatesBatchParam();
        p.batchGradient = 0;
        Arrays.fill(gradFeatureNorm, 0, n, 0);
        Arrays.fill(targetGrad, 0, n, 0);
        Arrays.fill(gradParam, 0, n, 0);
        double gradScale = 0;
        Arrays.fill(out.gradFeatures, 0, n * d, 0f);
        for (int j0 = 0; j0 < range.width; j0 += p.b) {
            int width = Math.min(p.b, range.width - j0);
            productsOfBlock(ws, p, j0, width, true);
            Arrays.fill(gradWeightNorm, 0, width * subs, 0);
            for (int r = 0; r < n; r++) {
                int off = r * width;
                int y = f.labels[r];
                boolean ignored = y == loss.ignoreIndex();
                if (ignored && out.logits == null) {
                    Arrays.fill(gradProducts, off, off + width, 0f);
                    continue;
                }
                logitsOfRow(k, p, r, j0, width, merged);
                double sum = merged.sumExp(r);
                k.expSum(p.row, 0, width, 1f, (float) merged.max(r), gradProducts, off);
                int local = ignored ? -1 : y - range.lo - j0;
                boolean owns = local >= 0 && local < width;
                double expTarget = owns ? gradProducts[off + local] : 0;
                int at = r * out.stride + out.column + j0;
                if (out.probabilities != null) {
                    k.scaleShift(gradProducts, off, out.probabilities, at, width, (float) (1 / sum), 0f);
                }
                // dL/df = p mass - w q, times the reduction's scale; off the target dL/dK = s dL/df.
                double rowScale = ignored ? 0 : t.scale;
                float alpha = (float) (t.mass[r] / sum * rowScale * s);
                float beta = (float) (-uniform * rowScale * s);
                if (f.classWeights == null) {
                    k.scaleAddInPlace(gradProducts, off, width, alpha, beta);
                } else {
                    k.scaleAddScaledInPlace(gradProducts, off, width, alpha, f.classWeights, range.lo + j0, beta);
                }
                if (out.gradLogits != null && !inOutputs) {
                    k.scaleShift(gradProducts, off, out.gradLogits, at, width, (float) (1 / s), 0f);
                }
                if (transformed) {
                    // df/ds = N(K) = f / s; then dL/dK = s N'(K) dL/df.
                    gradScale += k.dot(gradProducts, off, p.row, 0, width) / (s * s);
                    for (int j = 0; j < width; j++) {
                        if (batchGrad && j != local) {
                            p.batchGradient += gradProducts[off + j] * loss.otherBatchSlope(p.products[off + j],
                                    terms.param[r], terms.batchParam);
                        }
                        if (j != local) {
                            gradProducts[off + j] *= (float) loss.otherSlope(p.products[off + j], terms.param[r], terms.batchParam);
                        }
                    }
                } else {
                    gradScale += k.dot(gradProducts, off, p.products, off, width) / s;
                }
                if (owns) {
                    double dLdf = CrossEntropyTerms.targetGradient(t.mass[r], sum - expTarget, 1 / sum, eps,
                            f.classWeight(y), f.classWeightSum, f.classes, rowScale);
                    if (out.gradLogits != null && !inOutputs) {
                        out.gradLogits[at + local] = (float) dLdf;
                    }
                    gradScale -= transformed ? gradProducts[off + local] * p.row[local] / (s * s)
                            : gradProducts[off + local] / s * p.products[off + local];
                    targetBackward(dLdf, p.targetCos[r], f.norms[r], range.norm(local + j0, p.targetSub[r]), terms.param[r],
                            target);
                    // With both operands normalised, T' can be huge near c = +-1 (1 / sin(theta)): only dT/dc = 1
                    // goes through the products, the rest along the cosine's own gradient (addCosineGradient).
                    gradProducts[off + local] = (float) (normalised ? dLdf * s : target[0]);
                    targetGrad[r] = dLdf;
                    gradParam[r] = target[4];
                    gradFeatureNorm[r] += target[1] + rowScale * f.classWeight(y) * loss.penaltySlope(f.norms[r]);
                    gradWeightNorm[local * subs + p.targetSub[r]] += target[2];
                    gradScale += target[3];
                }
                if (out.logits != null) {
                    // Last: with inOutputs this row of the logits held the row's products until now.
                    System.arraycopy(p.row, 0, out.logits, at, width);
                }
            }
            int rows = width * subs;
            if (subs > 1) {
                spreadToSubCentres(p, j0, width, gradProducts, gradSubProducts);
            }
            boolean rawWeights = loss.scalesByWeightNorm();
            matrices.times(gradSubProducts, n, rows, rawWeights ? range.w : ws.weightsHat, rawWeights ? range.row(j0, 0) * d : 0,
                    d, out.gradFeatures, true);
            matrices.transposedTimes(gradSubProducts, n, rows, f.operand, d, gradWeightsBlock);
            Normalisation.finishOperandGradient(gradWeightsBlock, ws.weightsHat, range.norms, range.row(j0, 0), gradWeightNorm,
                    rows, d, rawWeights);
            if (!inPlace) {
                System.arraycopy(gradWeightsBlock, 0, out.gradWeights, (out.gradWeightsRow + j0) * subs * d, rows * d);
            }
            if (inOutputs) {
                logitGradientFromProducts(k, f, range, targetGrad, out.gradLogits, width);
            }
        }
        loss.paramGradient(terms, gradParam, gradFeatureNorm);
        Normalisation.finishOperandGradient(out.gradFeatures, f.hat, f.norms, 0, gradFeatureNorm, n, d,
                loss.scalesByFeatureNorm());
        for (int r = 0; r < n; r++) {
            if (targetGrad[r] == 0) {
                continue;
            }
            int local = f.labels[r] - range.lo;
            int sub = p.targetSub[r];
            if (normalised) {
                targetBackward(targetGrad[r], p.targetCos[r], f.norms[r], range.norm(local, sub), terms.param[r], target);
                addTargetCosineGradient(p, r, target[0] - targetGrad[r] * s, out);
            }
            loss.adjustTargetFeatureGradient(targetGrad[r], p.targetCos[r], f.norms[r], f.hat, r, range.w, range.row(local, sub),
                    range.norm(local, sub), d, out.gradFeatures);
        }
        out.gradScale = loss.hasScale() ? gradScale : 0;
    }

    /**
     * The gradient that flows through the batch parameter into the target cosines of the rows whose
     * target {@code p}'s range holds, once {@code total}, {@code dL/d(batch)} summed over every range,
     * is known: {@code total d(batch)/dc_r dc_r/dx} and {@code dc_r/dW_y}, added to {@code out}.
     */
    void backwardBatchParam(Pass p, double total, Outputs out) {
        Features f = p.f;
        Range range = p.range;
        for (int r = 0; r < f.n && total != 0; r++) {
            if (Double.isNaN(p.targetCos[r])) {
                continue;
            }
            addTargetCosineGradient(p, r, total * loss.batchSlope(f.terms, r), out);
        }
    }

    /** Adds {@code e dc/dx} and {@code e dc/dW} of row {@code r}'s target cosine (with its chosen sub-centre) to {@code out}. */
    private static void addTargetCosineGradient(Pass p, int r, double e, Outputs out) {
        Features f = p.f;
        Range range = p.range;
        int local = f.labels[r] - range.lo;
        int sub = p.targetSub[r];
        Normalisation.addCosineGradient(e, f.x, r, f.norms[r], range.w, range.row(local, sub), range.norm(local, sub),
                p.targetCos[r], f.d, out.gradFeatures, out.gradWeights, (out.gradWeightsRow + local) * range.k + sub);
    }

    /**
     * Spreads a block's {@code dL/dK} ({@code N x width}) to its sub-centres ({@code N x width k}): each
     * (row, class) to the sub-centre its product came from, a target to the one its cosine came from.
     */
    private void spreadToSubCentres(Pass p, int j0, int width, float[] gradProducts, float[] gradSubProducts) {
        Features f = p.f;
        int subs = p.range.k;
        int rows = width * subs;
        Arrays.fill(gradSubProducts, 0, f.n * rows, 0f);
        for (int r = 0; r < f.n; r++) {
            int y = f.labels[r] - p.range.lo - j0;
            boolean owns = f.labels[r] != loss.ignoreIndex() && y >= 0 && y < width;
            for (int j = 0; j < width; j++) {
                int sub = owns && j == y ? p.targetSub[r] : p.choices[r * width + j];
                gradSubProducts[r * rows + j * subs + sub] = gradProducts[r * width + j];
            }
        }
    }

    /** {@code f_y = s A B T(c, q)}: the target's final logit. */
    private double targetLogit(double c, double featureNorm, double weightNorm, double q) {
        return loss.scale() * (loss.scalesByFeatureNorm() ? featureNorm : 1)
                * (loss.scalesByWeightNorm() ? weightNorm : 1) * loss.target(c, q);
    }

    /**
     * The target's share of the backward pass for {@code G = dL/df_y}: into {@code out[0]}
     * {@code dL/dK_ny} (the target's {@code K} is {@code A B c}), into {@code out[1]} and {@code out[2]}
     * the gradients of the norms {@code A} and {@code B} (0 when the logit does not carry them), into
     * {@code out[3]} the gradient of the scale, into {@code out[4]} the gradient of the row's parameter {@code q}.
     */
    private void targetBackward(double dLdf, double c, double featureNorm, double weightNorm, double q, double[] out) {
        boolean byFeature = loss.scalesByFeatureNorm();
        boolean byWeight = loss.scalesByWeightNorm();
        double a = byFeature ? featureNorm : 1;
        double b = byWeight ? weightNorm : 1;
        double s = loss.scale();
        double t = loss.target(c, q);
        double slope = loss.gradient() == MarginLoss.Gradient.STRAIGHT_THROUGH ? 1.0 : loss.targetSlope(c, q);
        // f_y = s A B T(K / (A B)): df_y/dK = s T'(c); below the norm floor c does not depend on the norm.
        out[0] = dLdf * s * slope;
        out[1] = byFeature ? dLdf * s * b * (t - (featureNorm >= MarginLoss.NORM_EPS ? c * slope : 0)) : 0;
        out[2] = byWeight ? dLdf * s * a * (t - (weightNorm >= MarginLoss.NORM_EPS ? c * slope : 0)) : 0;
        out[3] = dLdf * a * b * t;
        out[4] = dLdf * s * a * b * loss.targetParamSlope(c, q);
    }

    /**
     * {@code dL/df} of a range of one block from its {@code dL/dK}, in place once the products have
     * used it: {@code dL/dK / s} off the target, each row's {@code dL/df_y} on it.
     */
    private void logitGradientFromProducts(KernelSupport k, Features f, Range range, double[] targetGrad,
                                           float[] gradLogits, int width) {
        k.scaleShift(gradLogits, 0, gradLogits, 0, f.n * width, (float) (1 / loss.scale()), 0f);
        for (int r = 0; r < f.n; r++) {
            int y = f.labels[r];
            if (y != loss.ignoreIndex() && range.holds(y)) {
                gradLogits[r * width + y - range.lo] = (float) targetGrad[r];
            }
        }
    }
}
