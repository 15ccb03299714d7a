package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * Fetches the official MNIST and Fashion-MNIST files into a cache folder, checks each against its
 * published MD5, and reuses what is cached and verified. A file is written under a temporary name and
 * moved into place only once its checksum matches, so an interrupted or corrupt download never
 * passes for data. When no host can be reached the error says so in plain words and tells how to
 * supply the files by hand. The JDK's HTTP client reports a host it cannot resolve as a failed
 * connection, so both read as "no network connection".
 */
public final class Downloader {

    /** One file of a data set with its published MD5. */
    public record RemoteFile(String name, String md5) {}

    /**
     * A data set that can be downloaded.
     *
     * @param name     the name used on the command line and as the cache sub-folder
     * @param mirrors  base URLs tried in order (each ends with {@code /})
     * @param files    the four IDX files with their published MD5s
     * @param credit   the licence and whom to credit
     */
    public record Source(String name, List<String> mirrors, List<RemoteFile> files, String credit) {}

    /** MNIST (Y. LeCun, C. Cortes, C. J. C. Burges; CC BY-SA 3.0). The MD5s are the published ones. */
    public static final Source MNIST = new Source("mnist",
            List.of("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
            List.of(new RemoteFile("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                    new RemoteFile("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                    new RemoteFile("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                    new RemoteFile("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")),
            "MNIST: Y. LeCun, C. Cortes and C. J. C. Burges, CC BY-SA 3.0");

    /** Fashion-MNIST (Zalando SE, MIT licence). The MD5s are those of its README. */
    public static final Source FASHION_MNIST = new Source("fashion-mnist",
            List.of("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
            List.of(new RemoteFile("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                    new RemoteFile("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                    new RemoteFile("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                    new RemoteFile("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")),
            "Fashion-MNIST: Zalando SE, MIT licence");

    /** The data sets by name. */
    public static final List<Source> SOURCES = List.of(MNIST, FASHION_MNIST);

    private final HttpClient client;
    private final Duration timeout;
    private final PrintWriter log;

    /** A downloader that reports what it does, one line per file, to {@code log}. */
    public Downloader(PrintWriter log) {
        this(log, Duration.ofSeconds(20));
    }

    Downloader(PrintWriter log, Duration timeout) {
        this.client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NORMAL).build();
        this.timeout = timeout;
        this.log = log;
    }

    /** The source called {@code name}, or null. */
    public static Source source(String name) {
        for (Source s : SOURCES) {
            if (s.name().equals(name.toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        return null;
    }

    /** The cache folder: {@code $SOFTMAX_LAB_CACHE}, else {@code ~/.cache/softmax-lab}. */
    public static Path defaultCache() {
        String env = System.getenv("SOFTMAX_LAB_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "softmax-lab");
    }

    /** Whether every file of {@code source} is already in {@code cacheRoot} with the right checksum. */
    public static boolean isCached(Source source, Path cacheRoot) {
        Path folder = cacheRoot.resolve(source.name());
        for (RemoteFile f : source.files()) {
            Path p = folder.resolve(f.name());
            if (!Files.isRegularFile(p) || !f.md5().equals(md5(p))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Makes sure the files of {@code source} are in {@code cacheRoot/NAME}, verified, downloading the
     * missing or damaged ones from {@code mirrors} (the source's own when null), and returns the folder.
     */
    public Path fetch(Source source, Path cacheRoot, List<String> mirrors) {
        List<String> bases = mirrors == null || mirrors.isEmpty() ? source.mirrors() : mirrors;
        Path folder = cacheRoot.resolve(source.name());
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new BadInputException("cannot create the cache folder " + folder + ": " + e.getMessage());
        }
        for (RemoteFile file : source.files()) {
            Path target = folder.resolve(file.name());
            if (Files.isRegularFile(target)) {
                if (file.md5().equals(md5(target))) {
                    continue;
                }
                log.println("softmax-lab: " + target + " did not match its published checksum; fetching it again");
            }
            download(source, file, bases, target);
            log.flush();
        }
        log.flush();
        return folder;
    }

    private void download(Source source, RemoteFile file, List<String> bases, Path target) {
        List<String> failures = new ArrayList<>();
        boolean onlyUnreachable = true;
        for (String base : bases) {
            URI uri = URI.create(base.endsWith("/") ? base + file.name() : base + "/" + file.name());
            Path temporary = null;
            try {
                temporary = Files.createTempFile(target.getParent(), "." + file.name() + ".", ".part");
                HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout.multipliedBy(6)).GET().build();
                HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream body = response.body()) {
                    if (response.statusCode() != 200) {
                        onlyUnreachable = false;
                        failures.add(uri + " answered HTTP " + response.statusCode());
                        continue;
                    }
                    Files.copy(body, temporary, StandardCopyOption.REPLACE_EXISTING);
                }
                String actual = md5(temporary);
                if (!actual.equals(file.md5())) {
                    onlyUnreachable = false;
                    failures.add(uri + " gave a file with MD5 " + actual + ", the published one is " + file.md5());
                    continue;
                }
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
                // Said after the fact, so that a failed download is one error line and nothing else.
                log.println("softmax-lab: downloaded " + uri + " (" + Files.size(target) + " bytes, MD5 verified)");
                return;
            } catch (UnknownHostException e) {
                failures.add("the host " + uri.getHost() + " cannot be found");
            } catch (ConnectException | HttpConnectTimeoutException e) {
                failures.add("no connection to " + uri.getHost() + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"));
            } catch (HttpTimeoutException e) {
                failures.add(uri.getHost() + " did not answer in time");
            } catch (IOException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                if (cause instanceof UnknownHostException) {
                    failures.add("the host " + uri.getHost() + " cannot be found");
                } else {
                    onlyUnreachable = false;
                    failures.add("reading " + uri + " failed: " + e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BadInputException("the download of " + file.name() + " was interrupted");
            } finally {
                deleteQuietly(temporary);
            }
        }
        String how = "copy the files (" + String.join(", ", source.files().stream().map(RemoteFile::name).toList())
                + ") into " + target.getParent() + ", or pass --data FOLDER";
        if (onlyUnreachable) {
            throw new BadInputException("cannot download " + source.name() + ": no network connection ("
                    + String.join("; ", failures) + "); " + how);
        }
        throw new BadInputException("cannot download " + source.name() + "/" + file.name() + ": "
                + String.join("; ", failures) + "; " + how);
    }

    /** The MD5 of a file, in lower-case hex. */
    static String md5(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("MD5");
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no MD5", e);
        }
    }

    private static void deleteQuietly(Path p) {
        if (p == null) {
            return;
        }
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover .part file is harmless: it is never taken for data
        }
    }
}
