package dev.softmaxlosses.lab;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The lines of a {@code .jsonl} file, each read as a stream of its own that ends at the line's end:
 * a case is parsed straight from the file without holding its line in memory, and a line that fails
 * to parse is skipped to its end so that the next one starts cleanly.
 */
final class LineInput extends InputStream {

    private final InputStream in;
    private final byte[] buffer = new byte[1 << 16];
    private final byte[] one = new byte[1];
    private int position;
    private int limit;
    /** Whether the current line's newline (or the file's end) has been reached. */
    private boolean lineEnded = true;
    private boolean fileEnded;

    LineInput(InputStream in) {
        this.in = in;
    }

    /** Moves to the next line, skipping what is left of the current one; false at the end of the file. */
    boolean next() {
        while (!lineEnded) {
            skip(buffer.length);
        }
        if (!fill()) {
            return false;
        }
        lineEnded = false;
        return true;
    }

    @Override
    public int read() {
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        if (lineEnded || len == 0) {
            return lineEnded ? -1 : 0;
        }
        if (!fill()) {
            lineEnded = true;
            return -1;
        }
        int n = 0;
        while (n < len && position < limit) {
            byte c = buffer[position++];
            if (c == '\n') {
                lineEnded = true;
                break;
            }
            b[off + n++] = c;
        }
        return n == 0 && lineEnded ? -1 : n;
    }

    /** Skips to the end of the current line, at most {@code n} bytes of it. */
    @Override
    public long skip(long n) {
        long skipped = 0;
        while (skipped < n && !lineEnded && fill()) {
            byte c = buffer[position++];
            if (c == '\n') {
                lineEnded = true;
            } else {
                skipped++;
            }
        }
        if (!lineEnded && skipped < n && !fill()) {
            lineEnded = true;
        }
        return skipped;
    }

    /** Closing a line leaves the file open. */
    @Override
    public void close() {}

    private boolean fill() {
        if (position < limit) {
            return true;
        }
        if (fileEnded) {
            return false;
        }
        try {
            int n = in.read(buffer, 0, buffer.length);
            if (n <= 0) {
                fileEnded = true;
                return false;
            }
            position = 0;
            limit = n;
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
