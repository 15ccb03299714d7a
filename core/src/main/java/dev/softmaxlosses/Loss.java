package dev.softmaxlosses;

/**
 * A loss to minimise: a {@link LogitLoss} (on logits) or a {@link FeatureLoss} (on features and class
 * weights: the margin family). Implementations are immutable and safe to share between threads.
 */
public interface Loss {

    /** The loss with its parameters, as a spec string that the registry reads back. */
    LossSpec spec();
}
