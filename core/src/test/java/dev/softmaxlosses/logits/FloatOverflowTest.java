package dev.softmaxlosses.logits;

import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.LogitCases;

import static dev.softmaxlosses.testing.Assertions2.assertAllFinite;
import static dev.softmaxlosses.testing.Assertions2.assertRejected;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.softmaxlosses.Loss;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.Reduction;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The per-sample overflow rule of the row drivers: a loss or gradient beyond the float32 range is an
 * error naming the sample, the value and what to lower, never Infinity or NaN.
 */
class FloatOverflowTest {

    private static final String BEYOND = ", beyond the float32 range (3.4028235E38): ";

    private static LossResult compute(String spec, float[][] logits, int... labels) {
        return LogitCases.compute(LossRegistry.create(spec), LossInput.builder().logits(logits).labels(labels).build());
    }

    @Test
    void rejectsACrossEntropyLossBeyondFloat32NamingTheSampleAndTheSpread() {
        float[][] logits = {{0, 1, 2}, {3e38f, -3e38f, 0}};
        String message = "the loss of sample 1 is 6.0E38" + BEYOND
                + "lower the spread of logits[1] (6.0E38, from -3.0E38 to 3.0E38)";
        assertRejected(() -> compute("softmax_cross_entropy", logits, 0, 1), message);
        assertRejected(() -> SoftmaxCrossEntropyLoss.create().forwardBackward(new float[] {0, 1, 2, 3e38f, -3e38f, 0},
                new int[] {0, 1}, 2, 3, new float[6]), message);
        assertRejected(() -> compute("softmax_cross_entropy:label_smoothing=0.1", logits, 0, 1), "the loss of sample 1 is ");
    }

    @Test
    void blamesTheClassWeightsOrTheTemperatureWhenTheyMakeTheLossOverflow() {
        LossInput input = LossInput.builder().logits(new float[][] {{10, 0, 5}}).labels(1).classWeights(1, 1e38f, 1).build();
        assertRejected(() -> LogitCases.compute(SoftmaxCrossEntropyLoss.create(), input),
                "the loss of sample 0 is 1.000676E39" + BEYOND + "lower class_weights (up to 1.0E38), which multiply it");
        assertRejected(() -> compute("softmax_cross_entropy:temperature=1e-30", new float[][] {{3e8f, -3e8f}}, 1),
                "the loss of sample 0 is 6.0E38" + BEYOND + "raise temperature = 1.0E-30, which divides the logits");
        assertRejected(() -> compute("focal:alpha=1e38,gamma=0", new float[][] {{0, 10}}, 0),
                "the loss of sample 0 is 1.0000045E39" + BEYOND + "lower alpha = 1.0E38, which multiplies it");
    }

    @ParameterizedTest
    @ValueSource(strings = {"multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse"})
    void blamesAMarginThatOutweighsTheSpread(String name) {
        assertRejected(() -> compute(name + ":margin=3e38", new float[][] {{1, 2, 3e38f}}, 0),
                "the loss of sample 0 is ", BEYOND + "lower margin = 3.0E38");
        assertRejected(() -> compute(name + ":margin=1", new float[][] {{1, 2}, {3e38f, -3e38f}}, 0, 1),
                "the loss of sample 1 is 6.0E38" + BEYOND + "lower the spread of logits[1] (6.0E38, from -3.0E38 to 3.0E38)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse"})
    void aHugeMarginThatTheTargetMeetsGivesFiniteValues(String name) {
        LossResult r = compute(name + ":margin=3e38,reduction=sum", new float[][] {{3e38f, -3e37f, 0}}, 0);
        assertEquals(name.equals("softplus_lse") ? Math.log(2) : 0, r.loss(), 1e-9, name);
        assertAllFinite(r.gradLogits(), name + " gradient");
        assertAllFinite(r.logits(), name + " final logits");
        assertAllFinite(r.probabilities(), name + " probabilities");
    }

    @Test
    void rejectsAGradientBeyondFloat32NamingTheParameters() {
        SoftmaxCrossEntropyLoss crossEntropy = SoftmaxCrossEntropyLoss.builder().temperature(1e-3).classWeights(3e38f, 1)
                .reduction(Reduction.SUM).build();
        assertRejected(() -> crossEntropy.forwardBackward(new float[] {0.0046f, 0}, new int[] {0}, 1, 2, new float[2]),
                "the gradient of sample 0 is not a float32 number (-Infinity for class 0): temperature = 0.001, "
                        + "class weights up to 3.0E38 and the reduction's scale 1.0 make it overflow; lower them");
        SoftmaxCrossEntropyLoss tinyWeights = SoftmaxCrossEntropyLoss.builder().classWeights(1e-45f, 1).build();
        assertRejected(() -> tinyWeights.forwardBackward(new float[] {0, 1}, new int[] {0}, 1, 2, new float[2]),
                "the gradient of sample 0 is not a float32 number (", "): temperature = 1.0, class weights up to 1.0 and "
                        + "the reduction's scale 7.1362385E44 (1 / the sum of the labels' class weights) make it overflow; "
                        + "lower them");
        FocalLoss focal = FocalLoss.builder().alpha(3e38).gamma(50).classWeights(1e28f, 1).reduction(Reduction.SUM).build();
        assertRejected(() -> focal.forwardBackward(new float[] {1, 0}, new int[] {0}, 1, 2, new float[2]),
                "the gradient of sample 0 is not a float32 number (", "): with focal:gamma=50.0,alpha=3.0E38,"
                        + "ignore_index=-100,reduction=sum and class weights up to 1.0E28 its entries can reach 1.5299999E68; "
                        + "lower the parameters");
    }

    @Test
    void aHingeTermThatOverflowsInFloatIsSummedInDouble() {
        LossResult r = compute("multiclass_hinge:margin=-3e38", new float[][] {{-3e38f, 3e38f, 0}}, 0);
        assertEquals(3e38, r.loss(), 1e32);
        assertAllFinite(r.gradLogits(), "gradient");
    }

    /**
     * Logits that a temperature scales past 2^30: the float rounding of the scaled maximum (up to 512
     * here) is beyond the fused exponentials' range, so such rows go on their float32 final logits.
     */
    @Test
    void largeLogitsWithATemperatureGiveFiniteValues() {
        float[][] logits = {{3e9f, 0, -1e9f}, {3e9f, 2.9999e9f, 0}};
        for (String spec : new String[] {"softmax_cross_entropy:temperature=0.3,reduction=none",
                "softmax_cross_entropy:temperature=0.3,reduction=none,label_smoothing=0.1"}) {
            LossResult r = compute(spec, logits, 1, 0);
            // LSE - sum_c q_c f_c with q = (1 - eps) one-hot + eps / 3, the final logits f = z / T, each LSE = f_0.
            double eps = spec.contains("smoothing") ? 0.1 : 0;
            double f01 = 2.9999e9f / 0.3;
            assertEquals(1e10 - eps / 3 * (1e10 - 1e9 / 0.3), r.losses()[0], 1e4, spec);
            assertEquals(1e10 - (1 - eps) * 1e10 - eps / 3 * (1e10 + f01), r.losses()[1], 1e4, spec);
            assertAllFinite(r.gradLogits(), spec + " gradient");
            assertEquals(1e10, r.logSumExp()[0], 1e4, spec + " lse");
            assertEquals(1, r.probabilities()[0], 1e-6, spec + " p");
        }
        LossResult hard = compute("softmax_cross_entropy:temperature=0.3,reduction=sum", logits, 1, 0);
        assertEquals(1 / 0.3, hard.gradLogits()[0], 1e-5);
        assertEquals(-1 / 0.3, hard.gradLogits()[1], 1e-5);
        float[] grad = new float[6];
        assertEquals(hard.loss(), SoftmaxCrossEntropyLoss.builder().temperature(0.3).reduction(Reduction.SUM).build()
                .forwardBackward(new float[] {3e9f, 0, -1e9f, 3e9f, 2.9999e9f, 0}, new int[] {1, 0}, 2, 3, grad), 1e4);
        LossResult soft = LogitCases.compute(SoftmaxCrossEntropyLoss.builder().temperature(0.3).build(), LossInput.builder()
                .logits(logits).targets(new float[][] {{0, 1, 0}, {1, 0, 0}}).build());
        assertEquals(1e10 / 2, soft.loss(), 1e4);
        assertAllFinite(soft.gradLogits(), "soft targets' gradient");
        LossResult softplus = compute("softplus_lse:scale=3.3,reduction=sum", new float[][] {{1e9f, 0, -1e8f}}, 1);
        assertEquals(3.3e9, softplus.loss(), 1e3);
        assertEquals(3.3, softplus.gradLogits()[0], 1e-5);
        assertEquals(-3.3, softplus.gradLogits()[1], 1e-5);
    }

    @Test
    void aFinalLogitBeyondFloat32IsRefusedNamingTheMarginAndTheLogit() {
        assertRejected(() -> compute("softplus_lse:margin=-3e38", new float[][] {{3e38f, 0}}, 0),
                "the final logit of sample 0, scale * (logits[0][0] - margin) = 6.0E38, is beyond the float32 range: "
                        + "lower margin = -3.0E38 or logits[0][0] = 3.0E38");
    }

    @Test
    void aLossThatFitsWithAGradientThatFitsIsComputed() {
        Loss loss = LossRegistry.create("softmax_cross_entropy:reduction=sum");
        LossResult r = LogitCases.compute(loss, LossInput.builder().logits(new float[][] {{1.7e38f, -1.7e38f}}).labels(1).build());
        assertEquals(3.4e38, r.loss(), 1e33);
        assertAllFinite(r.gradLogits(), "gradient");
    }
}
