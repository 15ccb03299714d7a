package dev.softmaxlosses.lab.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;

/**
 * Parametric ReLU with one learned slope per channel (axis 1), starting at 0.25, as He et al. (2015)
 * and the lab's own {@code PRelu} have it; DJL's {@code Prelu} learns a single slope (and PyTorch's engine
 * does not implement it). The networks of
 * the center-loss and SphereFace papers use it after every convolution.
 */
final class ChannelPrelu extends AbstractBlock {

    /** The parameter's name, which the optimiser exempts from weight decay as the lab's trainer does. */
    static final String SLOPE = "slope";

    private final Parameter slope;

    ChannelPrelu() {
        super((byte) 1);
        slope = addParameter(Parameter.builder().setName(SLOPE).setType(Parameter.Type.OTHER)
                .optInitializer(new ConstantInitializer(0.25f)).build());
    }

    @Override
    protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        NDArray a = parameterStore.getValue(slope, x.getDevice(), training);
        long[] shape = new long[x.getShape().dimension()];
        java.util.Arrays.fill(shape, 1);
        shape[1] = a.getShape().get(0);
        // relu(x) + a (x - relu(x)), with a per channel: PyTorch's engine in DJL has no prelu of its own.
        // Not maximum(x, 0f) and minimum(x, 0f): DJL makes the 0 an array over a direct buffer of its own
        // and closes it as the call returns, while autograd keeps it for the backward pass, which then
        // read freed memory once the collector had reclaimed it (the same seed gave other gradients).
        NDArray positive = Activation.relu(x);
        return new NDList(positive.add(x.sub(positive).mul(a.reshape(new Shape(shape)))));
    }

    @Override
    public void prepare(Shape[] inputShapes) {
        slope.setShape(new Shape(inputShapes[0].get(1)));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        return new Shape[] {inputs[0]};
    }
}
