package dev.softmaxlosses.lab.data;

import com.sun.net.httpserver.HttpServer;
import dev.softmaxlosses.lab.BadInputException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The downloader against servers on the loopback address: checksums verified, files cached and not
 * fetched again, a bad download never left as data, no network said in plain words; servers that stay
 * silent, stall, trickle, send too much or redirect where they should not each fail within the limits
 * with one reason; a cached file that does not match is kept as it is; the options are checked first.
 */
@Timeout(20)
class DownloaderTest {

    /**
     * Limits with the given time-outs. Each test makes small only the one it means to break: a server on
     * the loopback address keeps the others easily, even on a busy machine whose first request also
     * loads the HTTP client.
     */
    private static Downloader.Limits limits(Duration idle, Duration window, Duration whole) {
        return new Downloader.Limits(Duration.ofSeconds(2), idle, window, 1000, 64 << 10, whole);
    }

    private static final Downloader.Limits RELAXED = limits(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(20));

    /** A pause of a second is what these tests break: long enough for the answer to come first. */
    private static final Downloader.Limits STALLS = limits(Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(20));

    @TempDir
    Path dir;

    private HttpServer server;
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();
    private final Map<String, String> redirects = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();
    private Downloader.Source source;
    private final StringWriter log = new StringWriter();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            requests.incrementAndGet();
            String path = exchange.getRequestURI().getPath().substring(1);
            byte[] body = served.get(path);
            if (redirects.containsKey(path)) {
                exchange.getResponseHeaders().add("Location", redirects.get(path));
                exchange.sendResponseHeaders(302, -1);
            } else if (body == null) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
            exchange.close();
        });
        server.start();
        source = toy(base(), Map.of("a.gz", served("a.gz", ("content of a.gz").getBytes()),
                "b.gz", served("b.gz", ("content of b.gz").getBytes())));
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private byte[] served(String name, byte[] content) {
        served.put(name, content);
        return content;
    }

    private static Downloader.Source toy(String mirror, Map<String, byte[]> files) throws Exception {
        List<Downloader.RemoteFile> remote = new ArrayList<>();
        for (String name : files.keySet().stream().sorted().toList()) {
            remote.add(new Downloader.RemoteFile(name, md5(files.get(name))));
        }
        return new Downloader.Source("toy", List.of(mirror), remote, "test data");
    }

    private String base() {
        return "http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort() + "/";
    }

    private Downloader downloader() {
        return downloader(RELAXED);
    }

    private Downloader downloader(Downloader.Limits limits) {
        return new Downloader(new PrintWriter(log, true), limits);
    }

    private static String md5(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    }

    private BadInputException refused(Downloader.Source s, List<String> mirrors) {
        return refused(RELAXED, s, mirrors);
    }

    private BadInputException refused(Downloader.Limits limits, Downloader.Source s, List<String> mirrors) {
        return assertThrows(BadInputException.class, () -> downloader(limits).fetch(s, dir, mirrors));
    }

    private List<String> cached() throws IOException {
        if (!Files.isDirectory(dir.resolve("toy"))) {
            return List.of();
        }
        try (Stream<Path> left = Files.list(dir.resolve("toy"))) {
            return left.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private String how() {
        return "; copy the files (a.gz, b.gz) into " + dir.resolve("toy") + ", or pass --data FOLDER";
    }

    @Test
    void downloadsVerifiesAndCaches() throws IOException {
        Path folder = downloader().fetch(source, dir, null);
        assertEquals(dir.resolve("toy"), folder);
        assertTrue(log.toString().contains("downloaded " + base() + "a.gz (15 bytes, MD5 verified)"), log.toString());
        assertArrayEquals(served.get("a.gz"), Files.readAllBytes(folder.resolve("a.gz")));
        assertEquals(2, requests.get());
        assertTrue(Downloader.isCached(source, dir));
        downloader().fetch(source, dir, null);
        assertEquals(2, requests.get(), "verified files are not fetched again");
    }

    @Test
    void keepsAMismatchingCachedFileAndRefuses() throws IOException {
        Files.createDirectories(dir.resolve("toy"));
        byte[] theirs = "someone else's b.gz".getBytes();
        Files.write(dir.resolve("toy/b.gz"), theirs);
        assertFalse(Downloader.isCached(source, dir));
        BadInputException e = refused(source, null);
        assertEquals(dir.resolve("toy/b.gz") + " does not match its published MD5 (" + source.files().get(1).md5()
                + ", the file has " + Downloader.md5(dir.resolve("toy/b.gz")) + "); softmax-lab keeps only files it has"
                + " verified, so it leaves this one as it is: move it away and run again", e.getMessage());
        assertArrayEquals(theirs, Files.readAllBytes(dir.resolve("toy/b.gz")), "kept byte for byte");
        assertEquals(0, requests.get(), "refused before anything is downloaded");
        assertEquals(List.of("b.gz"), cached());
    }

    @Test
    void refusesSomethingInTheWayThatIsNotAFile() throws IOException {
        Files.createDirectories(dir.resolve("toy/a.gz"));
        BadInputException e = refused(source, null);
        assertEquals(dir.resolve("toy/a.gz") + " is in the way of the download and is not a file: move it away and run again",
                e.getMessage());
        assertEquals(0, requests.get());
    }

    @Test
    void refusesAFileWithTheWrongChecksumAndKeepsNothing() throws Exception {
        served.put("b.gz", "tampered".getBytes());
        BadInputException e = refused(source, null);
        assertEquals("cannot download toy/b.gz: " + base() + "b.gz gave a file with MD5 " + md5("tampered".getBytes())
                + ", the published one is " + source.files().get(1).md5() + how(), e.getMessage());
        assertEquals(List.of("a.gz"), cached(), "neither the bad file nor a partial one is kept");
    }

    @Test
    void reportsAMissingFile() throws IOException {
        served.remove("a.gz");
        BadInputException e = refused(source, null);
        assertEquals("cannot download toy/a.gz: " + base() + "a.gz answered HTTP 404" + how(), e.getMessage());
        assertEquals(List.of(), cached());
    }

    @Test
    void saysPlainlyWhenThereIsNoNetwork() {
        // .invalid never resolves (RFC 6761), with or without a network
        BadInputException e = refused(source, List.of("http://no-such-host.invalid/"));
        String m = e.getMessage();
        assertTrue(m.startsWith("cannot download toy: no network connection"), m);
        assertTrue(m.contains("no-such-host.invalid") && m.endsWith(how()), m);
    }

    @Test
    void givesUpOnAServerThatNeverAnswers() throws Exception {
        try (RawHttpServer silent = new RawHttpServer((in, out) -> RawHttpServer.silence(in))) {
            Downloader.Limits quick = limits(Duration.ofMillis(400), Duration.ofSeconds(5), Duration.ofSeconds(20));
            long start = System.nanoTime();
            BadInputException e = refused(quick, source, List.of(silent.base()));
            assertBoundedBy(start, quick.idle());
            assertEquals("cannot download toy/a.gz: " + silent.base() + "a.gz did not answer within 0.4 s" + how(),
                    e.getMessage());
            assertTrue(silent.clientHungUpWithin(2000), "the connection is closed, not left waiting");
            assertEquals(List.of(), cached(), "no partial file left");
        }
    }

    /** What is said of a server that answers, sends {@code bytes} bytes of the body and then nothing. */
    private String stallAfter(int bytes) throws Exception {
        try (RawHttpServer stalled = new RawHttpServer((in, out) -> {
            RawHttpServer.headers(out, 1000);
            out.write(new byte[bytes]);
            out.flush();
            RawHttpServer.silence(in);
        })) {
            long start = System.nanoTime();
            BadInputException e = refused(STALLS, source, List.of(stalled.base()));
            assertBoundedBy(start, STALLS.idle());
            assertTrue(stalled.clientHungUpWithin(2000), "the connection is closed, not left waiting");
            assertEquals(List.of(), cached());
            return e.getMessage().replace(stalled.base(), "MIRROR/");
        }
    }

    @Test
    void givesUpOnAServerThatAnswersAndSendsNothing() throws Exception {
        assertEquals("cannot download toy/a.gz: MIRROR/a.gz answered, then sent nothing for 1 s" + how(), stallAfter(0));
    }

    @Test
    void givesUpOnAServerThatStopsHalfway() throws Exception {
        assertEquals("cannot download toy/a.gz: MIRROR/a.gz sent 10 bytes, then nothing for 1 s" + how(), stallAfter(10));
    }

    @Test
    void givesUpOnAServerThatTrickles() throws Exception {
        try (RawHttpServer trickle = new RawHttpServer((in, out) -> {
            RawHttpServer.headers(out, 60_000);
            while (true) {
                out.write('x');
                out.flush();
                Thread.sleep(50);
            }
        })) {
            Downloader.Limits quick = limits(Duration.ofSeconds(5), Duration.ofMillis(800), Duration.ofSeconds(20));
            long start = System.nanoTime();
            BadInputException e = refused(quick, source, List.of(trickle.base()));
            assertBoundedBy(start, quick.window());
            assertTrue(e.getMessage().matches("cannot download toy/a\\.gz: \\Q" + trickle.base()
                    + "\\Ea\\.gz sent \\d+ bytes in 0\\.8 s, too slow \\(the least is 1000 bytes/s\\)\\Q" + how() + "\\E"),
                    e.getMessage());
            assertTrue(trickle.clientHungUpWithin(2000), "the trickle is cut off");
            assertEquals(List.of(), cached());
        }
    }

    /** A body sent at {@code rate} bytes a second in small pieces, as a slow but working link brings it. */
    private static RawHttpServer.Conversation slowly(byte[] body, int rate) {
        return (in, out) -> {
            RawHttpServer.headers(out, body.length);
            int piece = rate / 50;
            for (int at = 0; at < body.length; at += piece) {
                out.write(body, at, Math.min(piece, body.length - at));
                out.flush();
                Thread.sleep(20);
            }
        };
    }

    @Test
    void completesASlowButSteadyTransfer() throws Exception {
        byte[] body = new byte[8000];
        Arrays.fill(body, (byte) 7);
        // five times the least rate, for longer than the rate window and the idle limit
        Downloader.Limits steady = limits(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(20));
        try (RawHttpServer slow = new RawHttpServer(slowly(body, 5000))) {
            Downloader.Source one = toy(slow.base(), Map.of("a.gz", body));
            long start = System.nanoTime();
            downloader(steady).fetch(one, dir, null);
            assertTrue(System.nanoTime() - start > steady.window().toNanos(), "the transfer outlasted a rate window");
            assertArrayEquals(body, Files.readAllBytes(dir.resolve("toy/a.gz")));
        }
    }

    @Test
    void stopsAtTheBoundOnTheWholeDownload() throws Exception {
        byte[] body = new byte[8000];
        Downloader.Limits shortWhole = limits(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofMillis(500));
        try (RawHttpServer slow = new RawHttpServer(slowly(body, 5000))) {
            Downloader.Source one = new Downloader.Source("toy", List.of(slow.base(), base()),
                    List.of(new Downloader.RemoteFile("a.gz", md5(body))), "test data");
            long start = System.nanoTime();
            BadInputException e = assertThrows(BadInputException.class, () -> downloader(shortWhole).fetch(one, dir, null));
            assertBoundedBy(start, shortWhole.whole());
            assertEquals("cannot download toy/a.gz: " + slow.base() + "a.gz was still going after 0.5 s, the bound on the"
                    + " whole download; copy the files (a.gz) into " + dir.resolve("toy") + ", or pass --data FOLDER",
                    e.getMessage());
            assertEquals(0, requests.get(), "the next mirror is not tried once the time is up");
            assertEquals(List.of(), cached());
        }
    }

    @Test
    void triesTheNextMirrorAfterOneThatFails() throws Exception {
        try (RawHttpServer silent = new RawHttpServer((in, out) -> RawHttpServer.silence(in))) {
            Downloader.Source one = toy(silent.base(), Map.of("a.gz", served.get("a.gz")));
            downloader(STALLS).fetch(one, dir, List.of(silent.base(), base()));
            assertEquals(List.of("a.gz"), cached());
            assertEquals(1, silent.connections());
        }
    }

    @Test
    void refusesABodyAnnouncedLargerThanTheCap() throws Exception {
        try (RawHttpServer huge = new RawHttpServer((in, out) -> {
            RawHttpServer.headers(out, RELAXED.maximumBytes() + 1);
            RawHttpServer.silence(in);
        })) {
            long start = System.nanoTime();
            BadInputException e = refused(source, List.of(huge.base()));
            assertBoundedBy(start, Duration.ZERO);
            assertEquals("cannot download toy/a.gz: " + huge.base() + "a.gz announced 65537 bytes, more than the 64 KiB"
                    + " a data file may have" + how(), e.getMessage());
            assertEquals(List.of(), cached());
        }
    }

    @Test
    void cutsOffABodyThatGrowsPastTheCap() throws Exception {
        AtomicInteger sent = new AtomicInteger();
        CountDownLatch stopped = new CountDownLatch(1);
        server.createContext("/endless/", exchange -> {
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                for (int i = 0; i < 4000; i++) {
                    out.write(new byte[8192]);
                    sent.addAndGet(8192);
                }
            } catch (IOException e) {
                // the client hung up
            }
            exchange.close();
            stopped.countDown();
        });
        BadInputException e = refused(source, List.of(base() + "endless/"));
        assertEquals("cannot download toy/a.gz: " + base() + "endless/a.gz sent more than 64 KiB, more than a data file"
                + " may have" + how(), e.getMessage());
        assertTrue(stopped.await(5, TimeUnit.SECONDS), "the server stopped sending");
        assertTrue(sent.get() < 4000 * 8192, "the server was cut off, having sent " + sent.get());
        assertEquals(List.of(), cached());
    }

    @Test
    void followsARedirect() throws Exception {
        redirects.put("old/a.gz", "/a.gz");
        redirects.put("old/b.gz", base() + "b.gz");
        downloader().fetch(source, dir, List.of(base() + "old"));
        assertEquals(List.of("a.gz", "b.gz"), cached());
        assertArrayEquals(served.get("b.gz"), Files.readAllBytes(dir.resolve("toy/b.gz")));
    }

    @Test
    void refusesARedirectToAFile() throws IOException {
        redirects.put("a.gz", "file:///etc/passwd");
        BadInputException e = refused(source, null);
        assertEquals("cannot download toy/a.gz: " + base() + "a.gz redirected to file:///etc/passwd, which is not an http"
                + " or https URL" + how(), e.getMessage());
        assertEquals(List.of(), cached());
    }

    @Test
    void refusesEndlessRedirects() throws IOException {
        redirects.put("a.gz", "/a.gz");
        BadInputException e = refused(source, null);
        assertEquals("cannot download toy/a.gz: " + base() + "a.gz (redirected to " + base() + "a.gz) redirected more than "
                + Downloader.MAXIMUM_REDIRECTS + " times" + how(), e.getMessage());
        assertEquals(Downloader.MAXIMUM_REDIRECTS + 1, requests.get());
    }

    @Test
    void cachedFilesGetTheModeOfAnyNewFile() throws IOException {
        downloader().fetch(source, dir, null);
        Path probe = dir.resolve("toy/probe");
        Files.newOutputStream(probe).close();
        Set<PosixFilePermission> usual = Files.getPosixFilePermissions(probe);
        Assumptions.assumeFalse(usual.equals(PosixFilePermissions.fromString("rw-------")),
                "with a umask of 077 a private temporary file looks like any other");
        assertEquals(PosixFilePermissions.toString(usual),
                PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("toy/a.gz"))));
    }

    @Test
    void removesOnlyItsOwnStaleTemporaryFiles() throws IOException {
        Path toy = Files.createDirectories(dir.resolve("toy"));
        FileTime old = FileTime.from(Instant.now().minus(Duration.ofHours(2)));
        List<String> names = List.of(".a.gz.softmax-lab-00000000000000a1.part", ".a.gz.softmax-lab-00000000000000a2.part",
                ".a.gz.12345.part", ".c.gz.softmax-lab-00000000000000a3.part", "a.gz.softmax-lab-00000000000000a4.part");
        for (String name : names) {
            Files.writeString(toy.resolve(name), name);
            if (!name.endsWith("a2.part")) {
                Files.setLastModifiedTime(toy.resolve(name), old);
            }
        }
        downloader(Downloader.Limits.DEFAULT).fetch(source, dir, null);
        assertEquals(List.of(".a.gz.12345.part", ".a.gz.softmax-lab-00000000000000a2.part",
                ".c.gz.softmax-lab-00000000000000a3.part", "a.gz", "a.gz.softmax-lab-00000000000000a4.part", "b.gz"), cached(),
                "only a temporary file of this data set, unmistakably the lab's and older than any run, is removed");
    }

    @Test
    void refusesMirrorsThatAreNotHttpUrlsBeforeAnyWork() {
        Map<String, String> problems = Map.of(
                "ht tp://x", "is not an http:// or https:// URL",
                "file:///etc", "is not an http:// or https:// URL",
                "example.org/mnist/", "is not an http:// or https:// URL",
                "", "is empty",
                "http:///mnist/", "has no valid host name",
                "http://example.org:99999/", "has a port beyond 65535",
                "http://example.org/mnist?x=1", "has a query or a fragment, where the file name would go");
        problems.forEach((mirror, problem) -> {
            BadInputException e = refused(source, List.of(base(), mirror));
            assertEquals("--mirror '" + mirror + "' " + problem + "; give a base URL such as https://example.org/mnist/",
                    e.getMessage());
        });
        assertFalse(Files.exists(dir.resolve("toy")), "nothing created");
        assertEquals(0, requests.get(), "nothing fetched");
    }

    @Test
    void refusesAnEmptyCacheFolder() {
        BadInputException e = assertThrows(BadInputException.class, () -> downloader().fetch(source, Path.of(""), null));
        assertEquals("--cache '' is empty; give a folder, or leave the option out for $SOFTMAX_LAB_CACHE or"
                + " ~/.cache/softmax-lab", e.getMessage());
        assertEquals(0, requests.get());
    }

    @Test
    void checksTheOptionsEvenWhenNothingIsDownloaded() {
        BadInputException e = assertThrows(BadInputException.class, () -> DataSources.load(DataSources.BUNDLED, dir,
                List.of("file:///etc"), downloader()));
        assertEquals("--mirror 'file:///etc' is not an http:// or https:// URL; give a base URL such as"
                + " https://example.org/mnist/", e.getMessage());
    }

    @Test
    void knowsTheOfficialDataSetsAndTheirPublishedChecksums() {
        assertEquals("f68b3c2dcbeaaa9fbdd348bbdeb94873", Downloader.source("mnist").files().get(0).md5());
        assertEquals("8d4fb7e6c68d591d4c3dfef9ec88bf0d", Downloader.source("Fashion-MNIST").files().get(0).md5());
        assertEquals(null, Downloader.source("cifar10"));
    }

    @Test
    void acceptsTheSharedCopiesAsCached() {
        Path shared = Path.of(System.getProperty("project.root", "."), "..", "shared", "data");
        Assumptions.assumeTrue(Files.isDirectory(shared.resolve("mnist")));
        assertTrue(Downloader.isCached(Downloader.MNIST, shared), "the shared files carry the published MD5s");
        assertTrue(Downloader.isCached(Downloader.FASHION_MNIST, shared));
    }

    @Test
    void theDefaultLimitsLetASlowLinkThroughAndStopAServerThatStalls() {
        Downloader.Limits d = Downloader.Limits.DEFAULT;
        long largest = 26_421_880;
        long fashionMnist = 26_421_880 + 29_515 + 4_422_102 + 5_148;
        assertTrue(d.minimumRate() * 9 <= 100_000, "a 100 KB/s link brings over nine times the least rate");
        assertTrue(fashionMnist / d.minimumRate() < d.whole().toSeconds(), "the whole set at the least rate fits the bound");
        assertTrue(d.maximumBytes() >= 10 * largest, "room above the largest official file");
        for (Duration bound : List.of(d.connect(), d.idle(), d.window())) {
            assertTrue(bound.toSeconds() <= 30, "a dead, silent, stalled or trickling server fails in half a minute");
        }
    }

    private static void assertBoundedBy(long startNanos, Duration bound) {
        Duration took = Duration.ofNanos(System.nanoTime() - startNanos);
        // generous: the machine may be busy; without the bounds these waits are endless
        assertTrue(took.compareTo(bound.plusSeconds(3)) < 0, "took " + took + " for a bound of " + bound);
    }
}
