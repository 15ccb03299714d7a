package dev.softmaxlosses.lab.metrics;

import dev.softmaxlosses.lab.data.ImageFolders;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Few-shot classification by embeddings, as Omniglot's one-shot task judges a network on characters it
 * never saw: in each seeded episode {@code N} classes are drawn from one group (as Omniglot draws them
 * from one alphabet), {@code K} support samples and one query sample of each (all distinct); each query
 * goes to the class whose prototype is nearest by cosine similarity. A prototype is the mean of its
 * class's L2-normalised support embeddings, so that for {@code K = 1} this is the nearest neighbour
 * (Snell et al. 2017 average the same way, with squared Euclidean distance). The episode's error is the
 * share of its {@code N} queries classified wrong; the result is the mean over the episodes with a normal
 * 95% interval ({@code 1.96 s / sqrt(E)}, {@code s} the episodes' sample standard deviation).
 *
 * <p>Pure: it takes embeddings ({@code n x d}, row-major), a label per row and a group per class, and
 * does not know where they came from (the {@code oneshot} command, or the report on held-out classes).
 * The same embeddings, labels, groups and protocol give the same episodes, bit for bit.
 */
public final class OneShot {

    /** The z-value of a two-sided 95% normal interval. */
    static final double Z95 = 1.959963984540054;

    /**
     * How the episodes are drawn.
     *
     * @param way      classes per episode, {@code N >= 2}
     * @param shot     support samples per class, {@code K >= 1}
     * @param episodes how many episodes, {@code E >= 1}
     * @param seed     seeds the draws
     */
    public record Protocol(int way, int shot, int episodes, long seed) {

        /** The report's protocol on held-out classes: 20-way 1-shot (Omniglot's), 400 episodes, seed 1. */
        public static final Protocol REPORT = new Protocol(20, 1, 400, 1);

        /** @throws IllegalArgumentException for a value out of range, naming its option */
        public Protocol {
            if (way < 2) {
                throw new IllegalArgumentException("--way must be at least 2 (an episode chooses between classes), got " + way);
            }
            if (shot < 1) {
                throw new IllegalArgumentException("--shot must be at least 1, got " + shot);
            }
            if (episodes < 1) {
                throw new IllegalArgumentException("--episodes must be at least 1, got " + episodes);
            }
        }
    }

    /**
     * One episode.
     *
     * @param group  the group its classes came from ({@code ""} for the group of names without {@code /})
     * @param wrong  how many of its queries were classified wrong
     * @param trials how many queries it had ({@code N})
     */
    public record Episode(String group, int wrong, int trials) {
        /** The share of its queries classified wrong. */
        public double error() {
            return (double) wrong / trials;
        }
    }

    /**
     * What the episodes found.
     *
     * @param protocol   how they were drawn
     * @param episodes   each episode, in order
     * @param meanError  the mean of their errors, in [0, 1]
     * @param interval95 the half-width of the 95% interval of the mean (NaN for one episode)
     * @param groups     how many groups had enough classes to draw from
     */
    public record Result(Protocol protocol, List<Episode> episodes, double meanError, double interval95, int groups) {}

    private OneShot() {}

    /**
     * Episodes within the groups that the class names give: their top-level folders
     * ({@link ImageFolders#groups}: {@code Greek} for {@code Greek/character01}; one group {@code ""} when no
     * name has a {@code /}).
     *
     * @param embeddings {@code labels.length x d} values, row-major
     * @param labels     each row's class, an index into {@code classNames}
     * @throws IllegalArgumentException when no group has {@code N} classes of at least {@code K + 1} samples
     */
    public static Result episodes(float[] embeddings, int d, int[] labels, List<String> classNames, Protocol p) {
        Map<String, Integer> index = new LinkedHashMap<>();
        int[] groupOf = new int[classNames.size()];
        List<String> groups = ImageFolders.groups(classNames);
        for (int c = 0; c < groupOf.length; c++) {
            groupOf[c] = index.computeIfAbsent(groups.get(c), g -> index.size());
        }
        return episodes(embeddings, d, labels, groupOf, List.copyOf(index.keySet()), p);
    }

    /**
     * Episodes within the given groups.
     *
     * @param groupOf    each class's group, an index into {@code groupNames}
     * @throws IllegalArgumentException when no group has {@code N} classes of at least {@code K + 1} samples,
     *                                  or the arrays disagree in size
     */
    public static Result episodes(float[] embeddings, int d, int[] labels, int[] groupOf, List<String> groupNames,
                                  Protocol p) {
        int n = labels.length;
        if ((long) n * d != embeddings.length) {
            throw new IllegalArgumentException(n + " labels need " + (long) n * d + " embedding values, got " + embeddings.length);
        }
        List<List<Integer>> samples = new ArrayList<>();
        for (int c = 0; c < groupOf.length; c++) {
            samples.add(new ArrayList<>());
        }
        for (int r = 0; r < n; r++) {
            samples.get(labels[r]).add(r);
        }
        List<List<Integer>> classesOf = new ArrayList<>();
        for (int g = 0; g < groupNames.size(); g++) {
            classesOf.add(new ArrayList<>());
        }
        int largest = 0;
        for (int c = 0; c < groupOf.length; c++) {
            if (samples.get(c).size() >= p.shot() + 1) {
                List<Integer> members = classesOf.get(groupOf[c]);
                members.add(c);
                largest = Math.max(largest, members.size());
            }
        }
        List<Integer> eligible = new ArrayList<>();
        for (int g = 0; g < classesOf.size(); g++) {
            if (classesOf.get(g).size() >= p.way()) {
                eligible.add(g);
            }
        }
        if (eligible.isEmpty()) {
            throw new IllegalArgumentException("no group (top-level folder) has " + p.way() + " classes with at least "
                    + (p.shot() + 1) + " samples each for " + p.way() + "-way " + p.shot() + "-shot episodes (the most"
                    + " in one group: " + largest + "); lower --way or --shot, or give data with more classes per folder");
        }
        double[][] unit = unitRows(embeddings, n, d);
        Random random = new Random(p.seed());
        List<Episode> episodes = new ArrayList<>(p.episodes());
        double sum = 0;
        double sumSquares = 0;
        for (int e = 0; e < p.episodes(); e++) {
            int g = eligible.get(random.nextInt(eligible.size()));
            int[] classes = draw(classesOf.get(g), p.way(), random);
            double[][] prototypes = new double[p.way()][];
            int[] queries = new int[p.way()];
            for (int i = 0; i < p.way(); i++) {
                int[] picked = draw(samples.get(classes[i]), p.shot() + 1, random);
                double[] mean = new double[d];
                for (int s = 0; s < p.shot(); s++) {
                    for (int k = 0; k < d; k++) {
                        mean[k] += unit[picked[s]][k] / p.shot();
                    }
                }
                prototypes[i] = mean;
                queries[i] = picked[p.shot()];
            }
            int wrong = 0;
            for (int i = 0; i < p.way(); i++) {
                if (nearest(unit[queries[i]], prototypes) != i) {
                    wrong++;
                }
            }
            Episode episode = new Episode(groupNames.get(g), wrong, p.way());
            episodes.add(episode);
            sum += episode.error();
            sumSquares += episode.error() * episode.error();
        }
        int count = p.episodes();
        double mean = sum / count;
        double interval = count < 2 ? Double.NaN
                : Z95 * Math.sqrt(Math.max(0, (sumSquares - count * mean * mean) / (count - 1)) / count);
        return new Result(p, List.copyOf(episodes), mean, interval, eligible.size());
    }

    /**
     * The index of the candidate nearest to {@code query} by cosine similarity (the first of equals);
     * a zero candidate scores 0.
     */
    public static int nearest(double[] query, double[][] candidates) {
        int best = -1;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < candidates.length; j++) {
            double dot = 0;
            double sq = 0;
            for (int k = 0; k < query.length; k++) {
                dot += query[k] * candidates[j][k];
                sq += candidates[j][k] * candidates[j][k];
            }
            double score = sq > 0 ? dot / Math.sqrt(sq) : 0;
            if (score > bestScore) {
                bestScore = score;
                best = j;
            }
        }
        return best;
    }

    /** Each of {@code n} rows of {@code d} values scaled to length 1 (a zero row stays zero). */
    public static double[][] unitRows(float[] values, int n, int d) {
        double[][] unit = new double[n][d];
        for (int r = 0; r < n; r++) {
            double sq = 0;
            for (int k = 0; k < d; k++) {
                double v = values[r * d + k];
                sq += v * v;
            }
            double inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
            for (int k = 0; k < d; k++) {
                unit[r][k] = values[r * d + k] * inv;
            }
        }
        return unit;
    }

    /** {@code count} distinct items of {@code from}, drawn in order by a partial Fisher-Yates shuffle of a copy. */
    private static int[] draw(List<Integer> from, int count, Random random) {
        int[] pool = from.stream().mapToInt(Integer::intValue).toArray();
        for (int i = 0; i < count; i++) {
            int j = i + random.nextInt(pool.length - i);
            int t = pool[i];
            pool[i] = pool[j];
            pool[j] = t;
        }
        return java.util.Arrays.copyOf(pool, count);
    }
}
