package dev.softmaxlosses.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LogitBatch;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.djl.DjlRuns.Target;
import dev.softmaxlosses.logits.DistillationLoss;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.StreamingMarginHead;
import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.Random2;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.softmaxlosses.djl.Closeness.assertBits;
import static dev.softmaxlosses.djl.Closeness.assertClose;
import static dev.softmaxlosses.djl.Closeness.widen;
import static dev.softmaxlosses.djl.DjlRuns.assertValueShape;
import static dev.softmaxlosses.djl.DjlRuns.libraryValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every loss of the registry through its DJL adapter equals the library's {@code float[]} result bit
 * for bit: the value (exact by the bridge's construction) and the gradients PyTorch's autograd
 * delivers to the logits, the features, the class weights {@code W} (the head's parameter) and the
 * learned scale (the bridge's backward multiplies the library's gradient by 1.0). For every option
 * that changes what the adapter reads: each kind of target, ignored rows, class weights, each
 * reduction ({@code none}: the per-sample losses, whose sum's gradient the backward gives), float16 and
 * bfloat16 logits, streaming heads and a learned scale.
 */
class AdapterParityTest {

    private static final int N = 6;
    private static final int C = 5;
    private static final int D = 4;
    private static final int BLOCK = 2;
    private static final float[] CLASS_WEIGHTS = {0.5f, 2f, 1f, 0.25f, 1.5f};

    static List<String> logitLosses() {
        return LossRegistry.names().stream().filter(n -> LossRegistry.create(n) instanceof LogitLoss).toList();
    }

    static List<String> marginLosses() {
        return LossRegistry.names().stream().filter(n -> LossRegistry.create(n) instanceof MarginLoss).toList();
    }

    @ParameterizedTest
    @MethodSource("logitLosses")
    void everyLogitLossEqualsTheLibraryBitForBit(String name) {
        for (String spec : logitSpecs(name)) {
            LogitLoss loss = (LogitLoss) LossRegistry.create(spec);
            for (Target target : targets(loss)) {
                assertLogitParity(spec, target, null, DataType.FLOAT32);
                if (loss.takesClassWeights()) {
                    assertLogitParity(spec, target, CLASS_WEIGHTS, DataType.FLOAT32);
                }
            }
        }
    }

    /**
     * Logits of another floating type are read as float32 (exactly) and their gradient arrives cast to their
     * type; the value is float32 (float64 for float64 logits, which the engine promotes it to). Not
     * bfloat16: DJL 0.36's PyTorch engine aborts the JVM on any bfloat16 array (its JNI maps no type code
     * to it and rethrows with no active exception), so no DJL user on it can hand one to the adapter.
     */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT16", "FLOAT64"})
    void logitsOfAnotherFloatingTypeGetTheLibrarysGradientInTheirType(DataType type) {
        for (String name : logitLosses()) {
            for (String spec : List.of(name, name + ":reduction=none")) {
                LogitLoss loss = (LogitLoss) LossRegistry.create(spec);
                assertLogitParity(spec, targets(loss).get(0), null, type);
            }
        }
    }

    @Test
    void labelsOfEveryTypeAndShapeReadAlike() {
        int[] y = {2, 0, -100, 4, 1, 3};
        float[] z = Random2.uniform(new Random(7), N, C, 3);
        LogitLossAdapter adapter = LogitLossAdapter.of("softmax_cross_entropy:reduction=none");
        try (NDManager m = NDManager.newBaseManager()) {
            DjlRuns.LogitRun reference = DjlRuns.run(adapter, m.create(z, new Shape(N, C)), new NDList(m.create(y)));
            for (DataType type : List.of(DataType.INT64, DataType.FLOAT32, DataType.FLOAT64)) {
                for (Shape shape : List.of(new Shape(N), new Shape(N, 1))) {
                    NDArray labels = DjlRuns.labels(m, y, type).reshape(shape);
                    DjlRuns.LogitRun run = DjlRuns.run(adapter, m.create(z, new Shape(N, C)), new NDList(labels));
                    assertBits(reference.value(), run.value(), type + " " + shape + " labels: value");
                    assertBits(reference.grad(), run.grad(), type + " " + shape + " labels: gradient");
                }
            }
        }
    }

    /** A transposed view (not contiguous) is read in its logical row-major order. */
    @Test
    void logitsGivenAsATransposedViewAreReadInTheirOwnOrder() {
        float[] z = Random2.uniform(new Random(11), N, C, 3);
        float[] stored = new float[N * C];
        for (int n = 0; n < N; n++) {
            for (int j = 0; j < C; j++) {
                stored[j * N + n] = z[n * C + j];
            }
        }
        int[] y = {2, 0, -100, 4, 1, 3};
        LogitLossAdapter adapter = LogitLossAdapter.of("softmax_cross_entropy:reduction=none");
        LossResult expected = adapter.loss().compute(LogitBatch.of(z, N, C, y));
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray view = m.create(stored, new Shape(C, N)).transpose();
            DjlRuns.LogitRun run = DjlRuns.run(adapter, view, new NDList(m.create(y)));
            assertBits(libraryValue(expected), run.value(), "transposed logits: value");
            assertBits(expected.gradLogits(), run.grad(), "transposed logits: gradient");
        }
    }

    /**
     * Evaluating the same arrays again reuses the first computation ({@code EasyTrain}'s loss metric), but
     * only for the very same arrays: other hard labels beside the same student and teacher compute again.
     */
    @Test
    void evaluatingAgainWithOtherHardLabelsComputesAgain() {
        LogitLossAdapter adapter = LogitLossAdapter.of("distillation:alpha=0.5,reduction=none");
        DjlRuns.LogitData data = DjlRuns.logitData(new Random(13), N, C, -100, Target.TEACHER);
        int[] other = new int[N];
        for (int n = 0; n < N; n++) {
            other[n] = data.labels()[n] < 0 ? data.labels()[n] : (data.labels()[n] + 1) % C;
        }
        DjlRuns.LogitData relabelled = new DjlRuns.LogitData(N, C, data.z(), other, data.second(), Target.TEACHER);
        LossResult expected = adapter.loss().compute(relabelled.batch(data.z(), null));
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits = m.create(data.z(), new Shape(N, C));
            NDList labels = data.labels(m);
            adapter.evaluate(labels, new NDList(logits));
            NDList otherLabels = new NDList(labels.get(0), DjlRuns.labels(m, other, DataType.INT64));
            DjlRuns.LogitRun run = DjlRuns.run(adapter, logits, otherLabels);
            assertBits(libraryValue(expected), run.value(), "other labels: value");
            assertBits(expected.gradLogits(), run.grad(), "other labels: gradient");
        }
    }

    @ParameterizedTest
    @MethodSource("marginLosses")
    void everyMarginLossEqualsTheLibraryBitForBit(String name) {
        for (String spec : marginSpecs(name)) {
            MarginLoss loss = (MarginLoss) LossRegistry.create(spec);
            for (float[] classWeights : new float[][] {null, CLASS_WEIGHTS}) {
                for (boolean streaming : new boolean[] {false, true}) {
                    assertMarginParity(spec, classWeights, streaming, null, DataType.FLOAT32);
                    if (loss.hasScale()) {
                        assertMarginParity(spec, classWeights, streaming, (float) (0.75 * loss.scale()), DataType.FLOAT32);
                    }
                }
            }
        }
    }

    /** Float16 features (a half-precision backbone) are read as float32 and get the gradient cast to float16. */
    @ParameterizedTest
    @MethodSource("marginLosses")
    void float16FeaturesGetTheLibrarysGradientInFloat16(String name) {
        assertMarginParity(name + ":reduction=none", CLASS_WEIGHTS, false, null, DataType.FLOAT16);
        assertMarginParity(name, null, true, null, DataType.FLOAT16);
    }

    /** A loss on logits: its defaults, each reduction, another ignore index, and the options it has. */
    private static List<String> logitSpecs(String name) {
        List<String> parameters = LossRegistry.definition(name).parameters();
        List<String> specs = new ArrayList<>(List.of(name, name + ":reduction=sum", name + ":reduction=none",
                name + ":ignore_index=-1"));
        if (parameters.contains("temperature")) {
            specs.add(name + ":temperature=2.5,reduction=none");
        }
        if (parameters.contains("label_smoothing")) {
            specs.add(name + ":label_smoothing=0.1");
            specs.add(name + ":label_smoothing=0.2,temperature=0.5,reduction=sum");
        }
        if (parameters.contains("class_balance")) {
            specs.add(name + ":class_balance=batch");
        }
        if (name.equals(DistillationLoss.NAME)) {
            specs.add(name + ":alpha=1,reduction=none");
            specs.add(name + ":alpha=0.5,temperature=2");
        }
        return specs;
    }

    /** The targets {@code loss} takes; the teacher alone where {@code alpha = 1} needs no labels. */
    private static List<Target> targets(LogitLoss loss) {
        List<Target> targets = new ArrayList<>();
        if (loss.takes(LogitBatch.Labels.class)) {
            targets.add(Target.LABELS);
        }
        if (loss.takes(LogitBatch.SoftTargets.class) && !"batch".equals(loss.spec().parameters().get("class_balance"))) {
            targets.add(Target.SOFT_TARGETS);
        }
        if (loss.takes(LogitBatch.Teacher.class)) {
            targets.add(Target.TEACHER);
            if (loss instanceof DistillationLoss d && d.alpha() == 1) {
                targets.add(Target.TEACHER_ALONE);
            }
        }
        return targets;
    }

    /** A margin loss: its defaults, each reduction, label smoothing, another ignore index, and its own options. */
    private static List<String> marginSpecs(String name) {
        List<String> parameters = LossRegistry.definition(name).parameters();
        List<String> specs = new ArrayList<>(List.of(name, name + ":reduction=sum", name + ":reduction=none",
                name + ":label_smoothing=0.1", name + ":ignore_index=-1"));
        if (parameters.contains("easy_margin")) {
            specs.add(name + ":easy_margin=true");
        }
        if (parameters.contains("lambda")) {
            specs.add(name + ":m=3,lambda=2");
        }
        String gradient = Map.of("arcface", "straight_through", "combined_margin", "straight_through",
                "sphereface", "sphereface_normalized").get(name);
        if (gradient != null) {
            specs.add(name + ":gradient=" + gradient);
        }
        return specs;
    }

    private static void assertLogitParity(String spec, Target target, float[] classWeights, DataType type) {
        String what = spec + " " + target + (classWeights == null ? "" : " weighted") + " " + type;
        LogitLossAdapter adapter = LogitLossAdapter.of(spec);
        adapter = classWeights == null ? adapter : adapter.withClassWeights(classWeights);
        LogitLoss loss = adapter.loss();
        int ignoreIndex = Integer.parseInt(loss.spec().parameters().get("ignore_index"));
        DjlRuns.LogitData data = DjlRuns.logitData(new Random(what.hashCode()), N, C, ignoreIndex, target);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits = DjlRuns.array(m, data.z(), type, N, C);
            LossResult expected = loss.compute(data.batch(DjlRuns.floats(logits), classWeights));
            DjlRuns.LogitRun run = DjlRuns.run(adapter, logits, data.labels(m));
            float[] grad = type == DataType.FLOAT32 ? expected.gradLogits()
                    : DjlRuns.floats(DjlRuns.array(m, expected.gradLogits(), type, N, C));
            assertValueShape(expected, run.valueShape(), what);
            assertEquals(type == DataType.FLOAT64 ? DataType.FLOAT64 : DataType.FLOAT32, run.valueType(), what + ": value type");
            assertBits(libraryValue(expected), run.value(), what + ": value");
            assertBits(grad, run.grad(), what + ": gradient of the logits");
        }
    }

    /**
     * The head (streaming or not, with its spec's scale or a learned one) trained by its loss equals the
     * library's loss at that scale; a streaming head equals the library's streaming head bit for bit and
     * the materialised loss to float32 rounding (the blocks sum in another order).
     */
    private static void assertMarginParity(String spec, float[] classWeights, boolean streaming, Float scale,
                                           DataType featureType) {
        String what = spec + (classWeights == null ? "" : " weighted") + (streaming ? " streaming" : "")
                + (scale == null ? "" : " learned scale " + scale) + " " + featureType;
        MarginHead head = MarginHead.of(spec, C);
        head = streaming ? head.streaming(BLOCK) : head;
        head = scale == null ? head : head.learnableScale();
        MarginLossAdapter adapter = classWeights == null ? head.loss() : head.loss().withClassWeights(classWeights);
        Random random = new Random(what.hashCode());
        int[] labels = Random2.labels(random, N, C);
        labels[1] = head.marginLoss().ignoreIndex();
        int rows = C * head.marginLoss().subCentres();
        DjlRuns.MarginData data = new DjlRuns.MarginData(N, C, D, Random2.uniform(random, N, D, 2),
                Random2.uniform(random, rows, D, 2), labels, classWeights, featureType);

        MarginLoss library = scale == null ? head.marginLoss() : atScale(head.marginLoss(), scale);
        try (NDManager m = NDManager.newBaseManager()) {
            float[] read = DjlRuns.floats(DjlRuns.array(m, data.x(), featureType, N, D));
            FeatureBatch batch = new FeatureBatch(new FloatMatrix(read, N, D), new FloatMatrix(data.w(), rows, D), labels,
                    classWeights);
            LossResult materialised = library.compute(batch);
            LossResult expected = streaming ? new StreamingMarginHead(library, BLOCK).compute(batch) : materialised;
            float[] gradFeatures = DjlRuns.floats(DjlRuns.array(m, expected.gradFeatures(), featureType, N, D));
            DjlRuns.MarginRun run = DjlRuns.run(head, adapter, data, scale, m);

            assertValueShape(expected, run.valueShape(), what);
            assertBits(libraryValue(expected), run.value(), what + ": value");
            assertBits(gradFeatures, run.gradFeatures(), what + ": gradient of the features");
            assertBits(expected.gradWeights(), run.gradWeights(), what + ": gradient of W");
            if (scale != null) {
                assertBits(new float[] {(float) expected.gradScale()}, run.gradScale(), what + ": gradient of the scale");
            }
            if (streaming && featureType == DataType.FLOAT32) {
                assertClose(widen(libraryValue(materialised)), run.value(), 2e-5, 0.1, what + ": value vs materialised");
                assertClose(widen(materialised.gradFeatures()), run.gradFeatures(), 1e-4, 0.1, what + ": features vs materialised");
                assertClose(widen(materialised.gradWeights()), run.gradWeights(), 1e-4, 0.1, what + ": W vs materialised");
            }
        }
    }

    /** The library's loss with its scale ({@code s}, or {@code alpha} for l2_softmax) replaced. */
    private static MarginLoss atScale(MarginLoss loss, float scale) {
        LossSpec spec = loss.spec();
        String key = LossRegistry.definition(spec.name()).parameters().contains("s") ? "s" : "alpha";
        Map<String, String> parameters = new LinkedHashMap<>(spec.parameters());
        parameters.put(key, Float.toString(scale));
        return (MarginLoss) LossRegistry.create(new LossSpec(spec.name(), parameters));
    }
}
