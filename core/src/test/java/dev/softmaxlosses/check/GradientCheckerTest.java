package dev.softmaxlosses.check;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GradientCheckerTest {

    /** f(x) = sum x_i^3 / 3, f' = x^2. */
    private static double cubes(float[] x, float[] grad, double gradientFactor) {
        double f = 0;
        for (int i = 0; i < x.length; i++) {
            f += Math.pow(x[i], 3) / 3;
            grad[i] = (float) (gradientFactor * x[i] * x[i]);
        }
        return f;
    }

    @Test
    void acceptsACorrectGradientAndRestoresTheInputs() {
        float[] x = {0.5f, -1.25f, 2f, 0.1f};
        float[] before = x.clone();
        GradientChecker.Report report = GradientChecker.builder().threshold(1e-3).build().check(x, (in, g) -> cubes(in, g, 1));
        assertTrue(report.passed(), report.toString());
        assertEquals(4, report.checked());
        assertArrayEquals(before, x);
    }

    @Test
    void catchesAGradientThatIsOffByTenPercent() {
        float[] x = {0.5f, -1.25f, 2f};
        GradientChecker.Report report = GradientChecker.builder().build().check(x, (in, g) -> cubes(in, g, 1.1));
        assertFalse(report.passed());
        assertThrows(AssertionError.class, () -> report.assertPassed("cubes"));
    }

    @Test
    void skipsKinksWhenAsked() {
        // |x| at 0 has no derivative; this sub-gradient convention says +1 there, central differences say 0.
        float[] x = {0f, 1.5f};
        GradientChecker.Differentiable abs = (in, g) -> {
            double f = 0;
            for (int i = 0; i < in.length; i++) {
                f += Math.abs(in[i]);
                g[i] = in[i] >= 0 ? 1 : -1;
            }
            return f;
        };
        assertFalse(GradientChecker.builder().build().check(x, abs).passed());
        GradientChecker.Report report = GradientChecker.builder().skipKinks(true).build().check(x, abs);
        assertTrue(report.passed());
        assertEquals(1, report.skipped());
        assertEquals(1, report.checked());
    }

    @Test
    void skipsWhatThePredicateSays() {
        float[] x = {1, 2};
        GradientChecker.Report report = GradientChecker.builder().build().check(x, (in, g) -> cubes(in, g, 2), i -> true);
        assertTrue(report.passed());
        assertEquals(2, report.skipped());
    }
}
