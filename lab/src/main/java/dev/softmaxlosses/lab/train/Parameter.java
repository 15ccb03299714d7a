package dev.softmaxlosses.lab.train;

/**
 * A learned array with its gradient and the optimiser's velocity, all of one length.
 *
 * @param name        what it is, for messages ({@code dense1.weight})
 * @param value       the values the model uses
 * @param grad        {@code d loss / d value}, overwritten by each backward pass
 * @param velocity    SGD's momentum buffer
 * @param weightDecay whether weight decay applies: to weight matrices, not to biases, batch-norm
 *                    scales and shifts or PReLU slopes (decaying those pulls them towards a value
 *                    that has no special meaning)
 */
public record Parameter(String name, float[] value, float[] grad, float[] velocity, boolean weightDecay) {

    /** A parameter holding {@code value}, with zero gradient and velocity. */
    public static Parameter of(String name, float[] value, boolean weightDecay) {
        return new Parameter(name, value, new float[value.length], new float[value.length], weightDecay);
    }
}
