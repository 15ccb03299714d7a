package dev.softmaxlosses.lab;

import dev.softmaxlosses.text.Text;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.List;

/**
 * How the lab words what it tells the user. An error is one line that a terminal shows as written:
 * line breaks become spaces, control and format characters (an ANSI escape that would clear the
 * screen, a bidi override that would reorder the line) are shown as {@code \}{@code uXXXX} (core's
 * {@link Text}, which escapes the library's messages the same way), and a message stays a few
 * hundred characters long however long the text it quotes.
 */
public final class Messages {

    /** The longest message, in characters; what is cut says how long it was. */
    static final int MAX_LENGTH = 600;

    /** The longest piece of the user's own text (a name, a path, a value) quoted in a message. */
    static final int MAX_QUOTE = 120;

    private Messages() {}

    /** A message as one safe line of at most {@value #MAX_LENGTH} characters. */
    public static String oneLine(String message) {
        if (message == null || message.isBlank()) {
            return "unknown error";
        }
        return Text.echo(message.strip().replaceAll("\\s*\\R\\s*", " "), MAX_LENGTH);
    }

    /** The user's text for quoting in a message: escaped and at most {@value #MAX_QUOTE} characters. */
    public static String quote(String text) {
        return Text.echo(text, MAX_QUOTE);
    }

    /** At most {@code max} items of {@code names}, then how many more there are. */
    public static String list(List<String> names, int max) {
        if (names.size() <= max) {
            return String.join(", ", names.stream().map(Messages::quote).toList());
        }
        return String.join(", ", names.subList(0, max).stream().map(Messages::quote).toList())
                + " and " + (names.size() - max) + " more";
    }

    /**
     * Why an I/O operation failed, in words: the JDK's file exceptions carry only the path as their
     * message ({@code AccessDeniedException: /out/x.json}), which names the file but not the reason.
     */
    public static String reason(IOException e) {
        String file = e instanceof FileSystemException f && f.getFile() != null ? quote(f.getFile()) : null;
        String what;
        if (e instanceof AccessDeniedException) {
            what = "permission denied";
        } else if (e instanceof NoSuchFileException) {
            what = "no such file or folder";
        } else if (e instanceof FileAlreadyExistsException) {
            what = "it already exists";
        } else if (e instanceof DirectoryNotEmptyException) {
            what = "the folder is not empty";
        } else if (e instanceof NotDirectoryException) {
            what = "not a folder";
        } else if (e instanceof FileSystemException f && f.getReason() != null) {
            what = f.getReason();
        } else {
            what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            file = null;
        }
        return file == null ? what : what + " (" + file + ")";
    }

    /** Control, format and separator characters as {@code \}{@code uXXXX}; everything else unchanged. */
    static String escape(String s) {
        return Text.echo(s, Integer.MAX_VALUE);
    }
}
