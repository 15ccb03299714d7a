package dev.softmaxlosses.lab.train;

import dev.softmaxlosses.check.GradientChecker;
import dev.softmaxlosses.spec.LossRegistry;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each layer's backward pass against central differences ({@link GradientChecker}, Caffe's way): the
 * input gradient and every parameter's gradient, of the scalar {@code sum(r * output)} for a fixed
 * random {@code r}. Then the whole network with each kind of head, through a real loss.
 */
class LayerGradientTest {

    private static final int N = 5;

    private static float[] random(int length, Random random) {
        float[] x = new float[length];
        for (int i = 0; i < length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    /** Checks the input gradient and each parameter gradient of {@code layer} at {@code input}. */
    private static void check(Layer layer, float[] input, GradientChecker checker, String what) {
        Random random = new Random(11);
        float[] r = random(N * layer.outputSize(), random);
        checker.check(input, (x, grad) -> {
            double value = dot(layer.forward(x, N, true), r);
            System.arraycopy(layer.backward(r, true), 0, grad, 0, grad.length);
            return value;
        }).assertPassed(what + ": input");
        for (Parameter p : layer.parameters()) {
            checker.check(p.value(), (x, grad) -> {
                double value = dot(layer.forward(input, N, true), r);
                layer.backward(r, true);
                System.arraycopy(p.grad(), 0, grad, 0, grad.length);
                return value;
            }).assertPassed(what + ": " + p.name());
        }
    }

    private static GradientChecker smooth() {
        return GradientChecker.builder().step(1e-2).threshold(1e-2).build();
    }

    private static GradientChecker kinked() {
        return GradientChecker.builder().step(1e-3).threshold(1e-2).skipKinks(true).build();
    }

    @Test
    void denseLayerWithAndWithoutBias() {
        Random random = new Random(1);
        check(new Dense("d", 4, 3, true, random), random(N * 4, random), smooth(), "dense");
        check(new Dense("d", 4, 3, false, random), random(N * 4, random), smooth(), "dense without bias");
    }

    @Test
    void relu() {
        Random random = new Random(2);
        check(new Relu(6), random(N * 6, random), kinked(), "relu");
    }

    @Test
    void preluIncludingItsSlopes() {
        Random random = new Random(3);
        PRelu layer = new PRelu("p", 6);
        for (int j = 0; j < 6; j++) {
            layer.parameters().get(0).value()[j] = 0.1f * (j + 1);
        }
        check(layer, random(N * 6, random), kinked(), "prelu");
    }

    @Test
    void batchNormThroughTheBatchStatistics() {
        Random random = new Random(4);
        BatchNorm layer = new BatchNorm("bn", 3);
        float[] gamma = layer.parameters().get(0).value();
        float[] beta = layer.parameters().get(1).value();
        for (int j = 0; j < 3; j++) {
            gamma[j] = 0.5f + j;
            beta[j] = j - 1f;
        }
        check(layer, random(N * 3, random), smooth(), "batch norm");
    }

    @Test
    void batchNormInInferenceUsesTheRunningStatistics() {
        BatchNorm layer = new BatchNorm("bn", 1);
        float[] x = {1, 3};
        layer.forward(x, 2, true);
        // running mean 0.1 * 2, running variance 0.9 + 0.1 * 2 (unbiased variance of {1, 3})
        float[] y = layer.forward(new float[] {0.2f}, 1, false);
        assertTrue(Math.abs(y[0] - (0.2 - 0.2) / Math.sqrt(1.1 + BatchNorm.EPS)) < 1e-6);
    }

    /** The whole network and head, through a real loss: every parameter's gradient. */
    @ParameterizedTest
    @ValueSource(strings = {"softmax_cross_entropy:label_smoothing=0.1", "focal:gamma=2", "cosface:s=4,m=0.2",
            "lsoftmax:m=2,lambda=1"})
    void networkAndHeadThroughALoss(String spec) {
        Random random = new Random(5);
        int classes = 3;
        Mlp network = new Mlp(4, new int[] {6}, 2, Activation.PRELU, true, random);
        Head head = Head.forLoss(LossRegistry.create(spec), 2, classes, random);
        float[] input = random(N * 4, random);
        int[] labels = {0, 1, 2, 1, 0};
        List<Parameter> parameters = new java.util.ArrayList<>(network.parameters());
        parameters.addAll(head.parameters());
        GradientChecker checker = GradientChecker.builder().step(1e-3).threshold(2e-2).skipKinks(true).build();
        for (Parameter p : parameters) {
            checker.check(p.value(), (x, grad) -> {
                float[] embedding = network.forward(input, N, true);
                Head.Step step = head.train(embedding, N, labels, 0.1);
                network.backward(step.gradEmbedding());
                System.arraycopy(p.grad(), 0, grad, 0, grad.length);
                return step.loss();
            }).assertPassed(spec + ": " + p.name());
        }
    }
}
