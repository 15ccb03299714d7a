package dev.softmaxlosses.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ScalarKernelsTest {

    @Test
    void polynomialExpIsWithinTwoUlpsOfMathExp() {
        double worst = 0;
        for (int i = 0; i <= 200_000; i++) {
            float x = -87.3f * i / 200_000f; // below ln(Float.MIN_NORMAL) the result flushes to 0 by design
            double exact = Math.exp(x);
            worst = Math.max(worst, Math.abs(ScalarKernels.exp(x) - exact) / Math.ulp((float) exact));
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulps");
        assertEquals(1f, ScalarKernels.exp(0f));
        assertEquals(0f, ScalarKernels.exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, ScalarKernels.exp(-100f));
    }
}
