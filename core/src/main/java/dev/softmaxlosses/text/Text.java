package dev.softmaxlosses.text;

/**
 * The rule by which the library's error messages repeat user text, public so that a tool built on
 * the library (the lab) words its own messages the same way. A message is one line of bounded length
 * whatever the user gave: echoed text is cut to its first {@value #ECHO_CHARS} characters, and
 * characters that would break the line or hide in it (controls, line separators, invisible format
 * characters, halves of surrogate pairs) are written as {@code \}{@code uXXXX}.
 *
 * <p>An escape character (code 27) comes back as {@code \}{@code u001b}; a text of 100 characters
 * comes back as its first 60 followed by {@code ... (100 characters)}.
 */
public final class Text {

    /** The most characters of user text a message repeats. */
    public static final int ECHO_CHARS = 60;

    /** The most characters of a message from elsewhere (an exception's) that a message repeats. */
    static final int LINE_CHARS = 300;

    private Text() {}

    /**
     * {@code text} as a message may repeat it: escaped, and cut to {@value #ECHO_CHARS} characters
     * followed by {@code ... (N characters)} when it is longer.
     */
    public static String echo(String text) {
        return escaped(text, ECHO_CHARS);
    }

    /** A message from elsewhere as one line: escaped as {@link #echo}, cut at {@value #LINE_CHARS} characters. */
    public static String echoLine(String text) {
        return escaped(text, LINE_CHARS);
    }

    /**
     * {@code text} escaped as {@link #echo} does, cut to {@code limit} characters followed by
     * {@code ... (N characters)} when it is longer: for callers with limits of their own (the lab's
     * messages).
     */
    public static String echo(String text, int limit) {
        return escaped(text, limit);
    }

    private static String escaped(String text, int limit) {
        if (text == null) {
            return "null";
        }
        int end = Math.min(text.length(), limit);
        if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        StringBuilder out = new StringBuilder(end + 24);
        for (int i = 0; i < end; i++) {
            char ch = text.charAt(i);
            boolean pair = Character.isHighSurrogate(ch) && i + 1 < end && Character.isLowSurrogate(text.charAt(i + 1));
            if (pair) {
                out.append(ch).append(text.charAt(++i));
            } else if (isHidden(ch)) {
                out.append(escape(ch));
            } else {
                out.append(ch);
            }
        }
        if (end < text.length()) {
            out.append("... (").append(text.length()).append(" characters)");
        }
        return out.toString();
    }

    /** The index of the first control character (or line or paragraph separator) in {@code text}, or -1. */
    public static int indexOfControl(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (isControl(text.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    /** {@code ch} as {@code \}{@code uXXXX}. */
    public static String escape(char ch) {
        return String.format("\\u%04x", (int) ch);
    }

    /** A character that ends or breaks a line: C0 and C1 controls, line and paragraph separators. */
    private static boolean isControl(char ch) {
        return Character.isISOControl(ch) || ch == '\u2028' || ch == '\u2029';
    }

    /** A character a message must not carry as it is: a control, an invisible format character, a lone surrogate. */
    private static boolean isHidden(char ch) {
        int type = Character.getType(ch);
        return isControl(ch) || type == Character.FORMAT || type == Character.SURROGATE;
    }
}
