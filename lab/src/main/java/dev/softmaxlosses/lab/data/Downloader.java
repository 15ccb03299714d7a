package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fetches the official MNIST and Fashion-MNIST files into a cache folder, checks each against its
 * published MD5, and reuses what is cached and verified. When no host can be reached the error says
 * so in plain words and tells how to supply the files by hand. The JDK's HTTP client reports a host
 * it cannot resolve as a failed connection, so both read as "no network connection".
 *
 * <p><b>Bounded.</b> Each mirror gets a bounded time per file, so that a server that accepts and
 * never answers, stalls, or trickles fails in well under a minute and the next mirror is tried, while
 * a slow but working connection still completes. The defaults ({@link Limits#DEFAULT}):
 * <ul>
 *   <li>a connection within 10 s: a working host connects in far less, even across the world, and a
 *       host that is down is told apart quickly from one that is slow to answer;</li>
 *   <li>the answer within 20 s, and never 20 s without a byte of the body: a server may be slow to
 *       start, but one that says nothing for that long is not going to;</li>
 *   <li>at least 10 KiB/s over every 30 s of the transfer: a server sending a byte at a time never
 *       pauses long enough to trip the previous rule. A 100 KB/s connection brings over nine times
 *       the floor, and at the floor the largest official file (26 MB) still arrives in under an hour;</li>
 *   <li>at most 256 MiB per file, ten times the largest official one: a larger announced length is
 *       refused before the body is read, and a body that grows past it is cut off, so a wrong server
 *       cannot fill the disk;</li>
 *   <li>60 min for the whole {@link #fetch}: Fashion-MNIST's four files (31 MB) take about 50 min at
 *       the floor rate, and a server that keeps just above the floor cannot hold the command for
 *       ever;</li>
 *   <li>at most 5 redirects, to http or https only: hosts move their files to https or a content
 *       network, never to a local file.</li>
 * </ul>
 * The calling thread never blocks on the network: the transfer runs in the HTTP client's own threads
 * and the caller waits on it with a deadline, then cancels the exchange, which closes its connection.
 *
 * <p><b>The cache is never damaged.</b> A file is written under a temporary name, with the mode any
 * new file gets (so the cached files do too), and moved into place only once its checksum matches;
 * every failure deletes it. Since only verified files are moved in, a cached file that does not match
 * its checksum was put there by someone else: it is reported and left as it is, never replaced. A
 * temporary file left by a run that was killed is removed by a later run once no run could still be
 * writing it; it is recognised by a name no one else would choose.
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

    /**
     * How long and how much one download may take; see the class comment for the defaults and why.
     *
     * @param connect      the longest wait for a connection to a mirror
     * @param idle         the longest wait for the answer, and the longest pause in the body
     * @param window       the spans of a transfer over which {@code minimumRate} is judged
     * @param minimumRate  the bytes per second each full window must bring, on average
     * @param maximumBytes the largest file accepted
     * @param whole        the bound on one {@link #fetch}: every file from every mirror
     */
    record Limits(Duration connect, Duration idle, Duration window, long minimumRate, long maximumBytes, Duration whole) {
        static final Limits DEFAULT = new Limits(Duration.ofSeconds(10), Duration.ofSeconds(20), Duration.ofSeconds(30),
                10 << 10, 256L << 20, Duration.ofMinutes(60));

        long minimumPerWindow() {
            return minimumRate * window.toMillis() / 1000;
        }
    }

    static final int MAXIMUM_REDIRECTS = 5;

    /** The temporary files' names: {@code .NAME.softmax-lab-HEX.part}, which no one else would choose. */
    private static final Pattern PART = Pattern.compile("\\.(.+)\\.softmax-lab-[0-9a-f]{16}\\.part");

    private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);

    private final PrintWriter log;
    private final Limits limits;

    /** A downloader that reports what it does, one line per file, to {@code log}. */
    public Downloader(PrintWriter log) {
        this(log, Limits.DEFAULT);
    }

    Downloader(PrintWriter log, Limits limits) {
        this.log = log;
        this.limits = limits;
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
            try {
                if (!Files.isRegularFile(p) || !f.md5().equals(md5(p))) {
                    return false;
                }
            } catch (UncheckedIOException e) {
                // fetch says what is wrong with it
                return false;
            }
        }
        return true;
    }

    /**
     * Refuses a {@code --cache} or {@code --mirror} value that cannot be used, with one line naming the
     * option and the value, before anything is created or fetched.
     *
     * @param cache   the cache folder (null: the default)
     * @param mirrors the base URLs (null: the official ones)
     * @throws BadInputException for an empty cache folder, or a mirror that is not an http or https URL
     *                           with a host and without a query
     */
    public static void checkOptions(Path cache, List<String> mirrors) {
        if (cache != null && cache.toString().isBlank()) {
            throw new BadInputException("--cache '" + cache + "' is empty; give a folder, or leave the option out for"
                    + " $SOFTMAX_LAB_CACHE or ~/.cache/softmax-lab");
        }
        for (String mirror : mirrors == null ? List.<String>of() : mirrors) {
            String problem = mirrorProblem(mirror);
            if (problem != null) {
                throw new BadInputException("--mirror '" + mirror + "' " + problem
                        + "; give a base URL such as https://example.org/mnist/");
            }
        }
    }

    private static String mirrorProblem(String mirror) {
        if (mirror.isBlank()) {
            return "is empty";
        }
        URI uri;
        try {
            uri = new URI(mirror);
        } catch (URISyntaxException e) {
            return "is not an http:// or https:// URL";
        }
        if (!isHttp(uri)) {
            return "is not an http:// or https:// URL";
        }
        if (uri.getHost() == null) {
            return "has no valid host name";
        }
        if (uri.getPort() > 65535) {
            return "has a port beyond 65535";
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            return "has a query or a fragment, where the file name would go";
        }
        try {
            HttpRequest.newBuilder(fileUri(mirror, "x"));
        } catch (IllegalArgumentException e) {
            return "cannot be requested (" + e.getMessage() + ")";
        }
        return null;
    }

    private static boolean isHttp(URI uri) {
        return "http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme());
    }

    private static URI fileUri(String base, String name) {
        return URI.create(base.endsWith("/") ? base + name : base + "/" + name);
    }

    /**
     * Makes sure the files of {@code source} are in {@code cacheRoot/NAME}, verified, downloading the
     * missing ones from {@code mirrors} (the source's own when null), and returns the folder.
     *
     * @throws BadInputException for a bad option (see {@link #checkOptions}), a cached file that does
     *                           not match its checksum, or a file no mirror could serve within the limits
     */
    public Path fetch(Source source, Path cacheRoot, List<String> mirrors) {
        checkOptions(cacheRoot, mirrors);
        long deadline = System.nanoTime() + limits.whole().toNanos();
        List<String> bases = mirrors == null || mirrors.isEmpty() ? source.mirrors() : mirrors;
        Path folder = cacheRoot.resolve(source.name());
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new BadInputException("cannot create the cache folder " + folder + ": " + e.getMessage());
        }
        removeLeftovers(source, folder);
        List<RemoteFile> missing = new ArrayList<>();
        for (RemoteFile file : source.files()) {
            Path target = folder.resolve(file.name());
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                refuseUnlessVerified(file, target);
            } else {
                missing.add(file);
            }
        }
        if (missing.isEmpty()) {
            return folder;
        }
        // HTTP/1.1: an exchange has a connection of its own, closed when the exchange is cancelled, so a
        // stalled connection is never handed to the next request.
        HttpClient client = HttpClient.newBuilder().connectTimeout(limits.connect())
                .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1).build();
        try {
            for (RemoteFile file : missing) {
                download(client, source, file, bases, folder.resolve(file.name()), deadline);
                log.flush();
            }
        } finally {
            // Closes whatever connection a cancelled exchange may still hold.
            client.shutdownNow();
        }
        log.flush();
        return folder;
    }

    private static void refuseUnlessVerified(RemoteFile file, Path target) {
        if (!Files.isRegularFile(target)) {
            throw new BadInputException(target + " is in the way of the download and is not a file: move it away and run again");
        }
        String actual;
        try {
            actual = md5(target);
        } catch (UncheckedIOException e) {
            throw new BadInputException("cannot read " + target + ": " + e.getCause().getMessage());
        }
        if (!actual.equals(file.md5())) {
            throw new BadInputException(target + " does not match its published MD5 (" + file.md5() + ", the file has "
                    + actual + "); softmax-lab keeps only files it has verified, so it leaves this one as it is:"
                    + " move it away and run again");
        }
    }

    private void download(HttpClient client, Source source, RemoteFile file, List<String> bases, Path target, long deadline) {
        List<String> failures = new ArrayList<>();
        boolean onlyUnreachable = true;
        for (String base : bases) {
            URI uri = fileUri(base, file.name());
            Part part = null;
            try {
                part = newPart(target);
                Outcome outcome;
                try (FileChannel out = part.channel()) {
                    outcome = transfer(client, uri, out, deadline);
                    if (outcome.kind() == Kind.DONE) {
                        // A cached file that a power cut left short would read as someone else's file.
                        out.force(true);
                    }
                }
                if (outcome.kind() == Kind.OUT_OF_TIME) {
                    failures.add(outcome.reason());
                    throw cannotDownload(source, file, target, failures, false);
                }
                if (outcome.kind() != Kind.DONE) {
                    onlyUnreachable &= outcome.kind() == Kind.UNREACHABLE;
                    failures.add(outcome.reason());
                    continue;
                }
                String actual = md5(part.path());
                if (!actual.equals(file.md5())) {
                    onlyUnreachable = false;
                    failures.add(uri + " gave a file with MD5 " + actual + ", the published one is " + file.md5());
                    continue;
                }
                try {
                    Files.move(part.path(), target);
                } catch (FileAlreadyExistsException e) {
                    // Another run got there first; what it left must pass the same test.
                    refuseUnlessVerified(file, target);
                }
                // Said after the fact, so that a failed download is one error line and nothing else.
                log.println("softmax-lab: downloaded " + uri + " (" + Files.size(target) + " bytes, MD5 verified)");
                return;
            } catch (IOException | UncheckedIOException e) {
                String reason = e instanceof UncheckedIOException u ? u.getCause().getMessage() : e.getMessage();
                throw new BadInputException("cannot write " + (part == null ? target.getParent() : part.path()) + ": " + reason);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BadInputException("the download of " + file.name() + " was interrupted");
            } finally {
                if (part != null) {
                    deleteQuietly(part.path());
                }
            }
        }
        throw cannotDownload(source, file, target, failures, onlyUnreachable);
    }

    private static BadInputException cannotDownload(Source source, RemoteFile file, Path target, List<String> failures,
                                                    boolean onlyUnreachable) {
        String how = "copy the files (" + String.join(", ", source.files().stream().map(RemoteFile::name).toList())
                + ") into " + target.getParent() + ", or pass --data FOLDER";
        if (onlyUnreachable) {
            return new BadInputException("cannot download " + source.name() + ": no network connection ("
                    + String.join("; ", failures) + "); " + how);
        }
        return new BadInputException("cannot download " + source.name() + "/" + file.name() + ": "
                + String.join("; ", failures) + "; " + how);
    }

    private enum Kind { DONE, REDIRECT, UNREACHABLE, FAILED, OUT_OF_TIME }

    /** How one request ended; {@code reason} says why it failed, or where a redirect leads. */
    private record Outcome(Kind kind, String reason) {
        static final Outcome DONE = new Outcome(Kind.DONE, null);
    }

    /**
     * Gets {@code first} into {@code out}, following redirects; the limits hold for the whole chain,
     * so that a server cannot stretch them by redirecting.
     */
    private Outcome transfer(HttpClient client, URI first, FileChannel out, long deadline)
            throws IOException, InterruptedException {
        Progress progress = new Progress(System.nanoTime());
        URI uri = first;
        for (int redirects = 0; ; redirects++) {
            String who = redirects == 0 ? first.toString() : first + " (redirected to " + uri + ")";
            Exchange exchange = new Exchange(progress, out, limits.maximumBytes());
            CompletableFuture<HttpResponse<Void>> response;
            try {
                response = client.sendAsync(HttpRequest.newBuilder(uri).GET().build(), exchange);
            } catch (IllegalArgumentException e) {
                return new Outcome(Kind.FAILED, who + " cannot be requested: " + e.getMessage());
            }
            // A failure before the answer (no connection, say) reaches the future and not the body.
            response.whenComplete((r, failure) -> {
                if (failure != null) {
                    exchange.failed(failure);
                }
            });
            Outcome outcome;
            try {
                outcome = supervise(exchange, progress, who, uri, deadline);
            } finally {
                exchange.stop();
                response.cancel(true);
            }
            if (outcome.kind() != Kind.REDIRECT) {
                return outcome;
            }
            URI next;
            try {
                next = uri.resolve(new URI(outcome.reason()));
            } catch (URISyntaxException e) {
                return new Outcome(Kind.FAILED, who + " redirected to '" + outcome.reason() + "', which is not a URL");
            }
            if (!isHttp(next) || next.getHost() == null) {
                return new Outcome(Kind.FAILED, who + " redirected to " + next + ", which is not an http or https URL");
            }
            if (redirects == MAXIMUM_REDIRECTS) {
                return new Outcome(Kind.FAILED, who + " redirected more than " + MAXIMUM_REDIRECTS + " times");
            }
            uri = next;
        }
    }

    /** Waits for {@code exchange} to end or to break a limit; never blocks on the network. */
    private Outcome supervise(Exchange exchange, Progress p, String who, URI uri, long deadline)
            throws IOException, InterruptedException {
        synchronized (p) {
            while (true) {
                if (exchange.writeError != null) {
                    throw exchange.writeError;
                }
                if (exchange.refusal != null) {
                    return new Outcome(Kind.FAILED, who + " " + exchange.refusal);
                }
                if (exchange.info != null && exchange.info.statusCode() != 200) {
                    return answered(who, exchange.info);
                }
                if (exchange.error != null) {
                    return failure(who, uri, exchange.error);
                }
                if (exchange.complete) {
                    return Outcome.DONE;
                }
                long now = System.nanoTime();
                long idleEnd = p.lastProgress + limits.idle().toNanos();
                long windowEnd = p.windowStart + limits.window().toNanos();
                if (now - deadline >= 0) {
                    return new Outcome(Kind.OUT_OF_TIME, who + " was still going after " + duration(limits.whole())
                            + ", the bound on the whole download");
                }
                if (now - idleEnd >= 0) {
                    String silence = exchange.info == null ? "did not answer within "
                            : p.received == 0 ? "answered, then sent nothing for "
                            : "sent " + p.received + " bytes, then nothing for ";
                    return new Outcome(Kind.FAILED, who + " " + silence + duration(limits.idle()));
                }
                if (now - windowEnd >= 0) {
                    long brought = p.received - p.windowBase;
                    if (brought < limits.minimumPerWindow()) {
                        return new Outcome(Kind.FAILED, who + " sent " + brought + " bytes in " + duration(limits.window())
                                + ", too slow (the least is " + bytes(limits.minimumRate()) + "/s)");
                    }
                    // From now, not from the window's end: a late wake-up must not shorten the next window.
                    p.windowStart = now;
                    p.windowBase = p.received;
                    continue;
                }
                long wake = Math.min(deadline - now, Math.min(idleEnd - now, windowEnd - now));
                p.wait(Math.max(1, (wake + 999_999) / 1_000_000));
            }
        }
    }

    private static Outcome answered(String who, HttpResponse.ResponseInfo info) {
        if (REDIRECTS.contains(info.statusCode())) {
            return info.headers().firstValue("Location").map(location -> new Outcome(Kind.REDIRECT, location))
                    .orElse(new Outcome(Kind.FAILED, who + " answered HTTP " + info.statusCode() + " without a Location"));
        }
        return new Outcome(Kind.FAILED, who + " answered HTTP " + info.statusCode());
    }

    private static Outcome failure(String who, URI uri, Throwable failure) {
        Throwable e = failure;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof UnknownHostException || c instanceof UnresolvedAddressException) {
                return new Outcome(Kind.UNREACHABLE, "the host " + uri.getHost() + " cannot be found");
            }
        }
        if (e instanceof ConnectException || e instanceof HttpConnectTimeoutException) {
            return new Outcome(Kind.UNREACHABLE, "no connection to " + uri.getHost()
                    + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"));
        }
        return new Outcome(Kind.FAILED, "reading " + who + " failed: " + e);
    }

    /** Where one mirror's transfer stands; its monitor guards it and the current {@link Exchange}. */
    private static final class Progress {
        long received;
        long lastProgress;
        long windowStart;
        long windowBase;

        Progress(long start) {
            lastProgress = start;
            windowStart = start;
        }
    }

    /**
     * One request: takes the answer and writes a 200's body to the file, in the HTTP client's threads,
     * and notes what happened for {@link #supervise}. Once stopped it ignores whatever still arrives,
     * so the file may be closed and deleted.
     */
    private static final class Exchange implements HttpResponse.BodyHandler<Void>, HttpResponse.BodySubscriber<Void> {
        private final Progress progress;
        private final FileChannel out;
        private final long maximumBytes;
        private final CompletableFuture<Void> body = new CompletableFuture<>();
        // guarded by progress
        HttpResponse.ResponseInfo info;
        boolean complete;
        Throwable error;
        IOException writeError;
        String refusal;
        private boolean stopped;
        private Flow.Subscription subscription;

        Exchange(Progress progress, FileChannel out, long maximumBytes) {
            this.progress = progress;
            this.out = out;
            this.maximumBytes = maximumBytes;
        }

        @Override
        public HttpResponse.BodySubscriber<Void> apply(HttpResponse.ResponseInfo answer) {
            synchronized (progress) {
                info = answer;
                progress.lastProgress = System.nanoTime();
                long announced = answer.headers().firstValue("Content-Length").map(Exchange::parseLength).orElse(-1L);
                if (answer.statusCode() == 200 && announced > maximumBytes) {
                    refusal = "announced " + announced + " bytes, more than the " + bytes(maximumBytes) + " a data file may have";
                }
                progress.notifyAll();
            }
            return this;
        }

        private static long parseLength(String value) {
            try {
                return Long.parseLong(value.strip());
            } catch (NumberFormatException e) {
                // the client refuses the answer itself
                return -1;
            }
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            boolean wanted;
            synchronized (progress) {
                subscription = s;
                wanted = !stopped && refusal == null && info.statusCode() == 200;
            }
            if (wanted) {
                s.request(1);
            } else {
                s.cancel();
            }
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            boolean more;
            synchronized (progress) {
                if (stopped) {
                    return;
                }
                long n = 0;
                for (ByteBuffer b : buffers) {
                    n += b.remaining();
                }
                if (progress.received + n > maximumBytes) {
                    refusal = "sent more than " + bytes(maximumBytes) + ", more than a data file may have";
                    more = false;
                } else {
                    more = write(buffers);
                    if (more) {
                        progress.received += n;
                        progress.lastProgress = System.nanoTime();
                    }
                }
                progress.notifyAll();
            }
            if (more) {
                subscription.request(1);
            } else {
                subscription.cancel();
            }
        }

        private boolean write(List<ByteBuffer> buffers) {
            try {
                for (ByteBuffer b : buffers) {
                    while (b.hasRemaining()) {
                        out.write(b);
                    }
                }
                return true;
            } catch (IOException e) {
                writeError = e;
                return false;
            }
        }

        @Override
        public void onError(Throwable failure) {
            failed(failure);
            body.completeExceptionally(failure);
        }

        void failed(Throwable failure) {
            synchronized (progress) {
                if (!stopped && error == null) {
                    error = failure;
                }
                progress.notifyAll();
            }
        }

        @Override
        public void onComplete() {
            synchronized (progress) {
                complete = true;
                progress.notifyAll();
            }
            body.complete(null);
        }

        @Override
        public CompletionStage<Void> getBody() {
            return body;
        }

        void stop() {
            Flow.Subscription s;
            synchronized (progress) {
                stopped = true;
                s = subscription;
            }
            if (s != null) {
                s.cancel();
            }
        }
    }

    private record Part(Path path, FileChannel channel) {}

    /**
     * A new temporary file beside {@code target}. Opened without a mode of its own, so that it gets the
     * one any new file gets (0666 less the umask), which it keeps as the cached file.
     */
    private static Part newPart(Path target) throws IOException {
        while (true) {
            Path part = target.resolveSibling("." + target.getFileName() + ".softmax-lab-"
                    + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()) + ".part");
            try {
                return new Part(part, FileChannel.open(part, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
            } catch (FileAlreadyExistsException e) {
                // another run drew the same name: draw again
            }
        }
    }

    /**
     * Deletes the temporary files of {@code source} that no run can still be writing: every run stops
     * at {@link Limits#whole}, so one untouched for longer was left by a run that was killed.
     */
    private void removeLeftovers(Source source, Path folder) {
        Set<String> names = Set.copyOf(source.files().stream().map(RemoteFile::name).toList());
        long before = System.currentTimeMillis() - limits.whole().toMillis();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder, ".*.part")) {
            for (Path p : entries) {
                Matcher m = PART.matcher(p.getFileName().toString());
                if (m.matches() && names.contains(m.group(1)) && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                        && Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis() < before) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException ignored) {
            // a leftover is harmless: it is never taken for data
        }
    }

    /** {@code d} for a message: {@code 20 s}, {@code 60 min}, {@code 0.25 s}. */
    private static String duration(Duration d) {
        long ms = d.toMillis();
        if (ms >= 60_000 && ms % 60_000 == 0) {
            return ms / 60_000 + " min";
        }
        return BigDecimal.valueOf(ms, 3).stripTrailingZeros().toPlainString() + " s";
    }

    /** {@code n} bytes for a message: {@code 256 MiB}, {@code 10 KiB}, {@code 1000 bytes}. */
    private static String bytes(long n) {
        if (n >= 1 << 20 && n % (1 << 20) == 0) {
            return (n >> 20) + " MiB";
        }
        if (n >= 1 << 10 && n % (1 << 10) == 0) {
            return (n >> 10) + " KiB";
        }
        return n + " bytes";
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
