package dev.softmaxlosses.bench;

import java.util.Random;

/** Parses the benchmarks' shape parameters and makes their data. */
final class Shapes {

    private Shapes() {}

    /** {@code "256x32768"} as {@code {256, 32768}}; {@code "NxDxC"} as three numbers. */
    static int[] parse(String shape) {
        String[] parts = shape.split("x");
        int[] dims = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            dims[i] = Integer.parseInt(parts[i]);
        }
        return dims;
    }

    /** Logits of a trained-looking model: standard normal scaled by 3, seeded. */
    static float[] logits(int rows, int cols, long seed) {
        Random random = new Random(seed);
        float[] z = new float[Math.multiplyExact(rows, cols)];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (3 * random.nextGaussian());
        }
        return z;
    }

    static int[] labels(int rows, int cols, long seed) {
        Random random = new Random(seed);
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = random.nextInt(cols);
        }
        return y;
    }

    /** A batch of {@link #logits} seeded {@code seed}, labels seeded 7, and a gradient buffer. */
    record Batch(int rows, int cols, float[] logits, int[] labels, float[] grad) {}

    /** The batch of a {@code "NxC"} shape. */
    static Batch batch(String shape, long seed) {
        int[] dims = parse(shape);
        float[] z = logits(dims[0], dims[1], seed);
        return new Batch(dims[0], dims[1], z, labels(dims[0], dims[1], 7), new float[z.length]);
    }
}
