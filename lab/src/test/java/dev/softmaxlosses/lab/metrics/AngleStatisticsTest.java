package dev.softmaxlosses.lab.metrics;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Intra- and inter-class angles of points placed at known angles. */
class AngleStatisticsTest {

    private static float[] at(double... degreesAndNorms) {
        float[] f = new float[degreesAndNorms.length];
        for (int i = 0; i < degreesAndNorms.length; i += 2) {
            double a = Math.toRadians(degreesAndNorms[i]);
            f[i] = (float) (degreesAndNorms[i + 1] * Math.cos(a));
            f[i + 1] = (float) (degreesAndNorms[i + 1] * Math.sin(a));
        }
        return f;
    }

    @Test
    void measuresCompactnessAndSeparationInDegrees() {
        // class 0 at -10 and +10 degrees (centre 0), class 1 at 70 and 110 (centre 90), class 2 at 180;
        // norms differ on purpose: only directions count
        float[] f = at(-10, 1, 10, 5, 70, 2, 110, 0.5, 180, 3);
        AngleStatistics s = AngleStatistics.of(f, 5, 2, new int[] {0, 0, 1, 1, 2}, 3);
        assertEquals(10, s.perClassIntra()[0], 1e-4);
        assertEquals(20, s.perClassIntra()[1], 1e-4);
        assertEquals(0, s.perClassIntra()[2], 1e-4);
        assertEquals((10 + 10 + 20 + 20 + 0) / 5.0, s.meanIntra(), 1e-4);
        assertEquals(90, s.minInter(), 1e-4);
        assertEquals((90 + 180 + 90) / 3.0, s.meanInter(), 1e-4);
    }

    @Test
    void leavesOutZeroFeaturesAndAbsentClasses() {
        float[] f = {1, 0, 0, 0, 0, 1};
        AngleStatistics s = AngleStatistics.of(f, 3, 2, new int[] {0, 0, 1}, 3);
        assertEquals(0, s.perClassIntra()[0], 1e-9);
        assertTrue(Double.isNaN(s.perClassIntra()[2]));
        assertEquals(90, s.minInter(), 1e-6);
        assertEquals(0, s.meanIntra(), 1e-9);
    }
}
