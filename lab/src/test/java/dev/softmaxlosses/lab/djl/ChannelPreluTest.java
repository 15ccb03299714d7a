package dev.softmaxlosses.lab.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The lab's per-channel PReLU on DJL: its gradient is {@code g} where {@code x > 0} and {@code a g}
 * elsewhere, also when the JVM has reclaimed and reused memory between the forward and the backward
 * pass (a version built on DJL's {@code maximum(0f)} read a freed scalar in its backward pass).
 */
class ChannelPreluTest {

    @Test
    void theGradientSurvivesACollectionBetweenForwardAndBackward() {
        DjlRuntime.start(1);
        float[] x = {1.5f, -2f, 0.5f, -0.25f, 3f, -1f, 2f, -4f};
        try (NDManager manager = NDManager.newBaseManager()) {
            ChannelPrelu prelu = new ChannelPrelu();
            prelu.initialize(manager, DataType.FLOAT32, new Shape(4, 2));
            NDArray input = manager.create(x, new Shape(4, 2));
            input.setRequiresGradient(true);
            ParameterStore store = new ParameterStore(manager, false);
            try (GradientCollector collector = DjlRuntime.collector()) {
                NDArray out = prelu.forward(store, new NDList(input), true).singletonOrThrow();
                // Whatever the forward pass let go of is freed now, and its memory handed out again, full of NaN.
                for (int round = 0; round < 3; round++) {
                    System.gc();
                    List<ByteBuffer> filler = new ArrayList<>();
                    for (int i = 0; i < 2000; i++) {
                        ByteBuffer b = ByteBuffer.allocateDirect(4 << (i % 6)).order(ByteOrder.nativeOrder());
                        while (b.remaining() >= 4) {
                            b.putFloat(Float.NaN);
                        }
                        filler.add(b);
                    }
                }
                collector.backward(out.sum());
            }
            float[] expected = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                expected[i] = x[i] > 0 ? 1f : 0.25f;
            }
            assertArrayEquals(expected, input.getGradient().toFloatArray());
        }
    }
}
