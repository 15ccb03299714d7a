package dev.softmaxlosses.lab.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * A tiny MNIST-style data set for tests, written as real IDX files: {@code classes} classes of 6x6
 * images (or of another size), each class a bright bar in its own place over seeded noise, so that a small network learns
 * it in a few epochs.
 */
public final class SyntheticData {

    public static final int SIDE = 6;

    private SyntheticData() {}

    /** Writes the four IDX files (gzipped or not) into {@code folder} and returns it. */
    public static Path writeIdxFolder(Path folder, int classes, int trainPerClass, int testPerClass, boolean gzip, long seed) {
        return writeIdxFolder(folder, classes, trainPerClass, testPerClass, gzip, seed, SIDE);
    }

    /** As {@link #writeIdxFolder(Path, int, int, int, boolean, long)}, with images of {@code side x side} pixels. */
    public static Path writeIdxFolder(Path folder, int classes, int trainPerClass, int testPerClass, boolean gzip, long seed,
                                      int side) {
        Random random = new Random(seed);
        try {
            write(folder, "train", classes, trainPerClass, gzip, random, side);
            write(folder, "t10k", classes, testPerClass, gzip, random, side);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return folder;
    }

    private static void write(Path folder, String split, int classes, int perClass, boolean gzip, Random random, int side)
            throws IOException {
        int n = classes * perClass;
        byte[] images = new byte[n * side * side];
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            int c = i % classes;
            labels[i] = (byte) c;
            for (int p = 0; p < side * side; p++) {
                images[i * side * side + p] = (byte) random.nextInt(60);
            }
            // class c lights the pixels of row c % side and of column (c / side + c) % side
            for (int k = 0; k < side; k++) {
                images[i * side * side + (c % side) * side + k] = (byte) (180 + random.nextInt(70));
                images[i * side * side + k * side + (c / side + c) % side] = (byte) (150 + random.nextInt(100));
            }
        }
        String suffix = gzip ? ".gz" : "";
        new IdxFile(new int[] {n, side, side}, images).write(folder.resolve(split + "-images-idx3-ubyte" + suffix), gzip);
        new IdxFile(new int[] {n}, labels).write(folder.resolve(split + "-labels-idx1-ubyte" + suffix), gzip);
    }
}
