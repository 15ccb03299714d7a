package dev.softmaxlosses.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Moves arrays between DJL and the library's row-major {@code float[]}, through the host.
 *
 * <p>Reading takes a direct view of a contiguous float32 CPU tensor ({@code toByteBuffer(true)}) and
 * copies it once into the caller's array; another device or type is first converted by the engine
 * into a temporary that belongs to {@code scope}. Writing copies into a reused direct buffer that a new
 * array on the batch's manager aliases ({@link StagingBuffers}), so the gradient costs one copy too;
 * another device gets the engine's own copy from the host.
 */
final class HostArrays {

    private HostArrays() {
    }

    /** The number of values of {@code array}, which must fit a Java array. */
    static int size(NDArray array, String name) {
        long size = array.getShape().size();
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(name + " has " + size + " values, more than a Java array holds");
        }
        return (int) size;
    }

    /**
     * Copies {@code array}'s values, as float32 in row-major order, into {@code into[0 .. size)}.
     * Temporaries (another device, another type) are attached to {@code scope}, never to the array's
     * own manager, which may be a parameter's.
     */
    static void read(NDArray array, NDManager scope, float[] into) {
        NDArray host = array;
        if (!host.getDevice().equals(Device.cpu())) {
            host = temporary(host.toDevice(Device.cpu(), true), scope);
        }
        if (host.getDataType() != DataType.FLOAT32) {
            host = temporary(host.toType(DataType.FLOAT32, true), scope);
        }
        int size = size(array, "an input");
        view(host).asFloatBuffer().get(0, into, 0, size);
    }

    /** The labels as int: from int32 arrays, or any other whose values are whole numbers in int's range. */
    static int[] labels(NDArray array, NDManager scope, String name) {
        size(array, name);
        if (array.getDataType() == DataType.INT32) {
            return array.toIntArray();
        }
        NDArray wide = array.toType(DataType.FLOAT64, false);
        if (wide != array) {
            wide.attach(scope);
        }
        double[] values = wide.toDoubleArray();
        int[] labels = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            labels[i] = (int) values[i];
            if (labels[i] != values[i]) {
                throw new IllegalArgumentException(name + "[" + i + "] = " + values[i] + " is not a class index");
            }
        }
        return labels;
    }

    /**
     * A new float32 array of {@code shape} holding {@code data[0 .. size)}, on {@code device},
     * attached to {@code manager} (the batch's).
     */
    static NDArray write(float[] data, Shape shape, NDManager manager, Device device) {
        int size = Math.toIntExact(shape.size());
        if (device.equals(Device.cpu()) && manager.getDevice().equals(Device.cpu())) {
            return StagingBuffers.ofThread().write(data, shape, manager);
        }
        ByteBuffer buffer = manager.allocateDirect(size * Float.BYTES);
        buffer.asFloatBuffer().put(0, data, 0, size);
        NDArray staged = manager.create(buffer, shape, DataType.FLOAT32);
        if (staged.getDevice().equals(device)) {
            return staged;
        }
        NDArray moved = staged.toDevice(device, true);
        staged.close();
        return moved;
    }

    /** A scalar float32 array of {@code values[0]}, or the vector of per-sample losses, on {@code manager} and {@code device}. */
    static NDArray values(float[] values, boolean scalar, NDManager manager, Device device) {
        NDArray out = manager.create(values, scalar ? new Shape() : new Shape(values.length));
        return out.getDevice().equals(device) ? out : out.toDevice(device, false);
    }

    private static ByteBuffer view(NDArray host) {
        return host.toByteBuffer(true).order(ByteOrder.nativeOrder());
    }

    private static NDArray temporary(NDArray made, NDManager scope) {
        made.attach(scope);
        return made;
    }
}
