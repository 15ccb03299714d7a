package dev.softmaxlosses.lab.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.training.optimizer.Optimizer;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The lab's SGD on DJL's parameters, as its own trainer's {@code Sgd} (and PyTorch's {@code SGD}):
 * {@code g = grad + wd w} for the weight matrices and convolution kernels only (not biases, batch
 * norm or PReLU slopes), {@code v = mu v + g}, {@code w -= lr v}, at the rate the trainer sets before
 * each step; then the parameter's gradient is zeroed for the next backward pass. DJL's own {@code Sgd}
 * decays every parameter and folds the rate into the momentum.
 */
final class LabSgd extends Optimizer {

    private final float momentum;
    private final float weightDecay;
    private final Set<String> decayed;
    private final Map<String, Map<Device, NDArray>> velocities = new ConcurrentHashMap<>();
    private volatile float rate;

    /** @param decayed the ids ({@code Parameter.getId()}) of the parameters that take weight decay */
    LabSgd(double momentum, double weightDecay, Set<String> decayed) {
        super(new Builder());
        this.momentum = (float) momentum;
        this.weightDecay = (float) weightDecay;
        this.decayed = Set.copyOf(decayed);
    }

    /** The learning rate of the next step. */
    void rate(double rate) {
        this.rate = (float) rate;
    }

    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        NDArray v = withDefaultState(velocities, parameterId, weight.getDevice(), k -> weight.zerosLike());
        if (decayed.contains(parameterId) && weightDecay != 0) {
            try (NDArray g = weight.mul(weightDecay)) {
                g.addi(grad);
                v.muli(momentum).addi(g);
            }
        } else {
            v.muli(momentum).addi(grad);
        }
        try (NDArray step = v.mul(rate)) {
            weight.subi(step);
        }
        try (NDArray own = weight.getGradient()) {
            own.subi(own);
        }
    }

    private static final class Builder extends OptimizerBuilder<Builder> {
        @Override
        protected Builder self() {
            return this;
        }
    }
}
