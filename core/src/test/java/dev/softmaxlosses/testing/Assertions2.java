package dev.softmaxlosses.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.function.Executable;

/** Float32-tolerance comparisons against double references, and message assertions. */
public final class Assertions2 {
    /** Relative tolerance of a float32 result (a few ulps of accumulated rounding). */
    public static final double REL = 2e-5;
    /** Absolute tolerance, for values near zero. */
    public static final double ABS = 2e-6;

    private Assertions2() {}

    public static void assertClose(double expected, double actual, String what) {
        assertClose(expected, actual, REL, ABS, what);
    }

    public static void assertClose(double expected, double actual, double rel, double abs, String what) {
        if (Double.isNaN(actual)) {
            fail(what + ": got NaN, expected " + expected);
        }
        if (expected == actual) {
            return;
        }
        double tolerance = Math.max(abs, rel * Math.abs(expected));
        if (!(Math.abs(expected - actual) <= tolerance)) {
            fail(what + ": expected " + expected + " but got " + actual + " (tolerance " + tolerance + ")");
        }
    }

    public static void assertAllClose(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            assertClose(expected[i], actual[i], what + "[" + i + "]");
        }
    }

    public static void assertAllClose(double[][] expected, float[] actual, String what) {
        int cols = expected.length == 0 ? 0 : expected[0].length;
        assertEquals(expected.length * cols, actual.length, what + " length");
        for (int r = 0; r < expected.length; r++) {
            for (int c = 0; c < cols; c++) {
                assertClose(expected[r][c], actual[r * cols + c], what + "[" + r + "][" + c + "]");
            }
        }
    }

    public static void assertAllFinite(float[] values, String what) {
        for (int i = 0; i < values.length; i++) {
            if (Float.isNaN(values[i]) || values[i] == Float.POSITIVE_INFINITY) {
                fail(what + "[" + i + "] is " + values[i]);
            }
        }
    }

    /** The call throws an IllegalArgumentException whose message contains every fragment. */
    public static IllegalArgumentException assertRejected(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String fragment : fragments) {
            if (!e.getMessage().contains(fragment)) {
                fail("message \"" + e.getMessage() + "\" does not contain \"" + fragment + "\"");
            }
        }
        return e;
    }
}
