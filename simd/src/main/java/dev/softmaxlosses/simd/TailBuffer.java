package dev.softmaxlosses.simd;

import static dev.softmaxlosses.simd.Lanes.F;

import java.util.Arrays;

/**
 * Per thread, the last partial vector of a row (and of the next row) padded to a whole vector with
 * {@code -Infinity}, and room for what a kernel writes from it: so that the exponential's loop runs on
 * whole vectors only, without masks.
 */
final class TailBuffer {

    /** Where the next row's tail starts. */
    static final int NEXT = F.length();
    /** Where the output starts. */
    static final int OUT = 2 * F.length();

    private static final ThreadLocal<float[]> BUFFER = ThreadLocal.withInitial(() -> new float[3 * F.length()]);

    private TailBuffer() {}

    /** This thread's buffer holding {@code a[from .. from + count)}, and {@code a[nextFrom ..]} at {@link #NEXT} when {@code nextFrom >= 0}. */
    static float[] filled(float[] a, int from, int nextFrom, int count) {
        float[] buffer = BUFFER.get();
        System.arraycopy(a, from, buffer, 0, count);
        Arrays.fill(buffer, count, NEXT, Float.NEGATIVE_INFINITY);
        if (nextFrom >= 0) {
            System.arraycopy(a, nextFrom, buffer, NEXT, count);
            Arrays.fill(buffer, NEXT + count, OUT, Float.NEGATIVE_INFINITY);
        }
        return buffer;
    }
}
