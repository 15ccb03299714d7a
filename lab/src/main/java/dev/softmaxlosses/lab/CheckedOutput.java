package dev.softmaxlosses.lab;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Standard output that remembers why a write failed. A {@link java.io.PrintWriter} swallows write
 * errors (a full disk, a closed or broken pipe) and keeps only a flag; the lab must report them, with
 * the reason, instead of exiting 0 with its output lost.
 */
final class CheckedOutput extends OutputStream {

    private final OutputStream out;
    private volatile IOException failure;

    CheckedOutput(OutputStream out) {
        this.out = out;
    }

    /** The first write or flush that failed, or null. */
    IOException failure() {
        return failure;
    }

    @Override
    public void write(int b) throws IOException {
        try {
            out.write(b);
        } catch (IOException e) {
            throw remember(e);
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        try {
            out.write(b, off, len);
        } catch (IOException e) {
            throw remember(e);
        }
    }

    @Override
    public void flush() throws IOException {
        try {
            out.flush();
        } catch (IOException e) {
            throw remember(e);
        }
    }

    private IOException remember(IOException e) {
        if (failure == null) {
            failure = e;
        }
        return e;
    }
}
