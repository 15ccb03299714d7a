package dev.softmaxlosses.lab.report;

import dev.softmaxlosses.lab.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A report appears whole or not at all, and an older one survives a failed run. */
class ReportFolderTest {

    @TempDir
    Path dir;

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void anUnfinishedReportLeavesNothing() throws IOException {
        Path target = dir.resolve("demo");
        try (ReportFolder folder = ReportFolder.open(target)) {
            Files.writeString(folder.path().resolve("report.html"), "half");
            assertTrue(folder.path().getFileName().toString().startsWith(".demo.partial-"));
        }
        assertEquals(List.of(), listing());
    }

    @Test
    void aFinishedReportReplacesTheOldOneWhole() throws IOException {
        Path target = Files.createDirectory(dir.resolve("demo"));
        Files.writeString(target.resolve("old.png"), "old");
        try (ReportFolder folder = ReportFolder.open(target)) {
            Files.writeString(folder.path().resolve("report.html"), "new");
            assertTrue(Files.exists(target.resolve("old.png")), "the old report stays until the new one is complete");
            folder.commit();
        }
        assertEquals(List.of("demo"), listing());
        try (Stream<Path> s = Files.list(target)) {
            assertEquals(List.of("report.html"), s.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void aFailedRunKeepsTheOldReport() throws IOException {
        Path target = Files.createDirectory(dir.resolve("demo"));
        Files.writeString(target.resolve("report.html"), "old");
        try (ReportFolder folder = ReportFolder.open(target)) {
            Files.writeString(folder.path().resolve("report.html"), "half");
        }
        assertEquals("old", Files.readString(target.resolve("report.html")));
        assertEquals(List.of("demo"), listing());
    }

    @Test
    void removesWhatAKilledRunLeftBehind() throws IOException {
        Files.createDirectories(dir.resolve(".demo.partial-12345").resolve("sub"));
        Files.createDirectory(dir.resolve(".other.partial-1"));
        try (ReportFolder folder = ReportFolder.open(dir.resolve("demo"))) {
            assertFalse(Files.exists(dir.resolve(".demo.partial-12345")));
        }
        assertEquals(List.of(".other.partial-1"), listing(), "only the same target's leftovers");
    }

    @Test
    void refusesAFileAsTarget() throws IOException {
        Path file = Files.writeString(dir.resolve("report"), "x");
        BadInputException e = assertThrows(BadInputException.class, () -> ReportFolder.checkTarget(file));
        assertTrue(e.getMessage().contains("is a file"));
    }
}
