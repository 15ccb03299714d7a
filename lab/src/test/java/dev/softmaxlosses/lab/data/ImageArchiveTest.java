package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Folders and zip archives read in place: listing in natural order, skipping, bounded reading, errors. */
class ImageArchiveTest {

    @TempDir
    Path dir;

    /** Nested folders, in an order that natural order changes, with files that must be skipped. */
    private static Map<String, byte[]> files() {
        Map<String, byte[]> f = new LinkedHashMap<>();
        for (String name : List.of("b/x10.png", "b/x9.png", "a/inner/deep/1.png", "a10/1.png", "a2/1.png", "top.txt",
                ".DS_Store", "a2/.hidden.png", ".git/config", "__MACOSX/a2/._1.png", "a2/__MACOSX/2.png")) {
            f.put(name, name.getBytes(StandardCharsets.UTF_8));
        }
        return f;
    }

    private static final List<String> LISTED = List.of("a/inner/deep/1.png", "a2/1.png", "a10/1.png", "b/x9.png",
            "b/x10.png", "top.txt");

    @Test
    void listsAFolderInNaturalOrderSkippingHiddenAndMacFiles() {
        Path folder = ImageFiles.writeFolder(dir.resolve("images"), files());
        try (ImageArchive a = ImageArchive.open(folder, "--data")) {
            assertFalse(a.isZip());
            assertEquals(LISTED, a.files());
            assertArrayEquals("b/x9.png".getBytes(StandardCharsets.UTF_8), a.read("b/x9.png"));
            assertEquals(folder.resolve("b/x9.png").toString(), a.describe("b/x9.png"));
        }
    }

    @Test
    void listsAZipWithNestedFoldersTheSameWay() {
        Path zip = ImageFiles.writeZip(dir.resolve("images.zip"), files());
        try (ImageArchive a = ImageArchive.open(zip, "--data")) {
            assertTrue(a.isZip());
            assertEquals(LISTED, a.files(), "folder entries are no files");
            assertArrayEquals("a/inner/deep/1.png".getBytes(StandardCharsets.UTF_8), a.read("a/inner/deep/1.png"));
            assertEquals(zip + "!/a/inner/deep/1.png", a.describe("a/inner/deep/1.png"));
            BadInputException e = assertThrows(BadInputException.class, () -> a.read("nowhere.png"));
            assertTrue(e.getMessage().startsWith("cannot read " + zip + "!/nowhere.png"), e.getMessage());
        }
    }

    @Test
    void aZipIsRecognisedByItsContentWhateverItsName() {
        Path zip = ImageFiles.writeZip(dir.resolve("images.data"), Map.of("c/1.png", new byte[] {1}));
        try (ImageArchive a = ImageArchive.open(zip, "--data")) {
            assertTrue(a.isZip());
            assertEquals(List.of("c/1.png"), a.files());
        }
    }

    @Test
    void refusesWhatIsMissingNoZipOrACorruptZip() throws IOException {
        BadInputException e = assertThrows(BadInputException.class, () -> ImageArchive.open(dir.resolve("nowhere.zip"), "--data"));
        assertEquals("--data " + dir.resolve("nowhere.zip") + ": no such file or folder", e.getMessage());

        Path text = Files.writeString(dir.resolve("notes.zip"), "not a zip at all");
        e = assertThrows(BadInputException.class, () -> ImageArchive.open(text, "--data"));
        assertTrue(e.getMessage().startsWith("--data " + text + " is neither a folder nor a zip archive"), e.getMessage());

        Path zip = ImageFiles.writeZip(dir.resolve("whole.zip"), files());
        byte[] bytes = Files.readAllBytes(zip);
        Path cut = Files.write(dir.resolve("cut.zip"), Arrays.copyOf(bytes, bytes.length / 2));
        e = assertThrows(BadInputException.class, () -> ImageArchive.open(cut, "--data"));
        assertTrue(e.getMessage().startsWith("--data " + cut + " is a corrupt zip archive"), e.getMessage());
    }

    @Test
    void naturalOrderComparesPathsPartByPart() {
        List<String> names = new java.util.ArrayList<>(List.of("a10/b", "a2/c", "a2/b10", "a2/b9", "a/z", "a2"));
        names.sort(ImageArchive::naturalOrder);
        assertEquals(List.of("a/z", "a2", "a2/b9", "a2/b10", "a2/c", "a10/b"), names);
    }
}
