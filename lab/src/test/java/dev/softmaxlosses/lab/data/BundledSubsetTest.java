package dev.softmaxlosses.lab.data;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The shipped Fashion-MNIST subset is what its README says: the first 600 / 200 images of each class. */
class BundledSubsetTest {

    @Test
    void holdsSixHundredTrainingAndTwoHundredTestImagesPerClass() {
        TrainTestSplit b = DataSources.bundled();
        assertEquals(IdxDatasets.FASHION_MNIST_CLASSES, b.train().classNames());
        assertEquals(784, b.train().dim());
        for (int count : b.train().classCounts()) {
            assertEquals(600, count);
        }
        for (int count : b.test().classCounts()) {
            assertEquals(200, count);
        }
    }

    @Test
    void isTheFirstImagesOfEachClassOfTheOfficialFiles() {
        Path full = Path.of(System.getProperty("project.root", "."), "..", "shared", "data", "fashion-mnist");
        Assumptions.assumeTrue(Files.isDirectory(full), "the full Fashion-MNIST is in ../shared/data beside the repository");
        TrainTestSplit official = IdxDatasets.load(full, "fashion-mnist");
        TrainTestSplit bundled = DataSources.bundled();
        assertSame(firstPerClass(official.train(), 600), bundled.train());
        assertSame(firstPerClass(official.test(), 200), bundled.test());
    }

    private static void assertSame(Dataset expected, Dataset actual) {
        assertArrayEquals(expected.labels(), actual.labels());
        assertArrayEquals(expected.features(), actual.features());
    }

    private static Dataset firstPerClass(Dataset d, int k) {
        int[] taken = new int[d.classes()];
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < d.size(); i++) {
            if (taken[d.labels()[i]]++ < k) {
                rows.add(i);
            }
        }
        return d.select(rows.stream().mapToInt(Integer::intValue).toArray());
    }
}
