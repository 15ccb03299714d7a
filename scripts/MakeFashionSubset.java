import dev.softmaxlosses.lab.data.IdxFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Makes the Fashion-MNIST subset that the lab ships (lab/src/main/resources/.../fashion-mnist-subset):
 * the first 600 training images of each class and the first 200 test images of each class, in file
 * order, from the official files, as gzipped IDX files. Deterministic: the same input gives the same
 * bytes (gzip headers carry no time stamp here).
 *
 *     java -cp lab/target/classes scripts/MakeFashionSubset.java ../shared/data/fashion-mnist \
 *         lab/src/main/resources/dev/softmaxlosses/lab/data/fashion-mnist-subset
 */
public class MakeFashionSubset {

    static final int TRAIN_PER_CLASS = 600;
    static final int TEST_PER_CLASS = 200;

    public static void main(String[] args) throws Exception {
        Path source = Path.of(args[0]);
        Path target = Path.of(args[1]);
        Files.createDirectories(target);
        subset(source, target, "train", TRAIN_PER_CLASS);
        subset(source, target, "t10k", TEST_PER_CLASS);
    }

    static void subset(Path source, Path target, String split, int perClass) throws Exception {
        IdxFile images = IdxFile.read(source.resolve(split + "-images-idx3-ubyte.gz"));
        IdxFile labels = IdxFile.read(source.resolve(split + "-labels-idx1-ubyte.gz"));
        int[] dims = images.dims();
        int pixels = dims[1] * dims[2];
        int[] taken = new int[10];
        int total = 10 * perClass;
        byte[] outImages = new byte[total * pixels];
        byte[] outLabels = new byte[total];
        int n = 0;
        for (int i = 0; i < dims[0] && n < total; i++) {
            int y = labels.data()[i] & 0xff;
            if (taken[y] < perClass) {
                taken[y]++;
                System.arraycopy(images.data(), i * pixels, outImages, n * pixels, pixels);
                outLabels[n++] = (byte) y;
            }
        }
        if (n != total) {
            throw new IllegalStateException(split + ": only " + Arrays.toString(taken) + " images per class");
        }
        new IdxFile(new int[] {total, dims[1], dims[2]}, outImages)
                .write(target.resolve(split + "-images-idx3-ubyte.gz"), true);
        new IdxFile(new int[] {total}, outLabels).write(target.resolve(split + "-labels-idx1-ubyte.gz"), true);
    }
}
