package dev.softmaxlosses.margin;

import static dev.softmaxlosses.testing.Assertions2.assertClose;
import static dev.softmaxlosses.testing.Assertions2.assertRejected;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.Random2;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The streaming head gives what the materialised path gives, to float32 rounding, for any block size. */
class StreamingMarginHeadTest {

    @ParameterizedTest
    @ValueSource(strings = {"normface", "cosface:s=30", "am_softmax", "arcface", "arcface:easy_margin=true,reduction=sum",
            "combined_margin:m1=1.2,m2=0.3,m3=0.1", "sphereface", "sphereface:m=3,lambda=2", "lsoftmax", "l2_softmax",
            "cosface:label_smoothing=0.1,reduction=none", "arcface:gradient=straight_through,label_smoothing=0.2"})
    void matchesTheMaterialisedPath(String spec) {
        Random random = new Random(spec.hashCode());
        int n = 9;
        int c = 23;
        int d = 6;
        float[] x = Random2.uniform(random, n, d, 2);
        float[] w = Random2.uniform(random, c, d, 2);
        int[] labels = Random2.labels(random, n, c);
        labels[4] = -100;
        float[] classWeights = Random2.uniform(random, 1, c, 1);
        for (int j = 0; j < c; j++) {
            classWeights[j] = Math.abs(classWeights[j]) + 0.1f;
        }
        MarginLoss loss = (MarginLoss) LossRegistry.create(spec);
        LossInput input = LossInput.builder().features(new FloatMatrix(x, n, d)).weights(new FloatMatrix(w, c, d))
                .labels(labels).classWeights(classWeights).build();
        LossResult whole = loss.compute(input);
        double scale = 1;
        for (float g : whole.gradWeights()) {
            scale = Math.max(scale, Math.abs(g));
        }
        for (int block : new int[] {1, 4, 7, 23, 1000}) {
            LossResult streamed = new StreamingMarginHead(loss, block).compute(input);
            String what = spec + " block " + block;
            assertClose(whole.loss(), streamed.loss(), 2e-5, 1e-6, what + " loss");
            for (int r = 0; r < n; r++) {
                assertClose(whole.losses()[r], streamed.losses()[r], 2e-5, 1e-5, what + " losses[" + r + "]");
                assertClose(whole.logSumExp()[r], streamed.logSumExp()[r], 2e-5, 1e-5, what + " lse[" + r + "]");
            }
            for (int i = 0; i < whole.gradFeatures().length; i++) {
                assertClose(whole.gradFeatures()[i], streamed.gradFeatures()[i], 1e-4, 1e-5 * scale, what + " grad_features[" + i + "]");
            }
            for (int i = 0; i < whole.gradWeights().length; i++) {
                assertClose(whole.gradWeights()[i], streamed.gradWeights()[i], 1e-4, 1e-5 * scale, what + " grad_weights[" + i + "]");
            }
            assertClose(whole.gradScale(), streamed.gradScale(), 1e-4, 1e-5, what + " grad_scale");
        }
    }

    @Test
    void holdsNoPerClassOutputs() {
        LossResult r = LossResult.forStreaming(3, 100_000, 8);
        assertEquals(0, r.logits().length);
        assertEquals(0, r.gradLogits().length);
        assertEquals(100_000 * 8, r.gradWeights().length);
        MarginLoss arc = ArcFaceLoss.builder().build();
        assertRejected(() -> arc.compute(LossInput.builder().features(new float[][] {{1, 2}}).weights(new float[][] {{1, 2}})
                .labels(0).build(), LossResult.forStreaming(1, 1, 2)), "the result buffers hold no logits");
        assertRejected(() -> new StreamingMarginHead(arc, 0), "block must be >= 1, got 0");
    }
}
