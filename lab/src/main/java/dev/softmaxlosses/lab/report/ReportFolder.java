package dev.softmaxlosses.lab.report;

import dev.softmaxlosses.lab.BadInputException;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A report folder that appears whole or not at all. Everything is written into a hidden temporary
 * folder beside the target ({@code .NAME.partial-RANDOM}); {@link #commit()} then renames it into
 * place, after moving an older report of the same name aside. An interrupted run (Ctrl-C) deletes the
 * temporary folder from a shutdown hook, so the target keeps its previous report, or stays absent.
 * A run killed outright leaves only the hidden folder, which the next run of the same target removes.
 */
public final class ReportFolder implements AutoCloseable {

    private final Path target;
    private final Path temporary;
    private final Thread cleanup;
    private volatile boolean committed;

    private ReportFolder(Path target, Path temporary) {
        this.target = target;
        this.temporary = temporary;
        this.cleanup = new Thread(this::abandon, "softmax-lab report cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
    }

    /**
     * Checks that {@code target} can become a report folder (it is absent or a folder, and its parent
     * can be created), before any training: a run should not fail after minutes of work on a bad path.
     */
    public static void checkTarget(Path target) {
        Path absolute = target.toAbsolutePath().normalize();
        if (Files.exists(absolute) && !Files.isDirectory(absolute)) {
            throw new BadInputException("--out " + target + " is a file; give a folder for the report");
        }
        Path parent = absolute.getParent();
        if (parent == null) {
            throw new BadInputException("--out " + target + " cannot be a report folder (it is the root)");
        }
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new BadInputException("cannot create the folder " + parent + " for the report: " + e.getMessage());
        }
        if (!Files.isWritable(parent)) {
            throw new BadInputException("cannot write the report into " + parent + ": it is not writable");
        }
    }

    /** Opens a temporary folder for a report that will become {@code target}. */
    public static ReportFolder open(Path target) {
        checkTarget(target);
        Path absolute = target.toAbsolutePath().normalize();
        Path parent = absolute.getParent();
        String name = absolute.getFileName().toString();
        removeLeftovers(parent, name);
        try {
            return new ReportFolder(absolute, Files.createTempDirectory(parent, "." + name + ".partial-"));
        } catch (IOException e) {
            throw new BadInputException("cannot create a folder in " + parent + " for the report: " + e.getMessage());
        }
    }

    /** Where to write the report's files until {@link #commit()}. */
    public Path path() {
        return temporary;
    }

    /** The final folder. */
    public Path target() {
        return target;
    }

    /**
     * The shutdown hook's work. Other threads keep running while hooks do, so the report may still be
     * writing files into the folder: it is first renamed away (later writes then fail, having no
     * folder to go to), then deleted, again until nothing is left or about two seconds have passed.
     */
    private void abandon() {
        if (committed) {
            return;
        }
        Path doomed = temporary;
        try {
            doomed = temporary.resolveSibling(temporary.getFileName().toString().replace(".partial-", ".old-"));
            move(temporary, doomed);
        } catch (IOException e) {
            doomed = temporary;
        }
        for (int attempt = 0; attempt < 40 && Files.exists(doomed); attempt++) {
            deleteTree(doomed);
            if (Files.exists(doomed)) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Moves the finished report into place, replacing an older one. */
    public Path commit() throws IOException {
        Path old = null;
        if (Files.exists(target)) {
            old = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".old-");
            Files.delete(old);
            move(target, old);
        }
        move(temporary, target);
        committed = true;
        if (old != null) {
            deleteTree(old);
        }
        return target;
    }

    /** Deletes the temporary folder unless the report was committed. */
    @Override
    public void close() {
        if (!committed) {
            deleteTree(temporary);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run: nothing left to undo
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    /** Removes hidden folders that interrupted runs of the same target left behind. */
    private static void removeLeftovers(Path parent, String name) {
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(parent, "." + name + ".{partial,old}-*")) {
            for (Path p : stream) {
                deleteTree(p);
            }
        } catch (IOException e) {
            // leftovers are hidden and harmless
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
