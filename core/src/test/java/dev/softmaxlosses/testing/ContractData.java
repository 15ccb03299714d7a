package dev.softmaxlosses.testing;

import java.util.Random;

/** Seeded data of the contract tests, as rows of floats (the shape {@code eval} reads), shared with the lab's. */
public final class ContractData {

    /** A masked class. */
    public static final float MASK = Float.NEGATIVE_INFINITY;

    private ContractData() {}

    /** Gaussian logits of deviation {@code scale}. */
    public static float[][] logits(Random random, int n, int c, double scale) {
        float[][] z = new float[n][c];
        for (float[] row : z) {
            for (int k = 0; k < c; k++) {
                row[k] = (float) (random.nextGaussian() * scale);
            }
        }
        return z;
    }

    /** Logits on a grid of quarters, so that hinge arguments are exact and either 0 or at least 1/4 away. */
    public static float[][] quarterLogits(Random random, int n, int c, int range) {
        float[][] z = new float[n][c];
        for (float[] row : z) {
            for (int k = 0; k < c; k++) {
                row[k] = (random.nextInt(8 * range + 1) - 4 * range) / 4f;
            }
        }
        return z;
    }

    /** Labels in {@code [0, c)}, each {@code ignoreIndex} with probability {@code ignoredShare}. */
    public static int[] labels(Random random, int n, int c, double ignoredShare, int ignoreIndex) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextDouble() < ignoredShare ? ignoreIndex : random.nextInt(c);
        }
        return y;
    }

    /** Masks each non-target class with probability {@code share}, keeping every row some class. */
    public static void mask(Random random, float[][] z, int[] y, double share) {
        for (int n = 0; n < z.length; n++) {
            for (int k = 0; k < z[n].length; k++) {
                boolean target = y != null && y[n] == k;
                if (!target && random.nextDouble() < share) {
                    z[n][k] = MASK;
                }
            }
            boolean any = false;
            for (float v : z[n]) {
                any |= v != MASK;
            }
            if (!any) {
                z[n][0] = 0.5f;
            }
        }
    }

    /** {@code z} plus Gaussian noise of deviation {@code noise}: a teacher near its student. */
    public static float[][] near(Random random, float[][] z, double noise) {
        float[][] t = new float[z.length][];
        for (int n = 0; n < z.length; n++) {
            t[n] = z[n].clone();
            for (int k = 0; k < t[n].length; k++) {
                t[n][k] += (float) (random.nextGaussian() * noise);
            }
        }
        return t;
    }

    /** Rows of random directions whose norms are log-uniform in {@code [lo, hi]}. */
    public static float[][] vectors(Random random, int rows, int d, double lo, double hi) {
        float[][] v = new float[rows][d];
        for (float[] row : v) {
            double[] g = new double[d];
            double norm = 0;
            for (int k = 0; k < d; k++) {
                g[k] = random.nextGaussian();
                norm += g[k] * g[k];
            }
            norm = Math.sqrt(norm);
            double length = Math.exp(Math.log(lo) + random.nextDouble() * (Math.log(hi) - Math.log(lo)));
            for (int k = 0; k < d; k++) {
                row[k] = (float) (g[k] / norm * length);
            }
        }
        return v;
    }

    /** A {@code D = 2} feature at angle {@code theta} from the unit weight {@code (1, 0)}, of length {@code r}. */
    public static float[] atAngle(double theta, double r) {
        return new float[] {(float) (r * Math.cos(theta)), (float) (r * Math.sin(theta))};
    }

    public static double[][] toDouble(float[][] m) {
        if (m == null) {
            return null;
        }
        double[][] d = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            d[i] = toDouble(m[i]);
        }
        return d;
    }

    public static double[] toDouble(float[] v) {
        if (v == null) {
            return null;
        }
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
