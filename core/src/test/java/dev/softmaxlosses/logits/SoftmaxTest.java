package dev.softmaxlosses.logits;

import static dev.softmaxlosses.testing.Assertions2.assertClose;
import static dev.softmaxlosses.testing.Assertions2.assertRejected;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.softmaxlosses.FloatMatrix;

import org.junit.jupiter.api.Test;

/** The seeds' worked examples of softmax and log-sum-exp. */
class SoftmaxTest {

    private static FloatMatrix row(float... values) {
        return new FloatMatrix(values, 1, values.length);
    }

    private static void assertSoftmax(float[] logits, double[] expected, double tolerance) {
        float[] p = Softmax.softmax(row(logits)).data();
        for (int i = 0; i < expected.length; i++) {
            assertClose(expected[i], p[i], tolerance, 1e-16, "softmax[" + i + "]");
        }
    }

    @Test
    void softmaxOfOneToFour() {
        assertSoftmax(new float[] {1, 2, 3, 4}, new double[] {0.0321, 0.0871, 0.2369, 0.6439}, 2e-3);
        assertClose(4.4402, Softmax.logSumExp(row(1, 2, 3, 4), 1.0)[0], 1e-4, 0, "lse");
    }

    @Test
    void softmaxOfOneToFourTimesTenIsNearlyOneHot() {
        assertSoftmax(new float[] {10, 20, 30, 40}, new double[] {9.36e-14, 2.06e-9, 4.54e-5, 1.00}, 3e-3);
        assertClose(40.00, Softmax.logSumExp(row(10, 20, 30, 40), 1.0)[0], 1e-4, 0, "lse");
    }

    @Test
    void softmaxOfOneToFourOverTenIsNearlyUniform() {
        assertSoftmax(new float[] {0.1f, 0.2f, 0.3f, 0.4f}, new double[] {0.2138, 0.2363, 0.2612, 0.2887}, 3e-4);
        assertClose(1.6425, Softmax.logSumExp(row(0.1f, 0.2f, 0.3f, 0.4f), 1.0)[0], 1e-4, 0, "lse");
    }

    @Test
    void temperatureDividesTheLogits() {
        float[] scaled = Softmax.softmax(row(10, 20, 30, 40), 10.0).data();
        float[] divided = Softmax.softmax(row(1, 2, 3, 4)).data();
        for (int i = 0; i < 4; i++) {
            assertClose(divided[i], scaled[i], "softmax[" + i + "]");
        }
    }

    @Test
    void softmaxOfTheSurveysThreeClassExample() {
        assertSoftmax(new float[] {1.5f, 1.2f, 1.0f}, new double[] {0.42601251, 0.31559783, 0.25838965}, 1e-6);
        assertSoftmax(new float[] {7.5f, 6f, 5f}, new double[] {0.76615721, 0.17095278, 0.06289001}, 1e-6);
    }

    @Test
    void aGapOfFiveGivesNinetyEightPointSevenPercent() {
        float[] p = Softmax.softmax(row(10, 5, 5)).data();
        assertEquals(0.987, p[0], 5e-4);
    }

    @Test
    void logSoftmaxIsTheLogOfSoftmax() {
        float[] logP = Softmax.logSoftmax(row(1, 2, 3, 4), 1.0).data();
        float[] p = Softmax.softmax(row(1, 2, 3, 4)).data();
        for (int i = 0; i < 4; i++) {
            assertClose(Math.log(p[i]), logP[i], "log_softmax[" + i + "]");
        }
    }

    @Test
    void maskedClassHasProbabilityZero() {
        float[] p = Softmax.softmax(row(1, Float.NEGATIVE_INFINITY, 1)).data();
        assertEquals(0f, p[1]);
        assertEquals(0.5f, p[0], 1e-7f);
    }

    @Test
    void hugeLogitsDoNotOverflow() {
        float[] p = Softmax.softmax(row(30000, -30000, 29999)).data();
        assertClose(1 / (1 + Math.exp(-1)), p[0], "p0");
        assertEquals(0f, p[1]);
    }

    @Test
    void rejectsNonPositiveTemperatureAndNaN() {
        assertRejected(() -> Softmax.softmax(row(1, 2), 0.0), "temperature must be a finite number > 0, got 0.0");
        assertRejected(() -> Softmax.softmax(row(1, Float.NaN)), "logits[0][1] is NaN");
    }

    /** {@code z / T} of about 1e10 rounds by up to 512, beyond the fused exponentials' range. */
    @Test
    void largeLogitsWithATemperatureGiveFiniteResults() {
        FloatMatrix logits = row(3e9f, 0, -1e9f);
        float[] p = Softmax.softmax(logits, 0.3).data();
        assertEquals(1f, p[0]);
        assertEquals(0f, p[1]);
        assertClose(1e10, Softmax.logSumExp(logits, 0.3)[0], "lse");
        float[] logP = Softmax.logSoftmax(logits, 0.3).data();
        assertEquals(0f, logP[0]);
        assertClose(-1e10, logP[1], "log p1");
    }
}
