package dev.softmaxlosses.lab.train;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AugmentationTest {

    /** A 5x5 image with one bright pixel at (x, y) on a background of 0.25. */
    private static float[] dot(int x, int y) {
        float[] image = new float[25];
        java.util.Arrays.fill(image, 0.25f);
        image[y * 5 + x] = 1;
        return image;
    }

    private static float[] transformed(float[] in, double theta, double shearX, double shearY, double scaleX,
                                       double scaleY, double shiftX, double shiftY) {
        float[] out = new float[in.length];
        Augmentation.transform(in, out, 0, 5, 5, theta, shearX, shearY, scaleX, scaleY, shiftX, shiftY);
        return out;
    }

    @Test
    void identityKeepsTheImage() {
        float[] in = dot(1, 3);
        assertArrayEquals(in, transformed(in, 0, 0, 0, 1, 1, 0, 0));
    }

    @Test
    void aShiftMovesThePixelsAndFillsWithTheBorderMean() {
        float[] out = transformed(dot(2, 2), 0, 0, 0, 1, 1, 1, -2);
        assertArrayEquals(dot(3, 0), out, "one pixel right, two up; the entering border is the background");
    }

    @Test
    void aQuarterTurnRotatesAboutTheCentre() {
        // y points down: a positive angle turns (x, y) = (4, 2) (right of centre) to (2, 4) (below it).
        float[] out = transformed(dot(4, 2), Math.PI / 2, 0, 0, 1, 1, 0, 0);
        float[] expected = dot(2, 4);
        for (int i = 0; i < 25; i++) {
            assertEquals(expected[i], out[i], 1e-6, "pixel " + i);
        }
    }

    @Test
    void scalingTwoSpreadsAPixelOverItsNeighbours() {
        float[] out = transformed(dot(3, 2), 0, 0, 0, 2, 1, 0, 0);
        // Column 4 reads the input at x = 2 + (4 - 2) / 2 = 3; column 3 at 2.5, half way to the dot.
        assertEquals(1f, out[2 * 5 + 4], 1e-6);
        assertEquals(0.625f, out[2 * 5 + 3], 1e-6);
        assertEquals(0.25f, out[2 * 5 + 1], 1e-6);
    }

    @Test
    void noneTouchesNothingAndDrawsNothing() {
        float[] x = dot(1, 1);
        Random random = new Random(3);
        Augmentation.NONE.apply(x, 1, 5, 5, random);
        assertArrayEquals(dot(1, 1), x);
        assertEquals(new Random(3).nextLong(), random.nextLong());
    }

    @Test
    void affineIsSeededAndChangesSomeImages() {
        float[] a = new float[8 * 25];
        for (int i = 0; i < 8; i++) {
            System.arraycopy(dot(i % 5, (i * 2) % 5), 0, a, i * 25, 25);
        }
        float[] b = a.clone();
        float[] original = a.clone();
        Augmentation.AFFINE.apply(a, 8, 5, 5, new Random(7));
        Augmentation.AFFINE.apply(b, 8, 5, 5, new Random(7));
        assertArrayEquals(a, b);
        assertFalse(java.util.Arrays.equals(original, a));
        for (float v : a) {
            assertTrue(v >= 0.25f - 1e-6 && v <= 1 + 1e-6, "bilinear reads stay within the image's range: " + v);
        }
    }
}
