package dev.softmaxlosses.margin;

import static dev.softmaxlosses.testing.Assertions2.assertRejected;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.FloatMatrix;

import org.junit.jupiter.api.Test;

/** The dominant sub-centre of each class and the samples beyond the threshold angle from it. */
class SubCentreCleaningTest {

    /** A unit vector of 2-D at {@code degrees}. */
    private static float[] at(double degrees) {
        double r = Math.toRadians(degrees);
        return new float[] {(float) Math.cos(r), (float) Math.sin(r)};
    }

    private static FloatMatrix rows(float[]... rows) {
        return FloatMatrix.of("m", rows);
    }

    @Test
    void theMostChosenSubCentreDominatesAndFarSamplesAreOutliers() {
        // Class 0: sub-centres at 0 and 180 degrees; class 1: at 90 and 270.
        FloatMatrix weights = rows(at(0), at(180), at(90), at(270));
        // Class 0: three samples near 0 degrees, one near 170 (noise); class 1: two near 270, one near 100.
        FloatMatrix features = rows(at(5), at(-10), at(20), at(170), at(260), at(280), at(100), at(45));
        int[] labels = {0, 0, 0, 0, 1, 1, 1, -100};
        SubCentreCleaning cleaning = SubCentreCleaning.of(features, labels, weights, 2, 75);
        assertArrayEquals(new int[] {0, 1}, cleaning.dominant());
        assertArrayEquals(new int[] {3, 6}, cleaning.outliers());
        assertEquals(5, cleaning.angles()[0], 1e-4);
        assertEquals(170, cleaning.angles()[3], 1e-4);
        assertEquals(170, cleaning.angles()[6], 1e-4);
        assertTrue(Double.isNaN(cleaning.angles()[7]), "an ignored sample has no angle");
        // A wider threshold keeps every sample.
        assertEquals(0, SubCentreCleaning.of(features, labels, weights, 2, 175).outliers().length);
    }

    @Test
    void tiesGoToTheLowestSubCentreAndAClassWithoutSamplesHasNone() {
        FloatMatrix weights = rows(at(0), at(90), at(0), at(90));
        FloatMatrix features = rows(at(10), at(80));
        SubCentreCleaning cleaning = SubCentreCleaning.of(features, new int[] {0, 0}, weights, 2, 75);
        assertArrayEquals(new int[] {0, -1}, cleaning.dominant());
    }

    @Test
    void badShapesAreRefused() {
        FloatMatrix weights = rows(at(0), at(90), at(180));
        assertRejected(() -> SubCentreCleaning.of(rows(at(0)), new int[] {0}, weights, 2, 75),
                "weights has 3 rows, not a multiple of k = 2");
        assertRejected(() -> SubCentreCleaning.of(rows(at(0)), new int[] {0, 1}, weights, 3, 75),
                "labels has 2 values, expected 1");
        assertRejected(() -> SubCentreCleaning.of(rows(at(0)), new int[] {0}, weights, 3, 190),
                "the threshold must be in [0, 180] degrees, got 190.0");
    }
}
