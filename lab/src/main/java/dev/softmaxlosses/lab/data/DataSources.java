package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Turns the {@code --data} argument into a data set: the name of the bundled subset, of a data set to
 * download ({@code mnist}, {@code fashion-mnist}), or a folder of IDX files or of faces.
 */
public final class DataSources {

    /** The bundled default: a small subset of Fashion-MNIST shipped inside the lab. */
    public static final String BUNDLED = "fashion-mnist-subset";

    /** Where the bundled subset lives on the class path. */
    static final String BUNDLED_RESOURCES = "/dev/softmaxlosses/lab/data/fashion-mnist-subset";

    private DataSources() {}

    /**
     * Loads {@code spec}.
     *
     * @param cache      where downloaded data sets are kept
     * @param mirrors    base URLs to download from instead of the official ones (null: the official ones)
     * @param downloader fetches what the cache lacks
     * @throws BadInputException for a bad {@code --cache} or {@code --mirror} even when nothing is downloaded,
     *                           so that a mistake is said at once rather than on the day the cache is empty
     */
    public static TrainTestSplit load(String spec, Path cache, List<String> mirrors, Downloader downloader) {
        Downloader.checkOptions(cache, mirrors);
        if (spec.equals(BUNDLED)) {
            return bundled();
        }
        Downloader.Source source = Downloader.source(spec);
        if (source != null && !Files.isDirectory(Path.of(spec))) {
            Path folder = Downloader.isCached(source, cache) ? cache.resolve(source.name())
                    : downloader.fetch(source, cache, mirrors);
            return IdxDatasets.load(folder, source.name());
        }
        Path folder = Path.of(spec);
        if (!Files.exists(folder)) {
            throw new BadInputException("--data " + spec + ": no such folder; give " + BUNDLED + ", mnist, fashion-mnist,"
                    + " a folder of MNIST-style IDX files or a folder of PGM faces (one sub-folder per person)");
        }
        if (!Files.isDirectory(folder)) {
            throw new BadInputException("--data " + spec + " is a file; give the folder that holds the data files");
        }
        String name = folder.toAbsolutePath().normalize().getFileName() == null ? spec
                : folder.toAbsolutePath().normalize().getFileName().toString();
        if (IdxDatasets.looksLikeIdxFolder(folder)) {
            return IdxDatasets.load(folder, name);
        }
        if (FaceFolders.looksLikeFaceFolder(folder)) {
            return FaceFolders.load(folder, name);
        }
        throw new BadInputException("--data " + spec + " holds neither MNIST-style IDX files (train-images-idx3-ubyte[.gz]"
                + " and the rest) nor face folders (one sub-folder of .pgm images per person)");
    }

    /** The bundled Fashion-MNIST subset (Zalando SE, MIT licence). */
    public static TrainTestSplit bundled() {
        return IdxDatasets.loadResources(BUNDLED_RESOURCES, BUNDLED, IdxDatasets.FASHION_MNIST_CLASSES);
    }
}
