package dev.softmaxlosses.lab.data;

import com.sun.net.httpserver.HttpServer;
import dev.softmaxlosses.lab.BadInputException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The downloader against a server on the loopback address: checksums verified, files cached and not
 * fetched again, a damaged file fetched again, a bad download never left as data, and no network
 * said in plain words.
 */
class DownloaderTest {

    @TempDir
    Path dir;

    private HttpServer server;
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();
    private Downloader.Source source;
    private final StringWriter log = new StringWriter();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            requests.incrementAndGet();
            byte[] body = served.get(exchange.getRequestURI().getPath().substring(1));
            if (body == null) {
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
        List<Downloader.RemoteFile> files = new ArrayList<>();
        for (String name : List.of("a.gz", "b.gz")) {
            byte[] content = ("content of " + name).getBytes();
            served.put(name, content);
            files.add(new Downloader.RemoteFile(name, md5(content)));
        }
        source = new Downloader.Source("toy", List.of(base()), files, "test data");
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private String base() {
        return "http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort() + "/";
    }

    private Downloader downloader() {
        return new Downloader(new PrintWriter(log, true), Duration.ofSeconds(5));
    }

    private static String md5(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
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
    void fetchesADamagedCachedFileAgain() throws IOException {
        downloader().fetch(source, dir, null);
        Files.writeString(dir.resolve("toy/b.gz"), "damaged");
        assertFalse(Downloader.isCached(source, dir));
        downloader().fetch(source, dir, null);
        assertEquals(3, requests.get());
        assertTrue(log.toString().contains("did not match its published checksum"));
        assertArrayEquals(served.get("b.gz"), Files.readAllBytes(dir.resolve("toy/b.gz")));
    }

    @Test
    void refusesAFileWithTheWrongChecksumAndKeepsNothing() throws IOException {
        served.put("b.gz", "tampered".getBytes());
        BadInputException e = assertThrows(BadInputException.class, () -> downloader().fetch(source, dir, null));
        assertTrue(e.getMessage().contains("b.gz") && e.getMessage().contains("published one is"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("toy/b.gz")), "a file that fails its checksum is not kept");
        try (Stream<Path> left = Files.list(dir.resolve("toy"))) {
            assertEquals(List.of("a.gz"), left.map(p -> p.getFileName().toString()).toList(), "no partial file left");
        }
    }

    @Test
    void reportsAMissingFile() {
        served.remove("a.gz");
        BadInputException e = assertThrows(BadInputException.class, () -> downloader().fetch(source, dir, null));
        assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
    }

    @Test
    void saysPlainlyWhenThereIsNoNetwork() {
        // .invalid never resolves (RFC 6761), with or without a network
        BadInputException e = assertThrows(BadInputException.class,
                () -> downloader().fetch(source, dir, List.of("http://no-such-host.invalid/")));
        String m = e.getMessage();
        assertTrue(m.startsWith("cannot download toy: no network connection"), m);
        assertTrue(m.contains("no-such-host.invalid") && m.contains("copy the files (a.gz, b.gz)")
                && m.contains("--data FOLDER"), m);
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
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(shared.resolve("mnist")));
        assertTrue(Downloader.isCached(Downloader.MNIST, shared), "the shared files carry the published MD5s");
        assertTrue(Downloader.isCached(Downloader.FASHION_MNIST, shared));
    }
}
