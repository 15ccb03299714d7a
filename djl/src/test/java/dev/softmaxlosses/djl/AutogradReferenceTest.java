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

import java.util.Arrays;
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
 * argument is near 0; the formulas of the newer margin losses likewise check that no counted row is
 * within 1e-3 of a kink (ArcFace's threshold, AdaFace's clips of q and theta_m, MagFace's norm bounds,
 * CurricularFace's hard-negative boundary, a tie between sub-centres), so a case fails loudly, not
 * wrongly, when its data lands on one.
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
                "lsoftmax:m=2", "lsoftmax:m=3,lambda=2", "lsoftmax:m=4,lambda=1", "l2_softmax:alpha=8",
                // the batch statistics barely move q from ~0; then q past its clip in some rows, theta_m past its clip
                "adaface", "adaface:s=12,m=0.35,h=0.9,t_alpha=0.5,batch_mean=1.5,batch_std=0.8",
                "adaface:gradient=full", "adaface:s=12,m=0.5,h=0.8,t_alpha=0.6,batch_mean=1,batch_std=0.5,gradient=full",
                // the norms (0.5 to 3): all below l_a (constant margins), all inside, and some below, some above
                "magface", "magface:s=12,l_a=0.4,u_a=5", "magface:s=16,l_a=0.45,u_a=4,l_m=0.3,u_m=0.6,lambda_g=5",
                "magface:s=12,l_a=1,u_a=2,l_m=0.3,u_m=0.6,lambda_g=5,easy_margin=true",
                "curricularface", "curricularface:s=12,m=0.4,t=0.3", "curricularface:gradient=full",
                "curricularface:s=12,t=-0.2,gradient=full",
                // drawn margins (std = 0.05), none (std = 0: m), others with a seed and a step
                "elasticface", "elasticface:s=12,m=0.4,std=0", "elasticface:variant=cos",
                "elasticface:variant=cos,s=12,std=0.1,seed=3,step=7", "elasticface:s=12,std=0.2,seed=11,step=2",
                "subcenter_arcface:k=3", "subcenter_arcface:s=12,k=2", "subcenter_arcface:s=12,m=0.4,k=1",
                "subcenter_arcface:s=10,k=3,easy_margin=true");
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
        int rows = C * subCentres(p);
        DjlRuns.MarginData data = angledData(new Random(spec.hashCode()), (int) p.number("ignore_index", -100), classWeights,
                subCentres(p));
        LossResult library = loss.compute(new FeatureBatch(new FloatMatrix(data.x(), N, D),
                new FloatMatrix(data.w(), rows, D), data.labels(), classWeights));
        Double documentedScale = documentedScale(p);
        MarginHead head = MarginHead.of(spec, C);
        head = documentedScale == null ? head : head.learnableScale();
        MarginLossAdapter adapter = weighted ? head.loss().withClassWeights(classWeights) : head.loss();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = DjlRuns.float64(m, data.x(), N, D);
            NDArray w = DjlRuns.float64(m, data.w(), rows, D);
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
                double[] weights = classWeights(classWeights, hard, p);
                NDArray reference = crossEntropy(f, hard, p.number("label_smoothing", 0), weights,
                        p.text("reduction", "mean"), regulariser(p, x, hard, weights));
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
     * clamped to [-1, 1] (subcenter_arcface: a class's largest over its {@code k} sub-centres); the
     * target's column replaced by the loss's target logit. The stateful losses first update their state
     * from the batch's rows that count, then use it; their stop-gradients are autograd's own
     * ({@link NDArray#stopGradient}).
     */
    private static NDArray marginLogits(Parameters p, NDArray x, NDArray w, NDArray s, Hard y) {
        NDManager manager = x.getManager();
        NDArray xNorm = x.norm(new int[] {1}, true);
        NDArray wNorm = w.norm(new int[] {1}, true);
        NDArray xHat = x.div(xNorm.maximum(1e-12));
        NDArray cos = xHat.matMul(w.div(wNorm.maximum(1e-12)).transpose()).clip(-1, 1);
        if (p.name().equals("subcenter_arcface")) {
            cos = subCentreMax(cos, subCentres(p));
        }
        NDArray c = y.pick(cos).reshape(N, 1);
        boolean easy = p.text("easy_margin", "false").equals("true");
        boolean full = p.text("gradient", "exact").equals("full");
        switch (p.name()) {
            case "normface":
                return cos.mul(s);
            case "cosface", "am_softmax":
                return cos.sub(y.oneHot.mul(p.number("m", 0.35))).mul(s);
            case "arcface", "subcenter_arcface":
                return target(cos, y, arcFace(c, column(manager, p.number("m", 0.5)), easy, y)).mul(s);
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
            case "adaface": {
                double m = p.number("m", 0.4);
                double h = p.number("h", 0.333);
                double alpha = p.number("t_alpha", 0.01);
                double eps = 1e-3;
                // 1. the norms, clipped; exact: constants (q, the norms in it and the statistics)
                NDArray a = xNorm.reshape(N).clip(0.001, 100);
                a = full ? a : a.stopGradient();
                awayFrom(DjlRuns.doubles(a), null, new double[] {0.001, 100}, 1e-3, "adaface's norm");
                // 2. the state, updated from the rows that count (mean, unbiased deviation), then used
                NDArray mu = a.mul(y.valid).sum().div(y.count);
                NDArray sigma = a.sub(mu).mul(y.valid).pow(2).sum().div(y.count - 1).sqrt();
                NDArray mean = mu.mul(alpha).add((1 - alpha) * p.number("batch_mean", 20));
                NDArray std = sigma.mul(alpha).add((1 - alpha) * p.number("batch_std", 100));
                // 3. q
                NDArray unclippedQ = a.sub(mean).mul(h).div(std.add(eps));
                awayFrom(DjlRuns.doubles(unclippedQ), y, new double[] {-1, 1}, 1e-3, "adaface's q");
                NDArray q = unclippedQ.clip(-1, 1);
                // 4. every cosine clamped
                NDArray cc = cos.clip(-1 + eps, 1 - eps);
                awayFrom(DjlRuns.doubles(cos), null, new double[] {-1 + eps, 1 - eps}, 1e-4, "adaface's cosine");
                // 5. the target
                NDArray unclippedTheta = y.pick(cc).acos().sub(q.mul(m));
                awayFrom(DjlRuns.doubles(unclippedTheta), y, new double[] {eps, Math.PI - eps}, 1e-3, "adaface's theta_m");
                NDArray fy = unclippedTheta.clip(eps, Math.PI - eps).cos().sub(m).sub(q.mul(m));
                return target(cc, y, fy.reshape(N, 1)).mul(s);
            }
            case "magface": {
                double la = p.number("l_a", 10);
                double ua = p.number("u_a", 110);
                double lm = p.number("l_m", 0.45);
                double um = p.number("u_m", 0.8);
                awayFrom(DjlRuns.doubles(xNorm), y, new double[] {la, ua}, 1e-3, "magface's norm");
                NDArray a = xNorm.clip(la, ua);
                NDArray margins = a.sub(la).mul((um - lm) / (ua - la)).add(lm);
                return target(cos, y, arcFace(c, margins, easy, y)).mul(s);
            }
            case "curricularface": {
                double m = p.number("m", 0.5);
                // 1. t' from every counted row's target cosine; exact: a constant
                NDArray t = c.reshape(N).mul(y.valid).sum().div(y.count).mul(0.01).add(0.99 * p.number("t", 0));
                t = full ? t : t.stopGradient();
                // 2. the threshold, no fallback; 4. the hard negatives, a constant mask (counted rows, other classes)
                double[] threshold = DjlRuns.doubles(c.acos().add(m).cos());
                double[] cosines = DjlRuns.doubles(cos);
                double[] hard = new double[N * C];
                for (int n = 0; n < N; n++) {
                    for (int j = 0; j < C && y.labels[n] != y.ignoreIndex; j++) {
                        if (j != y.labels[n]) {
                            double gap = cosines[n * C + j] - threshold[n];
                            assertTrue(Math.abs(gap) > 1e-3, "curricularface: cos[" + n + "," + j + "] is "
                                    + gap + " from its threshold: choose other data");
                            hard[n * C + j] = gap > 0 ? 1 : 0;
                        }
                    }
                }
                NDArray mask = manager.create(hard, new Shape(N, C));
                NDArray others = cos.mul(mask.neg().add(1)).add(cos.mul(cos.add(t)).mul(mask));
                // 3. ArcFace's target
                return target(others, y, arcFace(c, column(manager, m), false, y)).mul(s);
            }
            case "elasticface": {
                boolean arc = p.text("variant", "arc").equals("arc");
                double m = p.number("m", arc ? 0.5 : 0.35);
                double std = p.number("std", 0.05);
                // a margin per counted row, drawn in row order from Random(seed + step); constants
                Random draw = new Random((long) p.number("seed", 0) + (long) p.number("step", 0));
                double[] margins = new double[N];
                for (int n = 0; n < N; n++) {
                    margins[n] = y.labels[n] == y.ignoreIndex ? 0 : m + std * draw.nextGaussian();
                }
                NDArray mn = manager.create(margins, new Shape(N, 1));
                return target(cos, y, arc ? c.acos().add(mn).cos() : c.sub(mn)).mul(s);
            }
            default:
                throw new AssertionError("no reference for " + p.name());
        }
    }

    /**
     * ArcFace's target with a margin per row ({@code N x 1}): {@code cos(theta + m)} where
     * {@code c > cos(pi - m)}, else {@code c - m sin(pi - m)}; with easy_margin, {@code cos(theta + m)}
     * where {@code c > 0}, else {@code c}. Checks that no counted row is within 1e-3 of its threshold.
     */
    private static NDArray arcFace(NDArray c, NDArray m, boolean easy, Hard y) {
        NDArray phi = c.acos().add(m).cos();
        NDArray threshold = easy ? c.zerosLike() : m.neg().add(Math.PI).cos();
        NDArray otherwise = easy ? c : c.sub(m.mul(m.neg().add(Math.PI).sin()));
        double[] gap = DjlRuns.doubles(c.sub(threshold));
        for (int n = 0; n < N; n++) {
            assertTrue(y.labels[n] == y.ignoreIndex || Math.abs(gap[n]) > 1e-3,
                    "row " + n + "'s target cosine is " + gap[n] + " from ArcFace's threshold: choose other data");
        }
        NDArray usePhi = c.gt(threshold).toType(DataType.FLOAT64, false);
        return phi.mul(usePhi).add(otherwise.mul(usePhi.neg().add(1)));
    }

    /** {@code value} in every row of an {@code N x 1} float64 constant. */
    private static NDArray column(NDManager manager, double value) {
        double[] values = new double[N];
        Arrays.fill(values, value);
        return manager.create(values, new Shape(N, 1));
    }

    /** Sub-center ArcFace's class cosines: the largest of each class's {@code k} ({@code N x C k} to {@code N x C}), no near ties. */
    private static NDArray subCentreMax(NDArray cos, int k) {
        double[] all = DjlRuns.doubles(cos);
        for (int n = 0; n < N; n++) {
            for (int j = 0; j < C; j++) {
                double[] sorted = new double[k];
                System.arraycopy(all, (n * C + j) * k, sorted, 0, k);
                Arrays.sort(sorted);
                assertTrue(k == 1 || sorted[k - 1] - sorted[k - 2] > 1e-3,
                        "row " + n + " ties between class " + j + "'s sub-centres: choose other data");
            }
        }
        return cos.reshape(N, C, k).max(new int[] {2});
    }

    /**
     * The per-sample term a loss adds to the cross-entropy (null for none): magface's
     * {@code w_{y_n} lambda_g g(a_n)}, {@code g(a) = a / u_a^2 + 1 / a}, {@code a_n} the clamped norm; 0 for
     * an ignored row.
     */
    private static NDArray regulariser(Parameters p, NDArray x, Hard y, double[] classWeights) {
        if (!p.name().equals("magface")) {
            return null;
        }
        double ua = p.number("u_a", 110);
        NDArray a = x.norm(new int[] {1}).clip(p.number("l_a", 10), ua);
        NDArray g = a.div(ua * ua).add(a.pow(-1));
        NDArray wy = y.pick(x.getManager().create(classWeights, new Shape(1, C)).broadcast(N, C));
        return g.mul(p.number("lambda_g", 35)).mul(wy).mul(y.valid);
    }

    /**
     * Checks that no value (of a counted row, when {@code y} is given: one value per row) is within
     * {@code gap} of a kink.
     */
    private static void awayFrom(double[] values, Hard y, double[] kinks, double gap, String what) {
        for (int i = 0; i < values.length; i++) {
            if (y != null && y.labels[i] == y.ignoreIndex) {
                continue;
            }
            for (double kink : kinks) {
                assertTrue(Math.abs(values[i] - kink) > gap, what + " [" + i + "] " + values[i] + " is at its kink "
                        + kink + ": choose other data");
            }
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
        return crossEntropy(f, y, eps, w, reduction, null);
    }

    /** {@link #crossEntropy} with {@code extra} (per sample, or null) added to each sample's loss. */
    private static NDArray crossEntropy(NDArray f, Hard y, double eps, double[] w, String reduction, NDArray extra) {
        NDManager m = f.getManager();
        NDArray q = y.oneHot.mul(1 - eps).add(eps / C);
        NDArray l = f.logSoftmax(1).mul(q).mul(m.create(w, new Shape(1, C))).sum(new int[] {1}).neg().mul(y.valid);
        l = extra == null ? l : l.add(extra);
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
            case "cosface", "arcface", "combined_margin", "adaface", "magface", "curricularface", "elasticface",
                 "subcenter_arcface" -> p.number("s", 64);
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
     * With {@code k = subCentres > 1} per class ({@code C k} rows of weights, class {@code c}'s rows
     * {@code c k .. c k + k - 1}), row {@code n}'s angle is from its class's sub-centre {@code n mod k}
     * (the class's cosine is the largest of its sub-centres', so that angle or a smaller one).
     */
    private static DjlRuns.MarginData angledData(Random random, int ignoreIndex, float[] classWeights,
                                                  int subCentres) {
        float[] w = Random2.uniform(random, C * subCentres, D, 2);
        float[] x = Random2.uniform(random, N, D, 2);
        int[] labels = Random2.labels(random, N, C);
        labels[IGNORED] = ignoreIndex;
        for (int n = 0; n < N; n++) {
            if (n == IGNORED) {
                continue;
            }
            double[] u = unit(w, (labels[n] * subCentres + n % subCentres) * D, null);
            double[] v = unit(Random2.uniform(random, 1, D, 1), 0, u);
            double r = 0.5 + 2.5 * random.nextDouble();
            for (int k = 0; k < D; k++) {
                x[n * D + k] = (float) (r * (Math.cos(THETAS[n]) * u[k] + Math.sin(THETAS[n]) * v[k]));
            }
        }
        return new DjlRuns.MarginData(N, C * subCentres, D, x, w, labels, classWeights, DataType.FLOAT32);
    }

    /** The sub-centres per class: subcenter_arcface's {@code k} (documented default 3), else 1. */
    private static int subCentres(Parameters p) {
        return p.name().equals("subcenter_arcface") ? (int) p.number("k", 3) : 1;
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
