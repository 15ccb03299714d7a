package dev.softmaxlosses.lab.train;

import java.util.List;

/**
 * Stochastic gradient descent with momentum and weight decay, as PyTorch's {@code SGD} does it:
 * {@code g = grad + wd w} (for the parameters that take decay), {@code v = mu v + g},
 * {@code w -= lr v}.
 */
public final class Sgd {

    private final List<Parameter> parameters;
    private final double momentum;
    private final double weightDecay;

    public Sgd(List<Parameter> parameters, double momentum, double weightDecay) {
        this.parameters = List.copyOf(parameters);
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    /** One update of every parameter from its current gradient. */
    public void step(double learningRate) {
        for (Parameter p : parameters) {
            float[] w = p.value();
            float[] g = p.grad();
            float[] v = p.velocity();
            double decay = p.weightDecay() ? weightDecay : 0;
            for (int i = 0; i < w.length; i++) {
                double grad = g[i] + decay * w[i];
                v[i] = (float) (momentum * v[i] + grad);
                w[i] = (float) (w[i] - learningRate * v[i]);
            }
        }
    }
}
