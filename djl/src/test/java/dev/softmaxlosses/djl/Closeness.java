package dev.softmaxlosses.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** The two comparisons of the adapters' tests: bit for bit, and within a stated float32 tolerance. */
final class Closeness {

    private Closeness() {
    }

    /**
     * Equal bit for bit ({@link Float#floatToIntBits}: {@code -0} is not {@code 0}). A failure names the
     * first difference and how many there are.
     */
    static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        int differ = 0;
        int first = -1;
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                differ++;
                first = first < 0 ? i : first;
            }
        }
        if (differ > 0) {
            fail(what + ": " + differ + " of " + expected.length + " values differ from the library's bits; first ["
                    + first + "] expected " + expected[first] + " got " + actual[first]);
        }
    }

    /**
     * {@code |actual - expected| <= rel * max(|expected|, floor * max|expected|)} for every entry: relative
     * {@code rel}, and for entries far below the array's largest, relative to {@code floor} times it
     * (their float32 rounding comes from terms of the size of the largest).
     */
    static void assertClose(double[] expected, float[] actual, double rel, double floor, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double largest = 0;
        for (double e : expected) {
            largest = Math.max(largest, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            double tolerance = rel * Math.max(Math.abs(expected[i]), floor * largest);
            if (!(Math.abs(actual[i] - expected[i]) <= tolerance)) {
                fail(what + "[" + i + "]: expected " + expected[i] + " got " + actual[i] + " (relative error "
                        + Math.abs(actual[i] - expected[i]) / Math.abs(expected[i]) + ", tolerance " + tolerance + ")");
            }
        }
    }

    /** {@code values} widened to double, for {@link #assertClose}. */
    static double[] widen(float... values) {
        double[] wide = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            wide[i] = values[i];
        }
        return wide;
    }
}
