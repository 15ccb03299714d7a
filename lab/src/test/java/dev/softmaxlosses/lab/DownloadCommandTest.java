package dev.softmaxlosses.lab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@code download} and the download options of {@code train} on the command line: a bad option or a
 * cached file that does not match is one {@code error:} line, exit status 2, before anything is
 * fetched, and never an internal error.
 */
class DownloadCommandTest {

    @TempDir
    Path dir;

    private static void assertOneError(Cli.Run r, String message) {
        assertEquals(SoftmaxLab.EXIT_BAD_INPUT, r.status(), () -> "exit status 2; stderr: " + r.err());
        assertEquals("error: " + message + System.lineSeparator(), r.err());
        assertEquals("", r.out());
    }

    @Test
    void refusesMirrorsThatAreNotHttpUrls() {
        Path cache = dir.resolve("cache");
        for (String mirror : List.of("ht tp://x", "file:///etc", "")) {
            String problem = mirror.isEmpty() ? "is empty" : "is not an http:// or https:// URL";
            assertOneError(Cli.run("download", "mnist", "--cache", cache.toString(), "--mirror", mirror),
                    "--mirror '" + mirror + "' " + problem + "; give a base URL such as https://example.org/mnist/");
            assertOneError(Cli.run("train", "--loss", "normface", "--data", "mnist", "--cache", cache.toString(),
                    "--mirror", mirror, "--out", dir.resolve("out").toString()),
                    "--mirror '" + mirror + "' " + problem + "; give a base URL such as https://example.org/mnist/");
        }
        assertFalse(Files.exists(cache), "nothing created");
        assertFalse(Files.exists(dir.resolve("out")));
    }

    @Test
    void refusesAnEmptyCacheFolder() {
        assertOneError(Cli.run("download", "mnist", "--cache", ""),
                "--cache '' is empty; give a folder, or leave the option out for $SOFTMAX_LAB_CACHE or ~/.cache/softmax-lab");
    }

    @Test
    void leavesACachedFileThatDoesNotMatchAlone() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("mnist"));
        Path mine = Files.writeString(folder.resolve("t10k-labels-idx1-ubyte.gz"), "my own labels");
        byte[] before = Files.readAllBytes(mine);
        Cli.Run r = Cli.run("download", "mnist", "--cache", dir.toString(), "--mirror", "http://no-such-host.invalid/");
        assertOneError(r, mine + " does not match its published MD5 (ec29112dd5afa0611ce80d1b7f02629c, the file has"
                + " 1a53ec5d5f63cd4e49bd3133cdcc3e0f); softmax-lab keeps only files it has verified, so it leaves this one as"
                + " it is: move it away and run again");
        assertArrayEquals(before, Files.readAllBytes(mine));
    }
}
