package dev.softmaxlosses.margin;

import dev.softmaxlosses.Reduction;

/**
 * What every margin loss's builder sets besides the paper's own parameters. Invalid values fail in
 * the loss's {@code build()}, with the message the spec string gives for them.
 *
 * @param <B> the loss's own builder
 */
@SuppressWarnings("unchecked")
public abstract class MarginLossBuilder<B extends MarginLossBuilder<B>> {
    double labelSmoothing = 0;
    int ignoreIndex = -100;
    Reduction reduction = Reduction.MEAN;
    MarginLoss.Gradient gradient = MarginLoss.Gradient.EXACT;

    MarginLossBuilder() {}

    /** Mixes eps in [0, 1) of the uniform distribution into the target (default 0). */
    public B labelSmoothing(double labelSmoothing) { this.labelSmoothing = labelSmoothing; return (B) this; }

    /** The label that marks a sample to ignore (default -100). */
    public B ignoreIndex(int ignoreIndex) { this.ignoreIndex = ignoreIndex; return (B) this; }

    /** How the per-sample losses are reduced (default mean). */
    public B reduction(Reduction reduction) { this.reduction = reduction; return (B) this; }

    /** How the target logit's derivative is taken (default {@link MarginLoss.Gradient#EXACT}). */
    public B gradient(MarginLoss.Gradient gradient) { this.gradient = gradient; return (B) this; }

    /** The common parameters of {@code loss}: a stateful loss's {@code withState} builds its successor with them. */
    B commonOf(MarginLoss loss) {
        this.labelSmoothing = loss.labelSmoothing();
        this.ignoreIndex = loss.ignoreIndex();
        this.reduction = loss.reduction();
        this.gradient = loss.gradient();
        return (B) this;
    }
}
