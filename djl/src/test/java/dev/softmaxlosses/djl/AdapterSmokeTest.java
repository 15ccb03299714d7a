package dev.softmaxlosses.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AdapterSmokeTest {
    @Test
    void softmaxCrossEntropyValueAndGradient() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray z = m.create(new float[] {1, 2, 3, 0, 0, 5}, new Shape(2, 3));
            z.setRequiresGradient(true);
            NDArray y = m.create(new int[] {2, 0});
            LogitLossAdapter loss = LogitLossAdapter.of("softmax_cross_entropy");
            NDArray value;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                value = loss.evaluate(new NDList(y), new NDList(z));
                gc.backward(value);
            }
            System.out.println(value + " " + z.getGradient());
            MarginHead head = MarginHead.of("arcface:s=8,m=0.2", 3);
            assertEquals(3, head.classes());
        }
    }
}
