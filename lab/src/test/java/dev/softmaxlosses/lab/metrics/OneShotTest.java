package dev.softmaxlosses.lab.metrics;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Few-shot episodes by nearest prototype: worked cases, the groups, the seed, the checks. */
class OneShotTest {

    /** {@code perClass} samples of each class, class {@code c} at angle {@code 2 pi c / classes} with jitter, norm varying. */
    private static float[] clusters(int classes, int perClass, double jitter, int[] labels, long seed) {
        Random random = new Random(seed);
        float[] e = new float[classes * perClass * 2];
        for (int i = 0; i < classes * perClass; i++) {
            int c = i % classes;
            labels[i] = c;
            double angle = 2 * Math.PI * c / classes + jitter * (random.nextDouble() - 0.5);
            double norm = 0.5 + 3 * random.nextDouble();
            e[2 * i] = (float) (norm * Math.cos(angle));
            e[2 * i + 1] = (float) (norm * Math.sin(angle));
        }
        return e;
    }

    private static List<String> names(String group, int classes) {
        List<String> names = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            names.add(group + c);
        }
        return names;
    }

    @Test
    void separatedClassesMakeNoMistakesWhateverTheirNorms() {
        int[] labels = new int[8 * 4];
        float[] e = clusters(8, 4, 0.2, labels, 1);
        for (int shot : new int[] {1, 3}) {
            OneShot.Result r = OneShot.episodes(e, 2, labels, names("a/", 8), new OneShot.Protocol(5, shot, 50, 3));
            assertEquals(0.0, r.meanError());
            assertEquals(0.0, r.interval95());
            assertEquals(50, r.episodes().size());
            assertEquals(1, r.groups());
            for (OneShot.Episode episode : r.episodes()) {
                assertEquals("a", episode.group());
                assertEquals(5, episode.trials());
            }
        }
    }

    /** All embeddings equal: every prototype ties, the first wins, so only the first class's query is right. */
    @Test
    void tiesGoToTheFirstClassOfTheEpisode() {
        int n = 6 * 3;
        float[] e = new float[n * 2];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 6;
            e[2 * i] = 1;
            e[2 * i + 1] = 2;
        }
        OneShot.Result r = OneShot.episodes(e, 2, labels, names("", 6), new OneShot.Protocol(4, 2, 10, 1));
        assertEquals(0.75, r.meanError(), 1e-15);
        for (OneShot.Episode episode : r.episodes()) {
            assertEquals(3, episode.wrong());
            assertEquals("", episode.group());
        }
    }

    /**
     * A worked 2-way 1-shot case on the unit circle: class 0 at 0 and 80 degrees, class 1 at 100 and 180.
     * An episode's support is one sample of each class, its queries the other two. By hand, support
     * (class 0, class 1) gives these wrong queries:
     * (0, 100): 80 is nearer 100 (cos 20) than 0 (cos 80), wrong; 180 nearer 100, right: 1 wrong.
     * (0, 180): 80 nearer 0 (cos 80 > cos 100), right; 100 nearer 180 (cos 80 > cos 100), right: 0 wrong.
     * (80, 100): 0 nearer 80, right; 180 nearer 100, right: 0 wrong.
     * (80, 180): 0 nearer 80, right; 100 nearer 80 (cos 20), wrong: 1 wrong.
     * So every episode's error is 0 or 1/2, each about half the time.
     */
    @Test
    void aWorkedCaseMatchesTheHandComputation() {
        double[] degrees = {0, 80, 100, 180};
        int[] labels = {0, 0, 1, 1};
        float[] e = new float[8];
        for (int i = 0; i < 4; i++) {
            e[2 * i] = (float) Math.cos(Math.toRadians(degrees[i]));
            e[2 * i + 1] = (float) Math.sin(Math.toRadians(degrees[i]));
        }
        OneShot.Result r = OneShot.episodes(e, 2, labels, List.of("x", "y"), new OneShot.Protocol(2, 1, 200, 5));
        int mistaken = 0;
        for (OneShot.Episode episode : r.episodes()) {
            assertTrue(episode.wrong() <= 1);
            mistaken += episode.wrong();
        }
        assertTrue(mistaken > 70 && mistaken < 130, "episodes with a mistake: " + mistaken);
        assertEquals(mistaken * 0.5 / 200, r.meanError(), 1e-12);
        double p = mistaken / 200.0;
        double sd = 0.5 * Math.sqrt(p * (1 - p) * 200 / 199);
        assertEquals(1.959963984540054 * sd / Math.sqrt(200), r.interval95(), 1e-12);
    }

    @Test
    void classesAreDrawnWithinOneGroup() {
        // Group a: 3 classes; group b: 2 classes; c a group of its own. 3-way episodes can only use a.
        List<String> names = List.of("a/1", "a/2", "b/1", "a/3", "b/2", "c");
        int[] labels = new int[names.size() * 2];
        float[] e = clusters(names.size(), 2, 0.1, labels, 4);
        OneShot.Result r = OneShot.episodes(e, 2, labels, names, new OneShot.Protocol(3, 1, 20, 1));
        assertEquals(1, r.groups());
        r.episodes().forEach(episode -> assertEquals("a", episode.group()));
        OneShot.Result two = OneShot.episodes(e, 2, labels, names, new OneShot.Protocol(2, 1, 50, 1));
        assertEquals(2, two.groups());
        assertTrue(two.episodes().stream().anyMatch(x -> x.group().equals("b")));
        assertTrue(two.episodes().stream().noneMatch(x -> x.group().equals("c")));
    }

    @Test
    void theSeedRepeatsTheEpisodes() {
        int[] labels = new int[10 * 3];
        float[] e = clusters(10, 3, 2.5, labels, 9);
        OneShot.Protocol p = new OneShot.Protocol(5, 1, 100, 42);
        OneShot.Result a = OneShot.episodes(e, 2, labels, names("g/", 10), p);
        assertEquals(a, OneShot.episodes(e, 2, labels, names("g/", 10), p));
        assertNotEquals(a.episodes(), OneShot.episodes(e, 2, labels, names("g/", 10), new OneShot.Protocol(5, 1, 100, 43))
                .episodes());
        assertTrue(a.meanError() > 0 && a.meanError() < 0.8, "overlapping classes make some mistakes: " + a.meanError());
    }

    @Test
    void classesNeedASupportAndAQuery() {
        // Class 2 has one sample only: it cannot take part in 1-shot episodes, which leaves two classes.
        float[] e = {1, 0, 1, 0.1f, 0, 1, 0, 1.1f, -1, 0};
        int[] labels = {0, 0, 1, 1, 2};
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                () -> OneShot.episodes(e, 2, labels, List.of("p", "q", "r"), new OneShot.Protocol(3, 1, 1, 1)));
        assertEquals("no group (top-level folder) has 3 classes with at least 2 samples each for 3-way 1-shot episodes"
                + " (the most in one group: 2); lower --way or --shot, or give data with more classes per folder", x.getMessage());
        OneShot.Result one = OneShot.episodes(e, 2, labels, List.of("p", "q", "r"), new OneShot.Protocol(2, 1, 1, 1));
        assertTrue(Double.isNaN(one.interval95()), "one episode has no interval");
    }

    @Test
    void theProtocolIsChecked() {
        assertEquals("--way must be at least 2 (an episode chooses between classes), got 1",
                assertThrows(IllegalArgumentException.class, () -> new OneShot.Protocol(1, 1, 1, 1)).getMessage());
        assertEquals("--shot must be at least 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> new OneShot.Protocol(2, 0, 1, 1)).getMessage());
        assertEquals("--episodes must be at least 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> new OneShot.Protocol(2, 1, 0, 1)).getMessage());
    }

    @Test
    void nearestIsByCosineNotByDistance() {
        double[] query = {1, 0};
        // The second candidate is closer in distance, the first in angle.
        assertEquals(0, OneShot.nearest(query, new double[][] {{10, 1}, {0.5, 0.4}}));
        assertEquals(0, OneShot.nearest(query, new double[][] {{0, 0}, {-1, 0}}), "a zero candidate scores 0");
        assertEquals(1, OneShot.nearest(query, new double[][] {{-1, 0}, {0, 0}}), "a zero candidate scores 0");
    }
}
