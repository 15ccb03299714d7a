package dev.softmaxlosses.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.djl.DjlRuns.Target;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.Random2;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static dev.softmaxlosses.djl.Closeness.assertClose;
import static dev.softmaxlosses.djl.DjlRuns.libraryValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * An independent check of every loss: each written once more from {@code docs/LOSSES.md} as plain DJL
 * NDArray formulas (normalise, matMul, acos, cos, logSoftmax, exp, ...) with the documented defaults,
 * in float64, and differentiated by PyTorch's autograd. The library's {@code float[]} results and the
 * adapters' (value and gradients through DJL's autograd) must agree with it: the loss, and its
 * gradients with respect to the logits, or to the features, the class weights {@code W} and the scale.
 *
 * <p>The points are away from the kinks: the target angles are set per row away from ArcFace's
 * threshold and from psi's sectors {@code k pi / m}, and the hinge formulas check that no hinge's
 * argument is near 0.
 *
 * <p><b>Tolerance</b> (float32 results against a float64 reference): each entry within {@value #REL}
 * of itself or, for an entry below {@value #FLOOR} of its array's largest, within {@value #REL} of
 * {@value #FLOOR} times the largest (an absolute 1e-5 of the largest). The library rounds its inputs,
 * final logits and outputs to float32 (relative 6e-8) and accumulates in double: a final logit {@code f}
 * carries an absolute error of about {@code |f| 6e-8} (4e-6 at {@code s = 64}) into every probability,
 * and an entry that is a small difference of terms the size of the largest (the normalisation's
 * projection in {@code d/dx}, for one) keeps the absolute error of those terms. The worst seen here is
 * 7e-6 of that bound's denominator (an l2_softmax {@code d/dx} entry a hundredth of the largest), the
 * values 1.4e-7; a wrong factor, sign, branch or normaliser is off by percents (changing ArcFace's
 * fallback, psi's shift or the weighted mean in these formulas fails dozens of cases by 5% to 900%).
 */
class AutogradReferenceTest {

    private static final double REL = 1e-4;
    private static final double FLOOR = 0.1;

    private static final int N = 6;
    private static final int C = 5;
    private static final int D = 6;
    private static final float[] CLASS_WEIGHTS = {0.5f, 2f, 1f, 0.25f, 1.5f};
    /** The angle between each row's features and its class's weights; row {@link #IGNORED} is ignored. */
    private static final double[] THETAS = {0.3, 1.2, 2.0, 2.9, Double.NaN, 2.5};
    private static final int IGNORED = 4;

    static Stream<Arguments> logitCases() {
        return Stream.of(
                arguments("softmax_cross_entropy", Target.LABELS, false),
                arguments("softmax_cross_entropy:temperature=2.5,label_smoothing=0.1", Target.LABELS, true),
                arguments("softmax_cross_entropy:temperature=0.5,ignore_index=-1,reduction=none", Target.LABELS, true),
                arguments("softmax_cross_entropy:class_balance=batch,reduction=sum", Target.LABELS, true),
                arguments("softmax_cross_entropy:label_smoothing=0.2,temperature=2", Target.SOFT_TARGETS, true),
                arguments("softmax_cross_entropy:reduction=none", Target.SOFT_TARGETS, false),
                arguments("focal", Target.LABELS, false),
                arguments("focal:gamma=1.5,alpha=0.25", Target.LABELS, true),
                arguments("focal:gamma=0.5,reduction=none", Target.LABELS, true),
                arguments("distillation", Target.TEACHER, false),
                arguments("distillation:temperature=2,alpha=0.5,reduction=none", Target.TEACHER, false),
                arguments("distillation:temperature=8,alpha=1,reduction=sum", Target.TEACHER_ALONE, false),
                arguments("multiclass_hinge", Target.LABELS, false),
                arguments("multiclass_hinge:margin=0.5,reduction=none", Target.LABELS, false),
                arguments("max_hinge:reduction=sum", Target.LABELS, false),
                arguments("lse_hinge:margin=0.5", Target.LABELS, false),
                arguments("softplus_lse:margin=0.3,scale=2,reduction=none", Target.LABELS, false));
    }

    static Stream<Arguments> marginCases() {
        Stream<String> losses = Stream.of("normface:s=10", "cosface:s=12,m=0.3", "am_softmax", "arcface:s=12",
                "arcface:s=12,m=0.4,easy_margin=true", "arcface", "combined_margin:s=12,m1=0.9,m2=0.4,m3=0.15",
                "sphereface:m=2", "sphereface:m=3,lambda=1.5", "sphereface:m=4,lambda=0.5", "sphereface",
                "lsoftmax:m=2", "lsoftmax:m=3,lambda=2", "lsoftmax:m=4,lambda=1", "l2_softmax:alpha=8");
        return losses.flatMap(spec -> Stream.of(
                arguments(spec, false),
                arguments(with(spec, "label_smoothing=0.1"), true),
                arguments(with(spec, "reduction=none"), true),
                arguments(with(spec, "reduction=sum,label_smoothing=0.2,ignore_index=-1"), false)));
    }

    @Test
    void everyLossOfTheRegistryHasAReference() {
        Set<String> covered = new TreeSet<>();
        Stream.concat(logitCases(), marginCases())
                .forEach(a -> covered.add(LossRegistry.parse((String) a.get()[0]).name()));
        assertEquals(new TreeSet<>(LossRegistry.names()), covered);
    }

    @ParameterizedTest
    @MethodSource("logitCases")
    void logitLossMatchesItsAutogradReference(String spec, Target target, boolean weighted) {
        float[] classWeights = weighted ? CLASS_WEIGHTS : null;
        Parameters p = Parameters.of(spec);
        DjlRuns.LogitData data = DjlRuns.logitData(new Random(spec.hashCode()), N, C,
                (int) p.number("ignore_index", -100), target);
        LossResult library = ((LogitLoss) LossRegistry.create(spec)).compute(data.batch(data.z(), classWeights));
        LogitLossAdapter adapter = LogitLossAdapter.of(spec);
        adapter = weighted ? adapter.withClassWeights(classWeights) : adapter;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray z = DjlRuns.float64(m, data.z(), N, C);
            z.setRequiresGradient(true);
            Hard hard = Hard.of(m, data.labels(), C, p);
            NDArray second = DjlRuns.float64(m, data.second(), N, C);
            double[] value;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray loss = logitReference(p, z, hard, second, target, classWeights);
                collector.backward(loss);
                value = DjlRuns.doubles(loss);
            }
            double[] grad = DjlRuns.doubles(z.getGradient());
            DjlRuns.LogitRun run = DjlRuns.run(adapter, m.create(data.z(), new Shape(N, C)), data.labels(m));
            assertAgree(value, libraryValue(library), run.value(), spec + ": value");
            assertAgree(grad, library.gradLogits(), run.grad(), spec + ": gradient");
        }
    }

    @ParameterizedTest
    @MethodSource("marginCases")
    void marginLossMatchesItsAutogradReference(String spec, boolean weighted) {
        float[] classWeights = weighted ? CLASS_WEIGHTS : null;
        Parameters p = Parameters.of(spec);
        MarginLoss loss = (MarginLoss) LossRegistry.create(spec);
        DjlRuns.MarginData data = angledData(new Random(spec.hashCode()), (int) p.number("ignore_index", -100), classWeights);
        LossResult library = loss.compute(new FeatureBatch(new FloatMatrix(data.x(), N, D), new FloatMatrix(data.w(), C, D),
                data.labels(), classWeights));
        Double documentedScale = documentedScale(p);
        MarginHead head = MarginHead.of(spec, C);
        head = documentedScale == null ? head : head.learnableScale();
        MarginLossAdapter adapter = weighted ? head.loss().withClassWeights(classWeights) : head.loss();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = DjlRuns.float64(m, data.x(), N, D);
            NDArray w = DjlRuns.float64(m, data.w(), C, D);
            NDArray s = documentedScale == null ? null : m.create(documentedScale.doubleValue());
            for (NDArray input : new NDArray[] {x, w, s}) {
                if (input != null) {
                    input.setRequiresGradient(true);
                }
            }
            Hard hard = Hard.of(m, data.labels(), C, p);
            double[] value;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray f = marginLogits(p, x, w, s, hard);
                NDArray reference = crossEntropy(f, hard, p.number("label_smoothing", 0), classWeights(classWeights, hard, p),
                        p.text("reduction", "mean"));
                collector.backward(reference);
                value = DjlRuns.doubles(reference);
            }
            DjlRuns.MarginRun run = DjlRuns.run(head, adapter, data,
                    documentedScale == null ? null : documentedScale.floatValue(), m);
            assertAgree(value, libraryValue(library), run.value(), spec + ": value");
            assertAgree(DjlRuns.doubles(x.getGradient()), library.gradFeatures(), run.gradFeatures(), spec + ": d/dx");
            assertAgree(DjlRuns.doubles(w.getGradient()), library.gradWeights(), run.gradWeights(), spec + ": d/dW");
            if (s != null) {
                assertAgree(DjlRuns.doubles(s.getGradient()), new float[] {(float) library.gradScale()}, run.gradScale(),
                        spec + ": d/ds");
            }
        }
    }

    /** The library's result and the adapter's both agree with the reference, to the class's tolerance. */
    private static void assertAgree(double[] reference, float[] library, float[] adapter, String what) {
        assertClose(reference, library, REL, FLOOR, what + " (library)");
        assertClose(reference, adapter, REL, FLOOR, what + " (adapter)");
    }

    // ---- The references: LOSSES.md in float64 NDArray formulas ----

    /** A loss on logits, per sample ({@code reduction=none}) or reduced. */
    private static NDArray logitReference(Parameters p, NDArray z, Hard y, NDArray second, Target target,
                                          float[] classWeights) {
        String reduction = p.text("reduction", "mean");
        switch (p.name()) {
            case "softmax_cross_entropy": {
                NDArray f = z.div(p.number("temperature", 1));
                double eps = p.number("label_smoothing", 0);
                if (target == Target.SOFT_TARGETS) {
                    NDArray q = second.mul(1 - eps).add(eps / C);
                    NDArray l = f.logSoftmax(1).mul(q).mul(classWeightRow(classWeights, z.getManager())).sum(new int[] {1}).neg();
                    return reduce(l, N, reduction);
                }
                return crossEntropy(f, y, eps, classWeights(classWeights, y, p), reduction);
            }
            case "focal": {
                // 1 - p_y as the sum of the other probabilities: 1 in an ignored row, where 1 - p_y would be 0
                // and the derivative of its power gamma < 1 infinite (times the row's 0: NaN)
                NDArray logP = z.logSoftmax(1);
                NDArray logPy = y.pick(logP);
                NDArray othersP = logP.exp().mul(y.oneHot.neg().add(1)).sum(new int[] {1});
                NDArray a = y.pick(classWeightRow(classWeights, z.getManager()).broadcast(N, C)).mul(p.number("alpha", 1));
                NDArray l = othersP.pow(p.number("gamma", 2)).mul(logPy).mul(a).neg().mul(y.valid);
                return reduce(l, y.count, reduction);
            }
            case "distillation": {
                double t = p.number("temperature", 4);
                double alpha = p.number("alpha", 0.9);
                NDArray logPt = second.div(t).logSoftmax(1);
                NDArray kl = logPt.exp().mul(logPt.sub(z.div(t).logSoftmax(1))).sum(new int[] {1});
                NDArray ce = y.pick(z.logSoftmax(1)).neg().mul(y.valid);
                return reduce(kl.mul(alpha * t * t).add(ce.mul(1 - alpha)), N, reduction);
            }
            case "multiclass_hinge": {
                NDArray argument = z.sub(y.pick(z).reshape(N, 1)).add(p.number("margin", 1));
                NDArray l = hinge(argument).mul(y.oneHot.neg().add(1)).sum(new int[] {1}).mul(y.valid);
                return reduce(l, y.count, reduction);
            }
            case "max_hinge": {
                NDArray largestOther = z.sub(y.oneHot.mul(1e9)).max(new int[] {1});
                NDArray l = hinge(largestOther.sub(y.pick(z)).add(p.number("margin", 1))).mul(y.valid);
                return reduce(l, y.count, reduction);
            }
            case "lse_hinge": {
                NDArray lseOthers = z.exp().mul(y.oneHot.neg().add(1)).sum(new int[] {1}).log();
                NDArray l = hinge(lseOthers.sub(y.pick(z)).add(p.number("margin", 0))).mul(y.valid);
                return reduce(l, y.count, reduction);
            }
            case "softplus_lse": {
                double s = p.number("scale", 1);
                NDArray lseOthers = z.mul(s).exp().mul(y.oneHot.neg().add(1)).sum(new int[] {1}).log();
                NDArray u = lseOthers.sub(y.pick(z).sub(p.number("margin", 0)).mul(s));
                return reduce(u.exp().add(1).log().mul(y.valid), y.count, reduction);
            }
            default:
                throw new AssertionError("no reference for " + p.name());
        }
    }

    /**
     * The final logits of the margin family (LOSSES.md's table), with the documented defaults: {@code s}
     * (or alpha) is the scalar {@code s}; cosines of normalised vectors ({@code v / max(||v||, 1e-12)}),
     * clamped to [-1, 1]; the target's column replaced by the loss's target logit.
     */
    private static NDArray marginLogits(Parameters p, NDArray x, NDArray w, NDArray s, Hard y) {
        NDArray xNorm = x.norm(new int[] {1}, true);
        NDArray wNorm = w.norm(new int[] {1}, true);
        NDArray xHat = x.div(xNorm.maximum(1e-12));
        NDArray cos = xHat.matMul(w.div(wNorm.maximum(1e-12)).transpose()).clip(-1, 1);
        NDArray c = y.pick(cos).reshape(N, 1);
        switch (p.name()) {
            case "normface":
                return cos.mul(s);
            case "cosface", "am_softmax":
                return cos.sub(y.oneHot.mul(p.number("m", 0.35))).mul(s);
            case "arcface": {
                double m = p.number("m", 0.5);
                boolean easy = p.text("easy_margin", "false").equals("true");
                NDArray phi = c.acos().add(m).cos();
                NDArray otherwise = easy ? c : c.sub(m * Math.sin(Math.PI - m));
                NDArray usePhi = c.gt(easy ? 0 : Math.cos(Math.PI - m)).toType(DataType.FLOAT64, false);
                return target(cos, y, phi.mul(usePhi).add(otherwise.mul(usePhi.neg().add(1)))).mul(s);
            }
            case "combined_margin": {
                NDArray theta = c.acos();
                NDArray t = theta.mul(p.number("m1", 1)).add(p.number("m2", 0.5)).cos().sub(p.number("m3", 0));
                return target(cos, y, t).mul(s);
            }
            case "sphereface":
                return target(cos, y, psiBlend(c, p, 4)).mul(xNorm);
            case "lsoftmax":
                return target(x.matMul(w.transpose()), y, psiBlend(c, p, 2).mul(xNorm).mul(y.oneHot.matMul(wNorm)));
            case "l2_softmax":
                return xHat.matMul(w.transpose()).mul(s);
            default:
                throw new AssertionError("no reference for " + p.name());
        }
    }

    /** {@code (lambda c + psi(theta)) / (1 + lambda)}, {@code psi = (-1)^k cos(m theta) - 2k} for theta in [k pi/m, (k+1) pi/m]. */
    private static NDArray psiBlend(NDArray c, Parameters p, int defaultM) {
        int m = (int) p.number("m", defaultM);
        double lambda = p.number("lambda", 0);
        NDArray theta = c.acos();
        double[] angles = DjlRuns.doubles(theta);
        double[] sign = new double[angles.length];
        double[] shift = new double[angles.length];
        for (int n = 0; n < angles.length; n++) {
            int k = Math.min(m - 1, (int) Math.floor(angles[n] * m / Math.PI));
            sign[n] = k % 2 == 0 ? 1 : -1;
            shift[n] = 2.0 * k;
        }
        NDManager manager = c.getManager();
        NDArray psi = theta.mul(m).cos().mul(manager.create(sign, c.getShape())).sub(manager.create(shift, c.getShape()));
        return c.mul(lambda).add(psi).div(1 + lambda);
    }

    /**
     * Softmax cross-entropy of final logits {@code f} with hard labels: {@code l_n = -sum_c w_c q_c log p_c},
     * {@code q = (1 - eps) one-hot(y) + eps / C}, 0 for an ignored row; {@code mean} divides by the sum of
     * {@code w_{y_n}} over the rows that count (PyTorch's weighted mean).
     */
    private static NDArray crossEntropy(NDArray f, Hard y, double eps, double[] w, String reduction) {
        NDManager m = f.getManager();
        NDArray q = y.oneHot.mul(1 - eps).add(eps / C);
        NDArray l = f.logSoftmax(1).mul(q).mul(m.create(w, new Shape(1, C))).sum(new int[] {1}).neg().mul(y.valid);
        double normaliser = 0;
        for (int n = 0; n < N; n++) {
            normaliser += y.labels[n] == y.ignoreIndex ? 0 : w[y.labels[n]];
        }
        return reduce(l, normaliser, reduction);
    }

    /** The class weights (ones when absent); with {@code class_balance=batch}, times {@code 1 - n_c / n_valid}. */
    private static double[] classWeights(float[] classWeights, Hard y, Parameters p) {
        double[] w = new double[C];
        for (int j = 0; j < C; j++) {
            w[j] = classWeights == null ? 1 : classWeights[j];
        }
        if (p.text("class_balance", "none").equals("batch")) {
            for (int j = 0; j < C; j++) {
                int count = 0;
                for (int label : y.labels) {
                    count += label == j ? 1 : 0;
                }
                w[j] *= 1 - (double) count / y.count;
            }
        }
        return w;
    }

    private static NDArray classWeightRow(float[] classWeights, NDManager m) {
        return classWeights == null ? m.ones(new Shape(1, C), DataType.FLOAT64) : DjlRuns.float64(m, classWeights, 1, C);
    }

    /** {@code k} with each row's target column replaced by {@code target} ({@code N x 1}). */
    private static NDArray target(NDArray k, Hard y, NDArray target) {
        return k.mul(y.oneHot.neg().add(1)).add(y.oneHot.mul(target));
    }

    /** {@code max(0, argument)}, after checking that no argument is within 1e-3 of the kink. */
    private static NDArray hinge(NDArray argument) {
        for (double a : DjlRuns.doubles(argument)) {
            assertTrue(Math.abs(a) > 1e-3, "a hinge's argument " + a + " is at its kink: choose other data");
        }
        return argument.maximum(0);
    }

    private static NDArray reduce(NDArray perSample, double normaliser, String reduction) {
        return switch (reduction) {
            case "none" -> perSample;
            case "sum" -> perSample.sum();
            default -> normaliser == 0 ? perSample.sum().mul(0) : perSample.sum().div(normaliser);
        };
    }

    /** The scale whose gradient the loss reports ({@code s}, or l2_softmax's {@code alpha}), documented default; null for none. */
    private static Double documentedScale(Parameters p) {
        return switch (p.name()) {
            case "normface" -> p.number("s", 16);
            case "cosface", "arcface", "combined_margin" -> p.number("s", 64);
            case "am_softmax" -> p.number("s", 30);
            case "l2_softmax" -> p.number("alpha", 16);
            default -> null;
        };
    }

    // ---- Data ----

    /**
     * Features at the angles {@link #THETAS} from their class's weights ({@code r (cos theta u + sin theta v)},
     * {@code u} the unit weight vector, {@code v} a random unit vector orthogonal to it, {@code r} in
     * [0.5, 3)), weights of norms about 1 to 3; row {@link #IGNORED} random and labelled {@code ignoreIndex}.
     */
    private static DjlRuns.MarginData angledData(Random random, int ignoreIndex, float[] classWeights) {
        float[] w = Random2.uniform(random, C, D, 2);
        float[] x = Random2.uniform(random, N, D, 2);
        int[] labels = Random2.labels(random, N, C);
        labels[IGNORED] = ignoreIndex;
        for (int n = 0; n < N; n++) {
            if (n == IGNORED) {
                continue;
            }
            double[] u = unit(w, labels[n] * D, null);
            double[] v = unit(Random2.uniform(random, 1, D, 1), 0, u);
            double r = 0.5 + 2.5 * random.nextDouble();
            for (int k = 0; k < D; k++) {
                x[n * D + k] = (float) (r * (Math.cos(THETAS[n]) * u[k] + Math.sin(THETAS[n]) * v[k]));
            }
        }
        return new DjlRuns.MarginData(N, C, D, x, w, labels, classWeights, DataType.FLOAT32);
    }

    /** {@code a[from .. from + D)} without its component along {@code away} (when given), normalised. */
    private static double[] unit(float[] a, int from, double[] away) {
        double[] v = new double[D];
        double along = 0;
        for (int k = 0; k < D; k++) {
            v[k] = a[from + k];
            along += away == null ? 0 : v[k] * away[k];
        }
        double norm = 0;
        for (int k = 0; k < D; k++) {
            v[k] -= away == null ? 0 : along * away[k];
            norm += v[k] * v[k];
        }
        for (int k = 0; k < D; k++) {
            v[k] /= Math.sqrt(norm);
        }
        return v;
    }

    private static String with(String spec, String options) {
        return spec + (spec.contains(":") ? "," : ":") + options;
    }

    /** Hard labels as float64 constants: one-hot rows (zero for an ignored row) and the mask of the rows that count. */
    private record Hard(int[] labels, int ignoreIndex, NDArray oneHot, NDArray valid, int count) {

        static Hard of(NDManager m, int[] labels, int classes, Parameters p) {
            int ignoreIndex = (int) p.number("ignore_index", -100);
            double[] oneHot = new double[labels.length * classes];
            double[] valid = new double[labels.length];
            int count = 0;
            for (int n = 0; n < labels.length; n++) {
                if (labels[n] != ignoreIndex) {
                    oneHot[n * classes + labels[n]] = 1;
                    valid[n] = 1;
                    count++;
                }
            }
            return new Hard(labels, ignoreIndex, m.create(oneHot, new Shape(labels.length, classes)),
                    m.create(valid), count);
        }

        /** {@code a[n, y_n]} ({@code N}), 0 for an ignored row. */
        NDArray pick(NDArray a) {
            return a.mul(oneHot).sum(new int[] {1});
        }
    }

    /** A spec's name and the parameters it writes (no library defaults: each formula names the documented one). */
    private record Parameters(String name, Map<String, String> given) {

        static Parameters of(String spec) {
            LossSpec parsed = LossRegistry.parse(spec);
            return new Parameters(parsed.name(), parsed.parameters());
        }

        double number(String key, double documentedDefault) {
            String value = given.get(key);
            return value == null ? documentedDefault : Double.parseDouble(value);
        }

        String text(String key, String documentedDefault) {
            return given.getOrDefault(key, documentedDefault);
        }
    }
}
