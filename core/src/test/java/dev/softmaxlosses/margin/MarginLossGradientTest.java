package dev.softmaxlosses.margin;

import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.FeatureLoss;
import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.Loss;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.check.GradientChecker;
import dev.softmaxlosses.testing.Random2;

import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Central differences against the exact gradients for features, class weights and the scale. */
class MarginLossGradientTest {

    private static final int N = 4;
    private static final int C = 5;
    private static final int D = 3;

    static final String[] SPECS = {
            "normface", "normface:s=4,reduction=sum", "normface:label_smoothing=0.2,reduction=none",
            "cosface:s=8", "cosface:s=8,m=0.2,label_smoothing=0.1", "am_softmax:s=5,reduction=sum",
            "arcface:s=8", "arcface:s=8,m=0.3,easy_margin=true", "arcface:s=6,m=2.5", "arcface:s=4,m=0.5,ignore_index=2",
            "combined_margin:s=8", "combined_margin:s=6,m1=1.35,m2=0.25,m3=0.1", "combined_margin:s=4,m1=2,m2=0,m3=0.2",
            "sphereface", "sphereface:m=2", "sphereface:m=3,lambda=2", "sphereface:m=4,lambda=0.5,reduction=sum",
            "lsoftmax", "lsoftmax:m=1", "lsoftmax:m=3,lambda=1", "lsoftmax:m=4,reduction=none",
            "l2_softmax:alpha=4", "l2_softmax:alpha=8,label_smoothing=0.1"};

    private static FeatureLoss loss(String spec) {
        return ((FeatureLoss) LossRegistry.create(spec));
    }

    private static LossResult compute(FeatureLoss loss, float[] x, float[] w, int[] labels, float[] classWeights) {
        return loss.compute(new FeatureBatch(new FloatMatrix(x, N, D), new FloatMatrix(w, w.length / D, D), labels, classWeights));
    }

    private static float[][] data(String spec) {
        Random random = new Random(spec.hashCode());
        float[] x = Random2.uniform(random, N, D, 1.5);
        float[] w = Random2.uniform(random, C * ((MarginLoss) loss(spec.endsWith("=") ? spec + "1" : spec)).subCentres(), D, 1.5);
        return new float[][] {x, w};
    }

    private static final int[] LABELS = {2, 0, 4, 2};
    private static final float[] CLASS_WEIGHTS = {1, 0.5f, 2, 1, 0.75f};

    // Multiplicative margins have kinks at sector boundaries, hinges none: skip kinks only where they can be.
    private static GradientChecker checker(String spec) {
        return GradientChecker.builder().step(3e-3).threshold(5e-3).floor(0.05).skipKinks(spec.startsWith("s") || spec.startsWith("l")).build();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "normface", "normface:s=4,reduction=sum", "normface:label_smoothing=0.2,reduction=none",
            "cosface:s=8", "cosface:s=8,m=0.2,label_smoothing=0.1", "am_softmax:s=5,reduction=sum",
            "arcface:s=8", "arcface:s=8,m=0.3,easy_margin=true", "arcface:s=6,m=2.5", "arcface:s=4,m=0.5,ignore_index=2",
            "combined_margin:s=8", "combined_margin:s=6,m1=1.35,m2=0.25,m3=0.1", "combined_margin:s=4,m1=2,m2=0,m3=0.2",
            "sphereface", "sphereface:m=2", "sphereface:m=3,lambda=2", "sphereface:m=4,lambda=0.5,reduction=sum",
            "lsoftmax", "lsoftmax:m=1", "lsoftmax:m=3,lambda=1", "lsoftmax:m=4,reduction=none",
            "l2_softmax:alpha=4", "l2_softmax:alpha=8,label_smoothing=0.1",
            "magface:s=8,l_a=0.5,u_a=3,l_m=0.2,u_m=0.6,lambda_g=2", "magface:s=8,l_a=0.5,u_a=3,easy_margin=true,reduction=sum",
            "magface:s=6,l_a=0.5,u_a=3,lambda_g=1,label_smoothing=0.1,ignore_index=2",
            "adaface:s=8,h=0", "adaface:s=8,gradient=full,reduction=sum",
            "adaface:s=8,gradient=full,t_alpha=0.5,batch_mean=1,batch_std=0.5",
            "adaface:s=8,gradient=full,t_alpha=0.3,batch_mean=1.5,batch_std=1,label_smoothing=0.1,ignore_index=2",
            "elasticface:s=8", "elasticface:s=8,variant=cos,std=0.1,seed=3", "elasticface:s=8,m=0.3,step=5,reduction=none",
            "elasticface:s=8,variant=cos,ignore_index=2",
            "curricularface:s=8,gradient=full", "curricularface:s=8,m=0.3,t=0.5,gradient=full,reduction=sum",
            "curricularface:s=8,m=0.2,t=-0.3,gradient=full,label_smoothing=0.1,ignore_index=2",
            "subcenter_arcface:s=8,k=1", "subcenter_arcface:s=8,k=2", "subcenter_arcface:s=8,k=3,m=0.3,easy_margin=true",
            "subcenter_arcface:s=6,k=2,label_smoothing=0.1,ignore_index=2,reduction=sum"})
    void featureAndWeightGradientsMatchCentralDifferences(String spec) {
        FeatureLoss loss = loss(spec);
        float[][] xw = data(spec);
        float[] x = xw[0];
        float[] w = xw[1];
        GradientChecker.Report features = checker(spec).check(x, (in, grad) -> {
            LossResult r = compute(loss, in, w, LABELS, CLASS_WEIGHTS);
            System.arraycopy(r.gradFeatures(), 0, grad, 0, grad.length);
            return r.loss();
        });
        features.assertPassed(spec + " features");
        GradientChecker.Report weights = checker(spec).check(w, (in, grad) -> {
            LossResult r = compute(loss, x, in, LABELS, CLASS_WEIGHTS);
            System.arraycopy(r.gradWeights(), 0, grad, 0, grad.length);
            return r.loss();
        });
        weights.assertPassed(spec + " weights");
        if (features.checked() < N * D / 2 || weights.checked() < w.length / 2) {
            throw new AssertionError(spec + ": too many entries skipped as kinks");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"normface:s=", "cosface:m=0.3,s=", "arcface:m=0.4,s=", "combined_margin:m1=1.2,m2=0.2,m3=0.1,s=",
            "l2_softmax:alpha=", "magface:l_a=0.5,u_a=3,s=", "adaface:t_alpha=0.5,batch_mean=1,batch_std=0.5,s=",
            "curricularface:m=0.3,t=0.4,s=", "elasticface:variant=cos,std=0.2,s="})
    void scaleGradientMatchesCentralDifferences(String prefix) {
        float[][] xw = data(prefix);
        double s = 6;
        double h = 1e-3;
        LossResult r = compute(loss(prefix + s), xw[0], xw[1], LABELS, CLASS_WEIGHTS);
        double numeric = (compute(loss(prefix + (s + h)), xw[0], xw[1], LABELS, CLASS_WEIGHTS).loss()
                - compute(loss(prefix + (s - h)), xw[0], xw[1], LABELS, CLASS_WEIGHTS).loss()) / (2 * h);
        double error = Math.abs(numeric - r.gradScale()) / Math.max(Math.abs(numeric), 0.05);
        if (!(error < 5e-3)) {
            throw new AssertionError(prefix + ": dL/ds analytic " + r.gradScale() + " vs numeric " + numeric);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"arcface:s=8,gradient=straight_through", "combined_margin:s=8,gradient=straight_through"})
    void straightThroughTakesTheTargetSlopeAsOne(String spec) {
        // The shortcut equals the exact gradient of a loss whose target logit is s c: NormFace with the
        // margin's forward values. So it differs from the exact gradient wherever the margin bends T.
        float[][] xw = data(spec);
        LossResult shortcut = compute(loss(spec), xw[0], xw[1], LABELS, CLASS_WEIGHTS);
        LossResult exact = compute(loss(spec.replace(",gradient=straight_through", "")), xw[0], xw[1], LABELS, CLASS_WEIGHTS);
        if (shortcut.loss() != exact.loss()) {
            throw new AssertionError("the shortcut changes only the gradient, not the loss");
        }
        boolean differs = false;
        for (int i = 0; i < N * D; i++) {
            differs |= Math.abs(shortcut.gradFeatures()[i] - exact.gradFeatures()[i]) > 1e-4;
        }
        if (!differs) {
            throw new AssertionError("straight-through should differ from the exact gradient");
        }
    }
}
