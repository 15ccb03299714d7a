package dev.softmaxlosses.testing;

import java.util.Random;

/** Seeded generators of test data. */
public final class Random2 {
    private Random2() {}

    /** {@code rows x cols} values uniform in {@code [-scale, scale)}. */
    public static float[] uniform(Random random, int rows, int cols, double scale) {
        float[] a = new float[rows * cols];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        }
        return a;
    }

    /** {@code rows x cols} Gaussian values whose spread grows with the row: row n has deviation n + 1. */
    public static float[] growingRows(Random random, int rows, int cols) {
        float[] a = new float[rows * cols];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (random.nextGaussian() * (1 + i / cols));
        }
        return a;
    }

    public static int[] labels(Random random, int rows, int classes) {
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = random.nextInt(classes);
        }
        return y;
    }

    public static double[][] toDouble(float[] a, int rows, int cols) {
        double[][] out = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[r][c] = a[r * cols + c];
            }
        }
        return out;
    }

    public static double[] toDouble(float[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }
}
