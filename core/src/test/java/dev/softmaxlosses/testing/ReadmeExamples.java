package dev.softmaxlosses.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Holds a README example to the test code that runs it, word for word. */
public final class ReadmeExamples {

    private ReadmeExamples() {
    }

    /**
     * Fails unless README.md's block between {@code <!-- marker:start -->} and {@code <!-- marker:end -->}
     * holds the code of {@code testFile} (relative to the project root) between {@code // marker:start}
     * and {@code // marker:end}, indentation aside.
     */
    public static void assertReadmeShows(String marker, String testFile) throws IOException {
        Path root = Path.of(System.getProperty("project.root", "..")).toAbsolutePath();
        String readme = Files.readString(root.resolve("README.md"));
        String test = Files.readString(root.resolve(testFile));
        String fromTest = between(test, "// " + marker + ":start\n", "// " + marker + ":end").stripTrailing().stripIndent().strip();
        String fromReadme = between(readme, "<!-- " + marker + ":start -->\n```java\n", "```\n<!-- " + marker + ":end -->").strip();
        assertTrue(fromReadme.contains(fromTest), "README.md's " + marker + " differs from " + testFile + ":\n" + fromTest);
    }

    private static String between(String text, String start, String end) {
        int from = text.indexOf(start);
        assertTrue(from >= 0, "marker " + start.strip() + " not found");
        int to = text.indexOf(end, from + start.length());
        assertTrue(to >= 0, "marker " + end.strip() + " not found");
        return text.substring(from + start.length(), to);
    }
}
