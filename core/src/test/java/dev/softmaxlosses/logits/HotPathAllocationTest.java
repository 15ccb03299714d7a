package dev.softmaxlosses.logits;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.testing.Random2;

import java.lang.management.ManagementFactory;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The hot path writes into the caller's buffers and allocates nothing once warm. */
class HotPathAllocationTest {

    @Test
    void forwardBackwardAllocatesNothingBelowTheParallelThreshold() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Random random = new Random(1);
        int rows = 32;
        int cols = 100;
        float[] z = Random2.uniform(random, rows, cols, 3);
        int[] labels = Random2.labels(random, rows, cols);
        float[] grad = new float[z.length];
        float[] losses = new float[rows];
        SoftmaxCrossEntropyLoss loss = SoftmaxCrossEntropyLoss.builder().labelSmoothing(0.1).build();
        for (int i = 0; i < 20_000; i++) {
            loss.forwardBackward(z, labels, rows, cols, losses, grad);
        }
        long id = Thread.currentThread().threadId();
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 1000; i++) {
            loss.forwardBackward(z, labels, rows, cols, losses, grad);
        }
        long perCall = (threads.getThreadAllocatedBytes(id) - before) / 1000;
        assertTrue(perCall == 0, perCall + " bytes allocated per call");
    }
}
