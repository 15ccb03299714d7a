package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;
import dev.softmaxlosses.lab.Messages;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A folder or a {@code .zip} archive of files, read in place: a zip is read entry by entry through its
 * central directory, never unpacked. Files are named by their path relative to the folder (or the
 * archive's root) with {@code /} between the parts, and listed in natural order ({@code class2} before
 * {@code class10}). Hidden files and folders (a name starting with {@code .}) and macOS's
 * {@code __MACOSX} folders are skipped. Reading is bounded: at most {@value #MAX_FILES} files and
 * {@value #MAX_FILE_BYTES} bytes a file, counted as they are read (a zip's declared sizes are not trusted).
 */
public final class ImageArchive implements AutoCloseable {

    /** The most files a folder or archive may list. */
    public static final int MAX_FILES = 2_000_000;

    /** The largest file that is read, in bytes. */
    public static final long MAX_FILE_BYTES = 64L << 20;

    private final Path path;
    private final ZipFile zip;
    private final List<String> files;

    private ImageArchive(Path path, ZipFile zip, List<String> files) {
        this.path = path;
        this.zip = zip;
        this.files = files;
    }

    /**
     * Opens {@code path}: a folder, or a zip archive (recognised by its content, whatever its name).
     *
     * @param option the option that named it, for messages ({@code --data}, {@code --runs})
     * @throws BadInputException when it does not exist, is neither a folder nor a readable zip archive, or
     *                           holds too many files
     */
    public static ImageArchive open(Path path, String option) {
        if (!Files.exists(path)) {
            throw new BadInputException(option + " " + Messages.quote(path.toString()) + ": no such file or folder");
        }
        if (Files.isDirectory(path)) {
            return new ImageArchive(path, null, listFolder(path, option));
        }
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (ZipException e) {
            throw new BadInputException(option + " " + Messages.quote(path.toString()) + (startsAsZip(path)
                    ? " is a corrupt zip archive (" : " is neither a folder nor a zip archive (")
                    + Messages.oneLine(e.getMessage()) + ")");
        } catch (IOException e) {
            throw new BadInputException(option + " " + Messages.quote(path.toString()) + ": cannot read it ("
                    + Messages.oneLine(e.getMessage()) + ")");
        }
        try {
            List<String> names = new ArrayList<>();
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                String name = e.getName();
                if (!e.isDirectory() && !skipped(name)) {
                    if (names.size() == MAX_FILES) {
                        throw new BadInputException(option + " " + Messages.quote(path.toString()) + " holds more than "
                                + MAX_FILES + " files");
                    }
                    names.add(name);
                }
            }
            names.sort(ImageArchive::naturalOrder);
            return new ImageArchive(path, zip, List.copyOf(names));
        } catch (RuntimeException e) {
            closeQuietly(zip);
            if (e instanceof BadInputException bad) {
                throw bad;
            }
            throw new BadInputException(option + " " + Messages.quote(path.toString()) + " is a corrupt zip archive ("
                    + Messages.oneLine(String.valueOf(e.getMessage())) + ")");
        }
    }

    /** Whether {@code file} begins with a zip archive's {@code PK} signature (then a failure to open it is corruption). */
    private static boolean startsAsZip(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(4);
            return head.length == 4 && head[0] == 'P' && head[1] == 'K' && head[2] < 16 && head[3] < 16;
        } catch (IOException e) {
            return false;
        }
    }

    private static List<String> listFolder(Path folder, String option) {
        List<String> names = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(folder, FileVisitOption.FOLLOW_LINKS)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (!Files.isRegularFile(p)) {
                    continue;
                }
                String name = folder.relativize(p).toString().replace('\\', '/');
                if (skipped(name)) {
                    continue;
                }
                if (names.size() == MAX_FILES) {
                    throw new BadInputException(option + " " + Messages.quote(folder.toString()) + " holds more than "
                            + MAX_FILES + " files");
                }
                names.add(name);
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new BadInputException(option + " " + Messages.quote(folder.toString()) + ": cannot list it ("
                    + Messages.oneLine(e.getMessage()) + ")");
        }
        names.sort(ImageArchive::naturalOrder);
        return List.copyOf(names);
    }

    /** Paths compared part by part, each part in {@link FaceFolders#naturalCompare natural order}. */
    static int naturalOrder(String a, String b) {
        String[] pa = a.split("/");
        String[] pb = b.split("/");
        for (int i = 0; i < Math.min(pa.length, pb.length); i++) {
            int c = FaceFolders.naturalCompare(pa[i], pb[i]);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(pa.length, pb.length);
    }

    static boolean skipped(String name) {
        for (String part : name.split("/")) {
            if (part.startsWith(".") || part.equals("__MACOSX")) {
                return true;
            }
        }
        return false;
    }

    /** Every file, by relative path with {@code /}, in natural order. */
    public List<String> files() {
        return files;
    }

    /** Whether this is a zip archive (else a folder). */
    public boolean isZip() {
        return zip != null;
    }

    /** The folder or archive, as given. */
    public Path path() {
        return path;
    }

    /** How messages name {@code file}: {@code folder/a/b.png}, or {@code archive.zip!/a/b.png}. */
    public String describe(String file) {
        return zip != null ? path + "!/" + file : path.resolve(file).toString();
    }

    /**
     * The bytes of {@code file} (one of {@link #files()}).
     *
     * @throws BadInputException when it cannot be read, is corrupt in the archive, or is larger than
     *                           {@value #MAX_FILE_BYTES} bytes
     */
    public byte[] read(String file) {
        try (InputStream in = open(file)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[1 << 16];
            long total = 0;
            for (int r; (r = in.read(buffer)) > 0; ) {
                total += r;
                if (total > MAX_FILE_BYTES) {
                    throw new BadInputException(Messages.oneLine(describe(file)) + " is larger than " + MAX_FILE_BYTES
                            + " bytes, more than an image of the lab may be");
                }
                out.write(buffer, 0, r);
            }
            return out.toByteArray();
        } catch (IOException | RuntimeException e) {
            if (e instanceof BadInputException bad) {
                throw bad;
            }
            throw new BadInputException("cannot read " + Messages.oneLine(describe(file)) + " ("
                    + Messages.oneLine(String.valueOf(e.getMessage())) + ")");
        }
    }

    private InputStream open(String file) throws IOException {
        if (zip == null) {
            return Files.newInputStream(path.resolve(file));
        }
        ZipEntry entry = zip.getEntry(file);
        if (entry == null) {
            throw new IOException("no such entry");
        }
        return zip.getInputStream(entry);
    }

    @Override
    public void close() {
        if (zip != null) {
            closeQuietly(zip);
        }
    }

    private static void closeQuietly(ZipFile zip) {
        try {
            zip.close();
        } catch (IOException ignored) {
            // only read from: nothing is lost
        }
    }
}
