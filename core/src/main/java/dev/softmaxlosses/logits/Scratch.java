package dev.softmaxlosses.logits;

/** A row of scratch floats per thread, grown to the longest row asked for: final logits that must be rounded first. */
final class Scratch {

    private static final ThreadLocal<float[][]> ROW = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    private Scratch() {}

    /** This thread's scratch row of at least {@code cols} values. */
    static float[] row(int cols) {
        float[][] holder = ROW.get();
        if (holder[0].length < cols) {
            holder[0] = new float[cols];
        }
        return holder[0];
    }
}
