package dev.softmaxlosses.djl;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossState;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.StreamingMarginHead;
import dev.softmaxlosses.spec.LossRegistry;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The classifier of the margin family as a DJL {@code Block}: it holds the class weights {@code W}
 * ({@code C x D}, a {@link Parameter} named {@code weight}, initialised as InsightFace does from
 * {@code N(0, 0.01)}) and, when asked, a learnable scale ({@code scale}, one value, starting at the
 * spec's {@code s} or {@code alpha}). Train it with {@link #loss()}.
 *
 * <pre>{@code
 *   MarginHead head = MarginHead.of("arcface:s=64,m=0.5", classes);
 *   SequentialBlock net = new SequentialBlock().add(backbone).add(head);
 *   TrainingConfig config = new DefaultTrainingConfig(head.loss()).addEvaluator(new Accuracy());
 * }</pre>
 *
 * <p><b>Input</b> the features, {@code N x D}. <b>Output</b>, in this order:
 * <ol>
 *   <li>the inference logits {@code s A_n B_j cos_nj} ({@code N x C}, no margin), so that DJL's
 *       {@code Accuracy} and prediction work unchanged; a constant for autograd (the gradient flows
 *       through the loss); in {@linkplain #streaming streaming} mode, which never holds an {@code N x C}
 *       array, each sample's predicted class instead ({@code N}, int64: the first largest inference
 *       logit, found block by block), which {@link PredictedClassAccuracy} scores;</li>
 *   <li>the features, as given;</li>
 *   <li>the class weights;</li>
 *   <li>the scale, when it is learned.</li>
 * </ol>
 *
 * <p>Saved and loaded with the model ({@code Model.save}, {@code Model.load}): the weights, the scale
 * and the head's spec and class count, which a load checks against the block it loads into.
 */
public final class MarginHead extends AbstractBlock {

    private static final byte VERSION = 1;

    /** The loss as built; {@link #scaled} holds it with the state of the next step (stateful losses). */
    private final MarginLoss loss;
    private final int classes;
    private final int block;
    private final Parameter weight;
    private final Parameter scale;
    private final MarginLossAdapter adapter;
    /** The loss at the scale last seen (when the scale is learned) and with its state after the last step. */
    private volatile Scaled scaled;

    /** The loss at a scale, and the block walk of its inference and streaming mode. */
    private record Scaled(double scale, MarginLoss loss, StreamingMarginHead blocks) {
        Scaled(double scale, MarginLoss loss, int block) {
            this(scale, loss, new StreamingMarginHead(loss, block > 0 ? block : StreamingMarginHead.DEFAULT_BLOCK));
        }

        /** This loss with the state a step left, at the same scale. */
        Scaled advanced(LossState state, int block) {
            return state.isEmpty() ? this : new Scaled(scale, loss.withState(state), block);
        }
    }

    private MarginHead(MarginLoss loss, int classes, int block, boolean learnScale) {
        super(VERSION);
        this.loss = Objects.requireNonNull(loss, "loss");
        if (classes < 1) {
            throw new IllegalArgumentException("a margin head needs at least 1 class, got " + classes);
        }
        if (block < 0) {
            throw new IllegalArgumentException("the streaming block must be positive, got " + block);
        }
        if (learnScale && !loss.hasScale()) {
            throw new IllegalArgumentException(loss.spec().name() + " has no scale to learn");
        }
        this.classes = classes;
        this.block = block;
        this.weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT)
                .optInitializer(new NormalInitializer(0.01f)).build());
        this.scale = learnScale ? addParameter(Parameter.builder().setName("scale").setType(Parameter.Type.OTHER)
                .optShape(new Shape(1)).optInitializer(new ConstantInitializer((float) loss.scale())).build()) : null;
        this.scaled = new Scaled(loss.scale(), loss, block);
        this.adapter = new MarginLossAdapter(loss.spec().name(), this, null);
    }

    /**
     * A head of {@code classes} classes trained with the margin loss a spec names.
     *
     * @throws IllegalArgumentException for a bad spec, a loss that is not of the margin family, or
     *                                  {@code classes < 1}
     */
    public static MarginHead of(String spec, int classes) {
        return new MarginHead(marginLoss(spec), classes, 0, false);
    }

    /** A head of {@code classes} classes trained with {@code loss}. */
    public static MarginHead of(MarginLoss loss, int classes) {
        return new MarginHead(loss, classes, 0, false);
    }

    /**
     * This head in streaming mode: the loss walks the classes {@code block} at a time and never holds an
     * {@code N x C} array (for large {@code C}); the head's first output is then the features.
     */
    public MarginHead streaming(int block) {
        if (block < 1) {
            throw new IllegalArgumentException("the streaming block must be positive, got " + block);
        }
        return new MarginHead(loss, classes, block, scale != null);
    }

    /** This head with a learnable scale (a parameter starting at the spec's {@code s}, or {@code alpha}). */
    public MarginHead learnableScale() {
        return new MarginHead(loss, classes, block, true);
    }

    /** The loss that trains this head (with {@link MarginLossAdapter#withClassWeights} for class weights). */
    public MarginLossAdapter loss() {
        return adapter;
    }

    /** The library's loss at its spec's scale. */
    public MarginLoss marginLoss() {
        return loss.withState(scaled.loss.state());
    }

    /** The number of classes {@code C}. */
    public int classes() {
        return classes;
    }

    /** Whether the loss walks the classes in blocks ({@link #streaming}). */
    public boolean isStreaming() {
        return block > 0;
    }

    /** Whether the scale is a parameter ({@link #learnableScale}). */
    public boolean learnsScale() {
        return scale != null;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray features = inputs.head();
        requireFeatures(features.getShape());
        NDArray w = parameterStore.getValue(weight, features.getDevice(), training);
        NDArray s = scale == null ? null : parameterStore.getValue(scale, features.getDevice(), training);
        NDArray first = isStreaming() ? predictedClasses(features, w, s) : inferenceLogits(features, w, s);
        NDList out = new NDList(first, features, w);
        if (s != null) {
            out.add(s);
        }
        return out;
    }

    private NDArray inferenceLogits(NDArray features, NDArray w, NDArray s) {
        HostBuffers buffers = HostBuffers.ofThread();
        int n = Math.toIntExact(features.getShape().get(0));
        float[] logits = buffers.logits(n, classes);
        at(s).blocks.inferenceLogits(hostFeatures(features, buffers), hostWeights(w, features, buffers), logits,
                buffers.inferenceScratch());
        return HostArrays.write(logits, new Shape(n, classes), features.getManager(), features.getDevice());
    }

    private NDArray predictedClasses(NDArray features, NDArray w, NDArray s) {
        HostBuffers buffers = HostBuffers.ofThread();
        int[] predicted = buffers.classes(Math.toIntExact(features.getShape().get(0)));
        at(s).blocks.predictedClasses(hostFeatures(features, buffers), hostWeights(w, features, buffers), predicted,
                buffers.inferenceScratch());
        NDArray out = features.getManager().create(predicted).toType(ai.djl.ndarray.types.DataType.INT64, false);
        return out.getDevice().equals(features.getDevice()) ? out : out.toDevice(features.getDevice(), false);
    }

    /** The features ({@code N x D}) in this thread's host buffer. */
    static FloatMatrix hostFeatures(NDArray features, HostBuffers buffers) {
        int n = Math.toIntExact(features.getShape().get(0));
        int d = Math.toIntExact(features.getShape().get(1));
        float[] x = buffers.features(n, d);
        try (NDManager scope = features.getManager().newSubManager()) {
            HostArrays.read(features, scope, x);
        }
        return new FloatMatrix(x, n, d);
    }

    /** The class weights ({@code C x D}) in this thread's host buffer; temporaries on the batch's manager. */
    FloatMatrix hostWeights(NDArray w, NDArray features, HostBuffers buffers) {
        int d = Math.toIntExact(features.getShape().get(1));
        float[] weights = buffers.weights(weightRows(), d);
        try (NDManager scope = features.getManager().newSubManager()) {
            HostArrays.read(w, scope, weights);
        }
        return new FloatMatrix(weights, weightRows(), d);
    }

    /** The loss at the learned scale {@code s}, or at the spec's when none is learned. */
    private Scaled at(NDArray s) {
        return at(s == null ? loss.scale() : s.toFloatArray()[0]);
    }

    /** The loss (and its block walk) at scale {@code s}: the spec's loss, or one made with {@code s}, kept until the scale changes. */
    private Scaled at(double s) {
        Scaled current = scaled;
        if (current.scale == s) {
            return current;
        }
        Scaled next = new Scaled(s, withScale(current.loss, s), block);
        scaled = next;
        return next;
    }

    /** Computes the loss at the learned scale {@code s} (or the spec's): materialised, or block by block in streaming mode. */
    void compute(NDArray s, FeatureBatch batch, LossResult result) {
        Scaled current = at(s);
        if (isStreaming()) {
            current.blocks.compute(batch, result);
        } else {
            current.loss.compute(batch, result);
        }
        // A loss that keeps state (adaface, curricularface, elasticface) starts the next call from the
        // state this one left, as the papers' modules update their buffers on every forward.
        scaled = current.advanced(result.lossState(), block);
    }

    /** The rows of the class weights: {@code C}, or {@code C k} for {@code k} sub-centres per class. */
    int weightRows() {
        return Math.multiplyExact(classes, loss.subCentres());
    }

    void requireFeatures(Shape shape) {
        if (shape.dimension() != 2) {
            throw new IllegalArgumentException("features must be N x D, got shape " + shape);
        }
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        Shape features = inputs[0];
        Shape first = isStreaming() ? new Shape(features.get(0)) : new Shape(features.get(0), classes);
        Shape w = new Shape(weightRows(), features.get(1));
        return scale == null ? new Shape[] {first, features, w} : new Shape[] {first, features, w, new Shape(1)};
    }

    /** {@inheritDoc} */
    @Override
    public void prepare(Shape[] inputShapes) {
        requireFeatures(inputShapes[0]);
        weight.setShape(new Shape(weightRows(), inputShapes[0].get(1)));
    }

    /** {@inheritDoc} */
    @Override
    protected void saveMetadata(DataOutputStream os) throws IOException {
        saveInputShapes(os);
        os.writeUTF(marginLoss().spec().toString());
        os.writeInt(classes);
        os.writeBoolean(scale != null);
    }

    /** {@inheritDoc} */
    @Override
    public void loadMetadata(byte loadVersion, DataInputStream is) throws IOException, MalformedModelException {
        if (loadVersion != VERSION) {
            throw new MalformedModelException("a MarginHead saved with version " + loadVersion + ", expected " + VERSION);
        }
        readInputShapes(is);
        String spec = is.readUTF();
        int savedClasses = is.readInt();
        boolean savedScale = is.readBoolean();
        MarginLoss resumed;
        try {
            resumed = loss.withStateOf(spec);
        } catch (IllegalArgumentException e) {
            throw new MalformedModelException("the saved head's loss " + spec + " holds a bad state: " + e.getMessage(), e);
        }
        if (!spec.equals(resumed.spec().toString()) || savedClasses != classes || savedScale != (scale != null)) {
            throw new MalformedModelException("the saved head is " + spec + " with " + savedClasses + " classes"
                    + (savedScale ? " and a learned scale" : "") + "; this block is " + loss.spec() + " with "
                    + classes + " classes" + (scale != null ? " and a learned scale" : ""));
        }
        // The saved state: the next step continues where the saved head's left off.
        scaled = scaled.advanced(resumed.state(), block);
    }

    private static MarginLoss marginLoss(String spec) {
        dev.softmaxlosses.Loss made = LossRegistry.create(spec);
        if (!(made instanceof MarginLoss marginLoss)) {
            throw new IllegalArgumentException(made.spec().name()
                    + " is a loss on logits: train it with a LogitLossAdapter on the network's logits");
        }
        return marginLoss;
    }

    /** {@code loss} with scale {@code s}: its spec with {@code s} (or {@code alpha}, for l2_softmax) replaced. */
    private static MarginLoss withScale(MarginLoss loss, double s) {
        LossSpec spec = loss.spec();
        String key = LossRegistry.definition(spec.name()).parameters().contains("s") ? "s" : "alpha";
        Map<String, String> parameters = new LinkedHashMap<>(spec.parameters());
        parameters.put(key, Double.toString(s));
        return (MarginLoss) LossRegistry.create(new LossSpec(spec.name(), parameters));
    }
}
