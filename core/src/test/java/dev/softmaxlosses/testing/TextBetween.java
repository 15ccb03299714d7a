package dev.softmaxlosses.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The text between two markers, for tests that hold a document's example to the code that runs it. */
public final class TextBetween {

    private TextBetween() {
    }

    /** The text after the first {@code start} and before the next {@code end}; a missing marker fails the test. */
    public static String between(String text, String start, String end) {
        int from = text.indexOf(start);
        assertTrue(from >= 0, "marker " + start.strip() + " not found");
        int to = text.indexOf(end, from + start.length());
        assertTrue(to >= 0, "marker " + end.strip() + " not found");
        return text.substring(from + start.length(), to);
    }
}
