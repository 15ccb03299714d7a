package dev.softmaxlosses.lab;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file whole or not at all: into a temporary file beside it, then moved into place, so that
 * a failure (a full disk, an interrupted run) leaves the old file as it was and no half-written one.
 *
 * <p>The new file is created as any program creates one (mode {@code 0666} less the umask), and a
 * file it replaces keeps its mode. A symbolic link is written through, as the shell's {@code >} does:
 * the file it points to is replaced and the link stays. A target that is not a regular file (a
 * device such as {@code /dev/null}, a named pipe) is written directly, never replaced.
 */
public final class AtomicFiles {

    private AtomicFiles() {}

    /** Starts writing {@code target}: write into {@link Pending#stream()}, then {@link Pending#commit()}. */
    public static Pending create(Path target) throws IOException {
        Path real = target;
        if (Files.isSymbolicLink(target)) {
            if (!Files.exists(target)) {
                throw new IOException("it is a symbolic link to a missing file");
            }
            real = target.toRealPath();
        }
        if (Files.exists(real) && !Files.isRegularFile(real) && !Files.isDirectory(real)) {
            return new Pending(real, null, FileChannel.open(real, StandardOpenOption.WRITE));
        }
        Path folder = real.toAbsolutePath().getParent();
        String name = real.getFileName().toString();
        for (int attempt = 0; ; attempt++) {
            Path temporary = folder.resolve("." + name + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36)
                    + ".tmp");
            try {
                FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                return new Pending(real, temporary, channel);
            } catch (FileAlreadyExistsException e) {
                if (attempt == 10) {
                    throw e;
                }
            }
        }
    }

    /** A file being written; closing it without {@link #commit()} deletes what was written. */
    public static final class Pending implements AutoCloseable {
        private final Path target;
        private final Path temporary;
        private final FileChannel channel;
        private final OutputStream stream;
        private boolean done;

        /** Deletes the temporary file when the JVM ends before the file is done (Ctrl-C, kill). */
        private final Thread cleanup;

        private Pending(Path target, Path temporary, FileChannel channel) {
            this.target = target;
            this.temporary = temporary;
            this.channel = channel;
            this.stream = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
            this.cleanup = temporary == null ? null : new Thread(() -> deleteQuietly(temporary), "softmax-lab output cleanup");
            if (cleanup != null) {
                Runtime.getRuntime().addShutdownHook(cleanup);
            }
        }

        /** Where to write; do not close it. */
        public OutputStream stream() {
            return stream;
        }

        /** Puts the file in place: flushed to the disk, then renamed over the target (keeping its mode). */
        public void commit() throws IOException {
            stream.flush();
            if (temporary == null) {
                done = true;
                channel.close();
                return;
            }
            channel.force(true);
            channel.close();
            keepMode(target, temporary);
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
            forgetCleanup();
        }

        @Override
        public void close() throws IOException {
            if (done) {
                return;
            }
            done = true;
            try {
                channel.close();
            } finally {
                if (temporary != null) {
                    Files.deleteIfExists(temporary);
                }
                forgetCleanup();
            }
        }

        private void forgetCleanup() {
            try {
                if (cleanup != null) {
                    Runtime.getRuntime().removeShutdownHook(cleanup);
                }
            } catch (IllegalStateException shuttingDown) {
                // the hook runs or has run
            }
        }

        private static void deleteQuietly(Path file) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // a hidden temporary file left behind is harmless
            }
        }

        private static void keepMode(Path old, Path fresh) throws IOException {
            PosixFileAttributeView view = Files.getFileAttributeView(old, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            if (view != null && Files.isRegularFile(old, LinkOption.NOFOLLOW_LINKS)) {
                Files.setPosixFilePermissions(fresh, view.readAttributes().permissions());
            }
        }
    }
}
