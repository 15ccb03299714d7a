package dev.softmaxlosses;

import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.LogitCases;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.softmaxlosses.text.Text;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.StreamingMarginHead;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Every loss, on inputs and parameters drawn from the float32 extremes, either returns finite values
 * everywhere or throws an IllegalArgumentException with a one-line message of bounded length.
 */
class HostileInputTest {

    private static final float[] EXTREMES = {0, 1, -1, 2.5f, -7, 3e38f, -3e38f, 1e-30f, 1e30f, -1e30f, 1e-45f,
            Float.NEGATIVE_INFINITY, 1e9f, -1e9f, 88, -88, 1e19f, 1e-19f};

    private static final String[] SPECS = {"softmax_cross_entropy", "softmax_cross_entropy:temperature=0.3",
            "softmax_cross_entropy:temperature=1e-30,label_smoothing=0.5", "softmax_cross_entropy:temperature=3e38",
            "softmax_cross_entropy:class_balance=batch", "focal", "focal:gamma=0.5,alpha=1e30", "focal:gamma=1e30",
            "distillation", "distillation:temperature=1e-30", "distillation:temperature=3e38,alpha=0.5",
            "distillation:temperature=1e10,alpha=1", "multiclass_hinge", "multiclass_hinge:margin=3e38",
            "multiclass_hinge:margin=-3e38", "max_hinge:margin=1e38", "lse_hinge:margin=-1e38", "softplus_lse:scale=3e38",
            "softplus_lse:scale=1e-30,margin=3e38", "softplus_lse:scale=7.3,margin=1e30", "normface", "normface:s=1e38",
            "cosface:s=1e37,m=10", "arcface", "arcface:s=1e30", "arcface:easy_margin=true,s=1e20",
            "combined_margin:m1=1e30,m2=3,m3=1e30", "combined_margin:m1=-5,s=1e30", "sphereface", "sphereface:m=4096,lambda=1e38",
            "lsoftmax:m=17", "l2_softmax:alpha=1e38", "l2_softmax", "cosface:label_smoothing=0.9,reduction=sum"};

    @Test
    void everyLossReturnsFiniteValuesOrRefusesOnOneLine() {
        Random random = new Random(20240601);
        int computed = 0;
        for (int trial = 0; trial < 4000; trial++) {
            String spec = SPECS[random.nextInt(SPECS.length)];
            int n = 1 + random.nextInt(4);
            int c = 1 + random.nextInt(5);
            int d = 1 + random.nextInt(3);
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) {
                labels[i] = random.nextInt(8) == 0 ? -100 : random.nextInt(c);
            }
            LossInput.Builder b = LossInput.builder().labels(labels);
            boolean margin = spec.matches("(normface|cosface|arcface|combined_margin|sphereface|lsoftmax|l2_softmax).*");
            if (margin) {
                b.features(matrix(random, n, d)).weights(matrix(random, c, d));
            } else {
                b.logits(matrix(random, n, c));
                if (spec.startsWith("distillation")) {
                    b.teacherLogits(matrix(random, n, c));
                }
            }
            if (random.nextInt(4) == 0 && spec.matches("(softmax_cross_entropy|focal|normface|cosface|arcface|l2_softmax).*")) {
                float[] w = new float[c];
                for (int i = 0; i < c; i++) {
                    w[i] = Math.abs(draw(random));
                }
                b.classWeights(w);
            }
            LossInput input = b.build();
            String what = spec + " on " + describe(input);
            List<LossResult> results = new ArrayList<>();
            try {
                Loss loss = LossRegistry.create(spec);
                if (loss instanceof MarginLoss marginLoss) {
                    FeatureBatch batch = new FeatureBatch(input.features(), input.weights(), input.labels(),
                            input.classWeights());
                    results.add(marginLoss.compute(batch));
                    results.add(new StreamingMarginHead(marginLoss, 1 + random.nextInt(3)).compute(batch));
                } else {
                    results.add(LogitCases.compute((LogitLoss) loss, input));
                }
            } catch (IllegalArgumentException e) {
                String message = e.getMessage();
                assertTrue(Text.indexOfControl(message) < 0 && message.length() < 400, what + ": " + message);
                continue;
            } catch (RuntimeException | Error e) {
                fail(what + " threw " + e, e);
            }
            for (LossResult r : results) {
                assertFinite(r, what);
            }
            computed++;
        }
        assertTrue(computed > 1000, computed + " trials computed");
    }

    private static float draw(Random random) {
        return random.nextInt(3) == 0 ? (float) random.nextGaussian() : EXTREMES[random.nextInt(EXTREMES.length)];
    }

    private static float[][] matrix(Random random, int rows, int cols) {
        float[][] m = new float[rows][cols];
        for (float[] row : m) {
            for (int i = 0; i < cols; i++) {
                row[i] = draw(random);
            }
        }
        return m;
    }

    private static void assertFinite(LossResult r, String what) {
        assertTrue(Double.isFinite(r.loss()) && Double.isFinite(r.gradScale()), what + ": loss " + r.loss());
        for (float[] values : new float[][] {r.losses(), r.probabilities(), r.logSumExp(), r.gradLogits(),
                r.gradFeatures(), r.gradWeights()}) {
            for (int i = 0; values != null && i < values.length; i++) {
                assertTrue(Float.isFinite(values[i]), what + ": " + Arrays.toString(values));
            }
        }
        for (float f : r.logits()) {
            // -Infinity is a masked class, carried through to the final logits.
            assertTrue(Float.isFinite(f) || f == Float.NEGATIVE_INFINITY, what + ": logits " + Arrays.toString(r.logits()));
        }
    }

    private static String describe(LossInput input) {
        return Arrays.asList(input.logits(), input.teacherLogits(), input.features(), input.weights()).stream()
                .filter(m -> m != null).map(m -> Arrays.toString(m.data())).toList() + " labels " + Arrays.toString(input.labels())
                + " class_weights " + Arrays.toString(input.classWeights());
    }
}
