package dev.softmaxlosses.margin;

import dev.softmaxlosses.LossState;

import java.util.Arrays;

/**
 * What a loss fixes for one batch before any logit is made: each row's parameter {@code q_r} of its
 * target transform (AdaFace's norm-adaptive scaler, MagFace's margin {@code m(a)}, ElasticFace's drawn
 * margin, CurricularFace's {@code cos(theta_y + m)}), one batch-wide parameter (CurricularFace's
 * {@code t}) and the loss's state after the batch. Computed once per batch from every row's feature
 * norm and label (and, for a loss that {@link MarginLoss#needsTargetCosines() needs them}, every row's
 * target cosine), so that every class range of a sharded head holds the same terms.
 */
final class RowTerms {

    int n;
    double[] norms = {};
    int[] labels;
    int ignoreIndex;
    /** The number of rows that count (whose label is not the ignore index). */
    int counted;
    /** Every row's target cosine (NaN for ignored rows), or null when the loss does not need them. */
    double[] targetCos;
    double[] param = {};
    double batchParam;
    LossState after = LossState.EMPTY;
    boolean fixed;

    /** Readies the terms of {@code n} rows, not yet fixed. */
    void reset(int n, double[] norms, int[] labels, int ignoreIndex) {
        this.n = n;
        this.norms = norms;
        this.labels = labels;
        this.ignoreIndex = ignoreIndex;
        this.counted = 0;
        for (int r = 0; r < n; r++) {
            counted += counts(r) ? 1 : 0;
        }
        this.param = MarginWorkspace.atLeast(param, n);
        Arrays.fill(param, 0, n, 0);
        this.batchParam = 0;
        this.targetCos = null;
        this.after = LossState.EMPTY;
        this.fixed = false;
    }

    /** Whether row {@code r} counts (its label is not the ignore index). */
    boolean counts(int r) {
        return labels[r] != ignoreIndex;
    }


    void release() {
        labels = null;
        targetCos = null;
    }
}
