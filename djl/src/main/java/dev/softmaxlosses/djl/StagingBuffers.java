package dev.softmaxlosses.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One thread's direct buffers that the gradient arrays handed to DJL alias, reused once the array
 * that held one is closed (its batch's end).
 *
 * <p>Why: a new engine array of the gradient's size is fresh memory. Under glibc's malloc, an
 * allocation of 32 MiB or more is a new {@code mmap} every time, and writing it faults in every page,
 * which costs more here than the loss itself (writing 32 MiB into a new PyTorch array: about 110 ms;
 * into a reused buffer: a few). An engine that aliases a direct buffer (PyTorch's {@code from_blob},
 * DJL's {@code create(ByteBuffer)}) takes ours instead.
 *
 * <p>A buffer is lent to one array at a time and taken back only when that array
 * {@linkplain NDArray#isReleased is released}; a thread keeps at most {@value #SLOTS} buffers, and
 * beyond that gradients go to new engine arrays. The engine's autograd must not keep the gradient
 * alive past its array: true of the bridge, whose graph is freed by the backward or closed with the batch.
 */
final class StagingBuffers {

    private static final int SLOTS = 8;
    private static final ThreadLocal<StagingBuffers> OF_THREAD = ThreadLocal.withInitial(StagingBuffers::new);

    private final ByteBuffer[] buffers = new ByteBuffer[SLOTS];
    private final NDArray[] lentTo = new NDArray[SLOTS];

    static StagingBuffers ofThread() {
        return OF_THREAD.get();
    }

    /**
     * A new float32 CPU array of {@code shape} on {@code manager} holding {@code data[0 .. size)}: in a
     * reused buffer when one is free, else in a new engine array.
     */
    NDArray write(float[] data, Shape shape, NDManager manager) {
        int size = Math.toIntExact(shape.size());
        int bytes = Math.multiplyExact(size, Float.BYTES);
        int slot = freeSlot(bytes);
        if (slot < 0) {
            NDArray out = manager.create(shape, DataType.FLOAT32);
            out.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer().put(0, data, 0, size);
            return out;
        }
        if (buffers[slot] == null || buffers[slot].capacity() < bytes) {
            buffers[slot] = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
        }
        ByteBuffer view = buffers[slot].slice(0, bytes).order(ByteOrder.nativeOrder());
        view.asFloatBuffer().put(0, data, 0, size);
        NDArray out = manager.create(view, shape, DataType.FLOAT32);
        lentTo[slot] = out;
        return out;
    }

    /** The free slot whose buffer fits {@code bytes} most tightly, else the free one with the largest buffer (to grow), else -1. */
    private int freeSlot(int bytes) {
        int fit = -1;
        int largest = -1;
        for (int i = 0; i < SLOTS; i++) {
            if (lentTo[i] != null && !lentTo[i].isReleased()) {
                continue;
            }
            lentTo[i] = null;
            int capacity = buffers[i] == null ? 0 : buffers[i].capacity();
            if (capacity >= bytes && (fit < 0 || capacity < buffers[fit].capacity())) {
                fit = i;
            }
            if (largest < 0 || capacity > (buffers[largest] == null ? 0 : buffers[largest].capacity())) {
                largest = i;
            }
        }
        return fit >= 0 ? fit : largest;
    }
}
