package dev.softmaxlosses.lab.report;

import dev.softmaxlosses.lab.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code --out} rule: a report appears whole or not at all, replaces only an empty folder or a
 * report of the lab, never deletes a file the lab did not write, and one run at a time writes a folder.
 */
class ReportFolderTest {

    @TempDir
    Path dir;

    private List<String> listing(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** A report as a finished run leaves it: its files and the marker that lists them. */
    private Path report(String name, String... files) throws IOException {
        Path target = dir.resolve(name);
        try (ReportFolder folder = ReportFolder.open(target)) {
            for (String f : files) {
                Files.writeString(folder.path().resolve(f), "old " + f);
            }
            folder.commit();
        }
        return target;
    }

    /** A run that writes {@code report.html} ("new") into {@code target} and puts it in place. */
    private static void newReport(Path target) throws IOException {
        try (ReportFolder folder = ReportFolder.open(target)) {
            Files.writeString(folder.path().resolve("report.html"), "new");
            folder.commit();
        }
    }

    private static String refused(Path target, String... fragments) {
        BadInputException e = assertThrows(BadInputException.class, () -> ReportFolder.open(target).close());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "names '" + f + "': " + e.getMessage());
        }
        return e.getMessage();
    }

    @Test
    void anUnfinishedReportLeavesNothing() throws IOException {
        Path target = dir.resolve("demo");
        try (ReportFolder folder = ReportFolder.open(target)) {
            Files.writeString(folder.path().resolve("report.html"), "half");
            assertTrue(folder.path().getFileName().toString().startsWith(".demo.partial-"));
            assertTrue(Files.exists(dir.resolve(".demo.lock")), "the run holds the target's lock");
        }
        assertEquals(List.of(), listing(dir), "neither the hidden folder nor the lock file stays");
    }

    @Test
    void aFinishedReportReplacesTheOldOneWhole() throws IOException {
        Path target = report("demo", "old.png", "report.html");
        try (ReportFolder folder = ReportFolder.open(target)) {
            Files.writeString(folder.path().resolve("report.html"), "new");
            assertTrue(Files.exists(target.resolve("old.png")), "the old report stays until the new one is complete");
            folder.commit();
        }
        assertEquals(List.of("demo"), listing(dir));
        assertEquals(List.of(ReportFolder.MARKER, "report.html"), listing(target));
        assertEquals("new", Files.readString(target.resolve("report.html")));
        assertTrue(Files.readString(target.resolve(ReportFolder.MARKER)).lines().anyMatch("report.html"::equals),
                "the marker lists the files the lab wrote");
    }

    @Test
    void aFailedRunKeepsTheOldReport() throws IOException {
        Path target = report("demo", "report.html");
        try (ReportFolder folder = ReportFolder.open(target)) {
            Files.writeString(folder.path().resolve("report.html"), "half");
        }
        assertEquals("old report.html", Files.readString(target.resolve("report.html")));
        assertEquals(List.of("demo"), listing(dir));
    }

    @Test
    void anEmptyFolderMayBecomeAReport() throws IOException {
        Path target = Files.createDirectory(dir.resolve("empty"));
        newReport(target);
        assertEquals(List.of(ReportFolder.MARKER, "report.html"), listing(target));
    }

    @Test
    void refusesAFolderWithFilesTheLabDidNotWriteAndTouchesNothing() throws IOException {
        Path target = Files.createDirectories(dir.resolve("data"));
        Files.writeString(target.resolve("data.csv"), "precious");
        Files.createDirectory(target.resolve(".git"));
        String message = refused(target, "holds files the lab did not write", ".git/", "data.csv", "give a new folder",
                "move those files away");
        assertFalse(message.contains("\n"));
        assertEquals(List.of(".git", "data.csv"), listing(target));
        assertEquals("precious", Files.readString(target.resolve("data.csv")));
        assertEquals(List.of("data"), listing(dir), "no lock or hidden folder is left beside it");
    }

    @Test
    void refusesAReportToWhichTheUserAddedAFile() throws IOException {
        Path target = report("demo", "report.html");
        Files.writeString(target.resolve("notes.txt"), "mine");
        refused(target, "notes.txt");
        assertEquals("mine", Files.readString(target.resolve("notes.txt")));
        assertTrue(Files.exists(target.resolve("report.html")));
    }

    @Test
    void aMarkerThatListsAFileTheUserReplacedByAFolderDoesNotMakeItTheLabs() throws IOException {
        Path target = report("demo", "report.html", "roc.png");
        Files.delete(target.resolve("roc.png"));
        Files.createDirectory(target.resolve("roc.png"));
        Files.writeString(target.resolve("roc.png").resolve("inside"), "mine");
        refused(target, "roc.png/");
        assertTrue(Files.exists(target.resolve("roc.png").resolve("inside")));
    }

    @Test
    void recognisesAReportOfAnOlderLabByItsFiles() throws IOException {
        Path target = Files.createDirectory(dir.resolve("demo"));
        Files.writeString(target.resolve("report.html"), "<!doctype html>\n<html><head>\n<title>softmax-lab demo: x</title>\n");
        Files.writeString(target.resolve("metrics.json"), "{}");
        Files.writeString(target.resolve("01-softmax_cross_entropy-curves.png"), "png");
        newReport(target);
        assertEquals(List.of(ReportFolder.MARKER, "report.html"), listing(target));
    }

    @Test
    void anOlderReportWithAFileOfTheUsersIsRefused() throws IOException {
        Path target = Files.createDirectory(dir.resolve("demo"));
        Files.writeString(target.resolve("report.html"), "<title>softmax-lab demo: x</title>");
        Files.writeString(target.resolve("metrics.json"), "{}");
        Files.writeString(target.resolve("thesis.tex"), "mine");
        refused(target, "thesis.tex");
        Path notOurs = Files.createDirectory(dir.resolve("site"));
        Files.writeString(notOurs.resolve("report.html"), "<title>quarterly report</title>");
        Files.writeString(notOurs.resolve("metrics.json"), "{}");
        refused(notOurs, "report.html", "metrics.json");
    }

    @Test
    void refusesTheEmptyPathTheCurrentFolderItsParentsTheRootAndHome() throws IOException {
        refused(Path.of(""), "--out is empty");
        refused(Path.of("  "), "--out is empty");
        refused(Path.of("."), "is the current folder");
        refused(Path.of("").toAbsolutePath(), "is the current folder");
        refused(Path.of(".."), "holds the current folder");
        refused(Path.of("/"), "the root folder");
        String home = System.getProperty("user.home");
        try {
            Path fakeHome = Files.createDirectories(dir.resolve("home").resolve("me"));
            System.setProperty("user.home", fakeHome.toString());
            refused(fakeHome, "is your home folder");
            refused(fakeHome.getParent(), "holds your home folder");
            refused(fakeHome.resolve("x").resolve(".."), "is your home folder");
        } finally {
            System.setProperty("user.home", home);
        }
    }

    @Test
    void refusesASymbolicLinkAndAFile() throws IOException {
        Path real = Files.createDirectory(dir.resolve("real"));
        Files.writeString(real.resolve("keep.txt"), "mine");
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        refused(link, "is a symbolic link");
        assertEquals("mine", Files.readString(real.resolve("keep.txt")));
        Path file = Files.writeString(dir.resolve("report"), "x");
        refused(file, "is a file");
    }

    @Test
    void aSecondRunIntoTheSameFolderIsRefusedWhileTheFirstHoldsIt() throws IOException {
        Path target = dir.resolve("demo");
        try (ReportFolder first = ReportFolder.open(target)) {
            Files.writeString(first.path().resolve("report.html"), "first");
            refused(target, "is being written by another softmax-lab run", "wait for it to finish");
            assertTrue(Files.exists(first.path().resolve("report.html")), "the second run leaves the first's work alone");
            first.commit();
        }
        assertEquals("first", Files.readString(target.resolve("report.html")));
        try (ReportFolder again = ReportFolder.open(target)) {
            assertTrue(Files.isDirectory(again.path()), "the lock is free once the first run is done");
        }
        assertEquals(List.of("demo"), listing(dir));
    }

    @Test
    void commitRefusesATargetThatGainedTheUsersFilesDuringTheRun() throws IOException {
        Path target = dir.resolve("demo");
        try (ReportFolder folder = ReportFolder.open(target)) {
            Files.writeString(folder.path().resolve("report.html"), "new");
            Files.createDirectory(target);
            Files.writeString(target.resolve("mine.txt"), "mine");
            BadInputException e = assertThrows(BadInputException.class, folder::commit);
            assertTrue(e.getMessage().contains("changed during the run") && e.getMessage().contains("mine.txt"), e.getMessage());
        }
        assertEquals(List.of("mine.txt"), listing(target));
        assertEquals(List.of("demo"), listing(dir));
    }

    @Test
    void removesWhatAKilledRunLeftBehindButOnlyWhatTheLabMarked() throws IOException {
        Path ours = Files.createDirectories(dir.resolve(".demo.partial-12345").resolve("sub"));
        Files.writeString(ours.getParent().resolve(ReportFolder.MARKER), "softmax-lab report being written\n");
        Path unmarked = Files.createDirectory(dir.resolve(".demo.partial-99"));
        Files.writeString(unmarked.resolve("mine.txt"), "mine");
        Files.createDirectory(dir.resolve(".other.partial-1"));
        try (ReportFolder folder = ReportFolder.open(dir.resolve("demo"))) {
            assertFalse(Files.exists(ours.getParent()), "the lab's leftover is removed");
        }
        assertEquals(List.of(".demo.partial-99", ".other.partial-1"), listing(dir),
                "a folder without the marker, or of another target, stays");
    }

    @Test
    void newFoldersAndFilesFollowTheUmask() throws IOException {
        Path probe = Files.createDirectory(dir.resolve("probe"));
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(probe);
        Path target = dir.resolve("demo");
        newReport(target);
        assertEquals(expected, Files.getPosixFilePermissions(target), "as any new folder, not 0700");
    }
}
