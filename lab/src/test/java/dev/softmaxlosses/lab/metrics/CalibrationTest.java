package dev.softmaxlosses.lab.metrics;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reliability bins and ECE on probabilities made by hand. */
class CalibrationTest {

    @Test
    void worksOutTheEceByHand() {
        // 4 samples, 2 classes, 5 bins of width 0.2:
        //   conf 0.9 right, conf 0.9 wrong  -> bin 4: accuracy 0.5, confidence 0.9, gap 0.4
        //   conf 0.7 right, conf 0.55 wrong -> bin 3 (0.6, 0.8]: conf 0.7 right; bin 2 (0.4, 0.6]: conf 0.55 wrong
        // ECE = 2/4 * 0.4 + 1/4 * |1 - 0.7| + 1/4 * |0 - 0.55| = 0.2 + 0.075 + 0.1375 = 0.4125
        float[] p = {0.9f, 0.1f, 0.1f, 0.9f, 0.7f, 0.3f, 0.45f, 0.55f};
        int[] labels = {0, 0, 0, 0};
        Calibration.Result r = Calibration.of(p, 4, 2, labels, 5);
        assertEquals(0.4125, r.ece(), 1e-6);
        assertArrayEquals(new int[] {0, 0, 1, 1, 2}, r.counts());
        assertEquals(0.5, r.accuracy()[4], 1e-12);
        assertEquals(0.9, r.confidence()[4], 1e-6);
        assertTrue(Double.isNaN(r.accuracy()[0]), "an empty bin has no accuracy");
        assertEquals(0.5, r.accuracyAll(), 1e-12);
        assertEquals((0.9 + 0.9 + 0.7 + 0.55) / 4, r.meanConfidence(), 1e-6);
    }

    @Test
    void aCalibratedModelHasNoError() {
        // in the bin of confidence 0.75: 3 of 4 right
        float[] p = {0.75f, 0.25f, 0.75f, 0.25f, 0.75f, 0.25f, 0.75f, 0.25f};
        assertEquals(0.0, Calibration.of(p, 4, 2, new int[] {0, 0, 0, 1}).ece(), 1e-7);
    }

    @Test
    void binEdgesBelongToTheLowerBin() {
        // confidence exactly 0.5 (a float edge) goes to (0.25, 0.5], confidence 1 to the last bin
        float[] p = {0.5f, 0.5f, 1f, 0f};
        Calibration.Result r = Calibration.of(p, 2, 2, new int[] {0, 0}, 4);
        assertArrayEquals(new int[] {0, 1, 0, 1}, r.counts());
    }
}
