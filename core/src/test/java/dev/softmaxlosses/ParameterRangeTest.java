package dev.softmaxlosses;

import dev.softmaxlosses.logits.Softmax;
import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.FeatureBatch;
import static dev.softmaxlosses.testing.Assertions2.assertAllFinite;
import static dev.softmaxlosses.testing.Assertions2.assertRejected;

import dev.softmaxlosses.FeatureLoss;
import dev.softmaxlosses.logits.DistillationLoss;
import dev.softmaxlosses.logits.FocalLoss;
import dev.softmaxlosses.logits.MulticlassHingeLoss;
import dev.softmaxlosses.logits.SoftmaxCrossEntropyLoss;
import dev.softmaxlosses.logits.SoftplusLseLoss;
import dev.softmaxlosses.margin.ArcFaceLoss;
import dev.softmaxlosses.margin.CombinedMarginLoss;
import dev.softmaxlosses.margin.CosFaceLoss;
import dev.softmaxlosses.margin.L2SoftmaxLoss;
import dev.softmaxlosses.margin.LSoftmaxLoss;
import dev.softmaxlosses.margin.NormFaceLoss;
import dev.softmaxlosses.margin.SphereFaceLoss;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every kernel computes in float32: parameters must be float32 numbers, from a spec or a builder. */
class ParameterRangeTest {

    private static final String RANGE = "[-3.4028235E38, 3.4028235E38]";

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "focal:alpha=1e308|alpha|focal|1e308",
            "normface:s=1e308|s|normface|1e308",
            "cosface:m=1e308|m|cosface|1e308",
            "cosface:m=-1e39|m|cosface|-1e39",
            "softmax_cross_entropy:temperature=Infinity|temperature|softmax_cross_entropy|Infinity",
            "distillation:temperature=3.5e38|temperature|distillation|3.5e38",
            "max_hinge:margin=-Infinity|margin|max_hinge|-Infinity",
            "combined_margin:m1=1e39|m1|combined_margin|1e39",
            "focal:gamma=NaN|gamma|focal|NaN"})
    void rejectsSpecNumbersOutsideTheFloat32Range(String spec, String parameter, String loss, String value) {
        assertRejected(() -> LossRegistry.create(spec), "parameter " + parameter + " of " + loss
                + " must be a finite number within the float32 range " + RANGE + ", got '" + value + "'");
    }

    @Test
    void buildersRejectTheSameValuesNamingTheParameter() {
        String outside = " is outside the float32 range " + RANGE + " that the kernels compute in";
        assertRejected(() -> FocalLoss.builder().alpha(1e308).build(), "alpha = 1.0E308" + outside);
        assertRejected(() -> FocalLoss.builder().gamma(1e39).build(), "gamma = 1.0E39" + outside);
        assertRejected(() -> NormFaceLoss.builder().scale(1e308).build(), "s = 1.0E308" + outside);
        assertRejected(() -> CosFaceLoss.builder().margin(1e308).build(), "m = 1.0E308" + outside);
        assertRejected(() -> CosFaceLoss.builder().margin(-1e39).build(), "m = -1.0E39" + outside);
        assertRejected(() -> ArcFaceLoss.builder().scale(1e39).build(), "s = 1.0E39" + outside);
        assertRejected(() -> CombinedMarginLoss.builder().margins(1, 1e39, 0).build(), "m2 = 1.0E39" + outside);
        assertRejected(() -> L2SoftmaxLoss.builder().alpha(1e39).build(), "alpha = 1.0E39" + outside);
        assertRejected(() -> SphereFaceLoss.builder().lambda(1e39).build(), "lambda = 1.0E39" + outside);
        assertRejected(() -> SoftmaxCrossEntropyLoss.builder().temperature(1e39).build(), "temperature = 1.0E39" + outside);
        assertRejected(() -> DistillationLoss.builder().temperature(1e300).build(), "temperature = 1.0E300" + outside);
        assertRejected(() -> new SoftplusLseLoss(0, Float.POSITIVE_INFINITY, -100, Reduction.MEAN),
                "scale must be a finite number > 0, got Infinity");
        assertRejected(() -> new MulticlassHingeLoss(Float.NEGATIVE_INFINITY, -100, Reduction.MEAN),
                "margin must be a finite number, got -Infinity");
    }

    @Test
    void aTemperatureMustHaveAFloat32Reciprocal() {
        String below = " is below 2^-126 (1.1754944E-38): the logits are multiplied by 1 / temperature, which must be a float32 number";
        assertRejected(() -> SoftmaxCrossEntropyLoss.builder().temperature(1e-40).build(), "temperature = 1.0E-40" + below);
        assertRejected(() -> DistillationLoss.builder().temperature(1e-300).build(), "temperature = 1.0E-300" + below);
        assertRejected(() -> LossRegistry.create("softmax_cross_entropy:temperature=1e-39"), "temperature = 1.0E-39" + below);
        FloatMatrix logits = new FloatMatrix(new float[] {0, 0, Float.NEGATIVE_INFINITY}, 1, 3);
        assertRejected(() -> Softmax.softmax(logits, 1e-39), "temperature = 1.0E-39" + below);
        assertRejected(() -> Softmax.logSumExp(logits, 1e39), "temperature = 1.0E39 is outside the float32 range");
        assertAllFinite(Softmax.softmax(logits, Float.MIN_NORMAL).data(), "softmax at the smallest temperature");
        assertAllFinite(Softmax.softmax(logits, Float.MAX_VALUE).data(), "softmax at the largest temperature");
    }

    @Test
    void theIntegerMarginOfTheMultiplicativeLossesIsAtMost4096() {
        assertRejected(() -> LossRegistry.create("sphereface:m=2147483647"), "m must be an integer >= 1 and <= 4096, got 2147483647");
        assertRejected(() -> LossRegistry.create("lsoftmax:m=4097"), "m must be an integer >= 1 and <= 4096, got 4097");
        assertRejected(() -> LSoftmaxLoss.builder().margin(-3).build(), "m must be an integer >= 1 and <= 4096, got -3");
        FeatureBatch input = FeatureBatch.of(FloatMatrix.of("features", new float[][] {{1, 0.5f}, {-0.3f, 2}}), FloatMatrix.of("weights", new float[][] {{1, 0}, {0, 1}, {0.6f, -0.8f}}), new int[] {0, 2});
        for (String spec : new String[] {"sphereface:m=4096", "lsoftmax:m=4096"}) {
            LossResult r = ((FeatureLoss) LossRegistry.create(spec)).compute(input);
            assertAllFinite(r.losses(), spec + " losses");
            assertAllFinite(r.gradFeatures(), spec + " grad_features");
            assertAllFinite(r.gradWeights(), spec + " grad_weights");
        }
    }
}
