package dev.softmaxlosses;

import java.util.Locale;

/**
 * How per-sample losses are reduced to one number.
 *
 * <p>{@link #MEAN} divides the sum by the loss's normaliser (see each loss; a normaliser of 0 gives a
 * loss of 0 and all-zero gradients). {@link #SUM} adds the per-sample losses. {@link #NONE} keeps
 * them; its gradients are those of their sum, as in PyTorch.
 */
public enum Reduction {
    MEAN,
    SUM,
    NONE;

    /** The spelling used in spec strings and JSON: {@code mean}, {@code sum}, {@code none}. */
    public String specName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
