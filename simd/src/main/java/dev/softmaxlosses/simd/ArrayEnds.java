package dev.softmaxlosses.simd;

import static dev.softmaxlosses.simd.Lanes.F;

import java.util.Arrays;

/**
 * Room for a row whose last partial vector would reach past the end of its array. The kernels load and
 * store that vector under a mask; a masked access whose whole vector lies inside the array is one
 * instruction, but one whose vector does not is compiled to the Vector API's checked path, which
 * allocates on every call. Such a row (the last of a batch, once per call) is copied into this
 * thread's buffers, padded to whole vectors, and the kernel runs there: the same operations, the same
 * bits.
 */
final class ArrayEnds {

    private ArrayEnds() {}

    /** Per thread: two buffers, grown as rows need. */
    private static final ThreadLocal<float[][]> BUFFERS = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0]});

    /** {@code len} rounded up to whole vectors. */
    private static int padded(int len) {
        return (len + F.length() - 1) / F.length() * F.length();
    }

    /** Whether the vectors over {@code a[off .. off + len)} all lie inside {@code a} (true when {@code a} is null). */
    static boolean fits(float[] a, int off, int len) {
        return a == null || off <= a.length - padded(len);
    }

    /** Buffer {@code k} (0 or 1) with room for {@code len} values in whole vectors, and as many again after them. */
    static float[] room(int k, int len) {
        float[][] buffers = BUFFERS.get();
        if (buffers[k].length < 2 * padded(len)) {
            buffers[k] = new float[2 * padded(len)];
        }
        return buffers[k];
    }

    /** {@code a[off .. off + len)} at the start of buffer {@code k}. */
    static float[] copy(int k, float[] a, int off, int len) {
        float[] buffer = room(k, len);
        System.arraycopy(a, off, buffer, 0, len);
        return buffer;
    }

    /** {@code a[off .. off + len)} after a row of {@code len} in {@code buffer}, whole vectors on; returns where it starts. */
    static int append(float[] buffer, float[] a, int off, int len) {
        int at = padded(len);
        System.arraycopy(a, off, buffer, at, len);
        Arrays.fill(buffer, at + len, 2 * at, 0f);
        return at;
    }
}
