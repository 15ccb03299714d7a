package dev.softmaxlosses.logits;

import dev.softmaxlosses.kernel.KernelSupport;
import dev.softmaxlosses.kernel.RowParallel;

/**
 * The hand-over of a row's maximum from the row before it. A long row is read from memory first by
 * its maximum's pass, which waits on memory alone; the row before computes it instead, inside its
 * own exponential pass ({@link KernelSupport#expSumAndMax}), where the reads overlap the arithmetic.
 * The slot is per thread: {@link RowParallel} runs each chunk's rows in order on one thread, and
 * the first row of a chunk computes its own maximum. The value handed over is the one
 * {@link KernelSupport#max} gives, so results keep their bits.
 */
final class CarriedMax {

    /**
     * Rows shorter than this compute their own maximum: in the cache, the hand-over costs more than
     * it hides. Measured at 1024x1000 and 256x32768.
     */
    static final int MIN_COLS = 4096;

    private static final ThreadLocal<float[]> SLOT = ThreadLocal.withInitial(() -> new float[1]);

    private CarriedMax() {}

    /** This thread's slot when rows of {@code cols} values hand their maximum on, else null. */
    static float[] slot(int cols) {
        return cols >= MIN_COLS ? SLOT.get() : null;
    }

    /** Row n's maximum: handed over in the slot, or computed when n starts a chunk or there is no slot. */
    static float rowMax(KernelSupport k, float[] slot, float[] z, int n, int cols) {
        return slot != null && n % RowParallel.CHUNK_ROWS != 0 ? slot[0] : k.max(z, n * cols, cols);
    }

    /** The slot if row n is to compute the next row's maximum (not the last of its chunk or batch), else null. */
    static float[] handOn(float[] slot, int n, int rows) {
        return slot != null && (n + 1) % RowParallel.CHUNK_ROWS != 0 && n + 1 < rows ? slot : null;
    }
}
