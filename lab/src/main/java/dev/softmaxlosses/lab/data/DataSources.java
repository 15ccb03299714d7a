package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;
import dev.softmaxlosses.lab.Messages;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns the {@code --data} arguments into a data set: the name of the bundled subset, of a data set to
 * download ({@code mnist}, {@code fashion-mnist}), a folder of IDX files, or one or more folders or zip
 * archives of image classes ({@link ImageFolders}, the ORL faces among them).
 */
public final class DataSources {

    /** The bundled default: a small subset of Fashion-MNIST shipped inside the lab. */
    public static final String BUNDLED = "fashion-mnist-subset";

    /** Where the bundled subset lives on the class path. */
    static final String BUNDLED_RESOURCES = "/dev/softmaxlosses/lab/data/fashion-mnist-subset";

    private DataSources() {}

    /**
     * Loads {@code spec} as {@link #load(List, Integer, boolean, Path, List, Downloader)} does, without image
     * options.
     */
    public static TrainTestSplit load(String spec, Path cache, List<String> mirrors, Downloader downloader) {
        return load(List.of(spec), null, false, cache, mirrors, downloader);
    }

    /**
     * Loads the {@code --data} sources {@code specs}: one name or folder of any kind, or several image
     * folders or zip archives, merged ({@link ImageFolders}).
     *
     * @param specs      the {@code --data} values, in order (none: the bundled subset)
     * @param imageSize  {@code --image-size}, or null: image folders only
     * @param invert     {@code --invert}: image folders only
     * @param cache      where downloaded data sets are kept
     * @param mirrors    base URLs to download from instead of the official ones (null: the official ones)
     * @param downloader fetches what the cache lacks
     * @throws BadInputException for a bad {@code --cache} or {@code --mirror} even when nothing is downloaded,
     *                           so that a mistake is said at once rather than on the day the cache is empty; for
     *                           several sources that are not all image folders; for image options on other data;
     *                           for an empty value
     */
    public static TrainTestSplit load(List<String> specs, Integer imageSize, boolean invert, Path cache, List<String> mirrors,
                                      Downloader downloader) {
        Downloader.checkOptions(cache, mirrors);
        List<String> all = specs == null || specs.isEmpty() ? List.of(BUNDLED) : specs;
        for (String spec : all) {
            if (spec.isBlank()) {
                // An unset variable: not the current folder.
                throw new BadInputException("--data is empty: give " + BUNDLED + ", mnist, fashion-mnist, a folder or a zip"
                        + " archive, or leave --data out");
            }
        }
        if (all.size() > 1) {
            List<Path> paths = new ArrayList<>();
            List<String> names = new ArrayList<>();
            for (String spec : all) {
                Path path = Path.of(spec);
                if (!Files.exists(path) && (spec.equals(BUNDLED) || Downloader.source(spec) != null)) {
                    throw new BadInputException("--data " + Messages.quote(spec) + " is given with other --data; only image"
                            + " folders and zip archives can be given several times (to merge their classes)");
                }
                if (!Files.exists(path)) {
                    throw new BadInputException("--data " + Messages.quote(spec) + ": no such folder or zip archive");
                }
                if (Files.isDirectory(path) && IdxDatasets.looksLikeIdxFolder(path)) {
                    throw new BadInputException("--data " + Messages.quote(spec) + " holds MNIST-style IDX files; only image"
                            + " folders and zip archives can be given several times (to merge their classes)");
                }
                paths.add(path);
                names.add(name(path, spec));
            }
            return ImageFolders.load(paths, imageSize, invert, String.join("+", names));
        }
        String spec = all.get(0);
        String imageOption = imageSize != null ? "--image-size" : invert ? "--invert" : null;
        if (spec.equals(BUNDLED)) {
            refuseImageOption(imageOption, spec, "the bundled Fashion-MNIST subset");
            return bundled();
        }
        Downloader.Source source = Downloader.source(spec);
        if (source != null && !Files.isDirectory(Path.of(spec))) {
            refuseImageOption(imageOption, spec, "a data set of IDX files");
            Path folder = Downloader.isCached(source, cache) ? cache.resolve(source.name())
                    : downloader.fetch(source, cache, mirrors);
            return IdxDatasets.load(folder, source.name());
        }
        Path folder = Path.of(spec);
        if (!Files.exists(folder)) {
            throw new BadInputException("--data " + spec + ": no such folder or zip archive; give " + BUNDLED + ", mnist,"
                    + " fashion-mnist, a folder of MNIST-style IDX files, or a folder or zip archive of images with one"
                    + " sub-folder per class (PGM faces in the ORL layout, say)");
        }
        String name = name(folder, spec);
        if (!Files.isDirectory(folder)) {
            if (isZip(folder)) {
                return ImageFolders.load(List.of(folder), imageSize, invert, name);
            }
            throw new BadInputException("--data " + spec + " is a file, and no zip archive; give the folder that holds"
                    + " the data files, or a zip archive of image folders");
        }
        if (IdxDatasets.looksLikeIdxFolder(folder)) {
            refuseImageOption(imageOption, spec, "a folder of IDX files");
            return IdxDatasets.load(folder, name);
        }
        if (FaceFolders.looksLikeFaceFolder(folder)) {
            // PGM faces (ORL): held-out people give their test images only, as they always have
            return ImageFolders.load(List.of(folder), imageSize, invert, name, false);
        }
        if (ImageFolders.looksLikeImageFolder(folder)) {
            return ImageFolders.load(List.of(folder), imageSize, invert, name);
        }
        throw new BadInputException("--data " + spec + " holds neither MNIST-style IDX files (train-images-idx3-ubyte[.gz]"
                + " and the rest) nor face folders or other image folders (one sub-folder of .pgm, .png, .jpg, ... images"
                + " per class)");
    }

    private static void refuseImageOption(String option, String spec, String what) {
        if (option != null) {
            throw new BadInputException(option + " applies to image folders and zip archives; --data "
                    + Messages.quote(spec) + " is " + what);
        }
    }

    /** The data's name: the folder's or archive's name, without {@code .zip}. */
    private static String name(Path path, String spec) {
        Path file = path.toAbsolutePath().normalize().getFileName();
        String name = file == null ? spec : file.toString();
        return name.toLowerCase(Locale.ROOT).endsWith(".zip") && name.length() > 4 ? name.substring(0, name.length() - 4)
                : name;
    }

    /** Whether {@code file} starts as a zip archive does ({@code PK}), or is named {@code .zip}. */
    private static boolean isZip(Path file) {
        if (file.getFileName() != null && file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".zip")) {
            return true;
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(2);
            return head.length == 2 && head[0] == 'P' && head[1] == 'K';
        } catch (IOException e) {
            return false;
        }
    }

    /** The bundled Fashion-MNIST subset (Zalando SE, MIT licence). */
    public static TrainTestSplit bundled() {
        return IdxDatasets.loadResources(BUNDLED_RESOURCES, BUNDLED, IdxDatasets.FASHION_MNIST_CLASSES);
    }
}
