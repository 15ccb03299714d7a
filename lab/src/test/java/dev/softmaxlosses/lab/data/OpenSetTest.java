package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The open-set split: which classes train, which are held out, and how they are relabelled. */
class OpenSetTest {

    /** Five classes a..e; sample i has class i % 5 and the single feature i. */
    private static TrainTestSplit data() {
        List<String> names = List.of("a", "b", "c", "d", "e");
        float[] f = new float[10];
        int[] y = new int[10];
        for (int i = 0; i < 10; i++) {
            f[i] = i;
            y[i] = i % 5;
        }
        Dataset d = new Dataset("toy", f, 10, 1, y, names);
        return new TrainTestSplit("toy", d, d);
    }

    @Test
    void defaultHoldsOutTheLastThirtyPercentRoundedUp() {
        assertArrayEquals(new int[] {7, 8, 9}, OpenSet.defaultHeldOut(10));
        assertArrayEquals(new int[] {28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39}, OpenSet.defaultHeldOut(40));
        assertArrayEquals(new int[] {3, 4}, OpenSet.defaultHeldOut(5));
    }

    @Test
    void relabelsKnownAndHeldOutClassesInOrder() {
        OpenSet s = OpenSet.of(data(), new int[] {3, 1});
        assertArrayEquals(new int[] {0, 2, 4}, s.knownClasses());
        assertArrayEquals(new int[] {1, 3}, s.heldOutClasses());
        assertEquals(List.of("a", "c", "e"), s.train().classNames());
        assertEquals(List.of("b", "d"), s.heldOutTest().classNames());
        assertArrayEquals(new float[] {0, 2, 4, 5, 7, 9}, s.train().features());
        assertArrayEquals(new int[] {0, 1, 2, 0, 1, 2}, s.train().labels());
        assertArrayEquals(new float[] {1, 3, 6, 8}, s.heldOutTest().features());
        assertArrayEquals(new int[] {0, 1, 0, 1}, s.heldOutTest().labels());
    }

    @Test
    void classRotationsAddEachKnownClassTurnedThreeTimes() {
        // Four classes of one 2x2 image each, [1 2; 3 4] times the class; classes 2 and 3 held out.
        List<String> names = List.of("a", "b", "c", "d");
        float[] f = new float[16];
        int[] y = {0, 1, 2, 3};
        for (int c = 0; c < 4; c++) {
            for (int p = 0; p < 4; p++) {
                f[c * 4 + p] = (c + 1) * (p + 1);
            }
        }
        Dataset d = new Dataset("squares", f, 4, 4, y, names, 2);
        OpenSet s = OpenSet.of(new TrainTestSplit("squares", d, d), new int[] {2, 3}).withClassRotations();
        assertEquals(List.of("a", "b", "a@90", "b@90", "a@180", "b@180", "a@270", "b@270"), s.train().classNames());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, s.train().labels());
        // Clockwise: [1 2; 3 4] -> [3 1; 4 2] -> [4 3; 2 1] -> [2 4; 1 3].
        assertArrayEquals(new float[] {1, 2, 3, 4, 2, 4, 6, 8, 3, 1, 4, 2, 6, 2, 8, 4, 4, 3, 2, 1, 8, 6, 4, 2, 2, 4, 1, 3,
                4, 8, 2, 6}, s.train().features());
        assertEquals(s.train().classNames(), s.knownTest().classNames());
        assertArrayEquals(new int[] {0, 1, 4, 5, 6, 7, 8, 9}, s.knownClasses());
        assertEquals("b@270", s.allClassNames().get(9));
        assertEquals(List.of("c", "d"), s.heldOutTest().classNames());
        assertEquals(2, s.heldOutTest().size());
        Dataset rows = new Dataset("rows", new float[] {1, 2, 3, 4}, 2, 2, new int[] {0, 1}, List.of("a", "b"));
        BadInputException e = assertThrows(BadInputException.class,
                () -> OpenSet.of(new TrainTestSplit("rows", rows, rows), new int[0]).withClassRotations());
        assertEquals("--class-rotations turns square images; the samples of rows are 2x1", e.getMessage());
    }

    @Test
    void refusesImpossibleSplits() {
        assertTrue(assertThrows(BadInputException.class, () -> OpenSet.of(data(), new int[] {5, 1})).getMessage()
                .contains("class 5 does not exist"));
        assertTrue(assertThrows(BadInputException.class, () -> OpenSet.of(data(), new int[] {2})).getMessage()
                .contains("at least 2 classes"));
        assertTrue(assertThrows(BadInputException.class, () -> OpenSet.of(data(), new int[] {0, 1, 2, 3})).getMessage()
                .contains("leaves 1 of the 5 classes"));
        assertTrue(assertThrows(BadInputException.class, () -> OpenSet.of(data(), new int[] {2, 2})).getMessage()
                .contains("given twice"));
    }
}
