package dev.softmaxlosses.lab.report;

import dev.softmaxlosses.lab.BadInputException;
import dev.softmaxlosses.lab.Messages;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The folder a report goes to ({@code --out}), which the lab may replace only when it wrote it.
 *
 * <p><b>The rule.</b> {@code --out} may name a folder that does not exist, an empty folder, or a
 * report of this lab: a folder holding a {@value #MARKER} file (which lists the files the lab wrote)
 * and nothing else but those files. Anything else is refused before any work, with what to do instead:
 * an empty path (an unset shell variable), the root, the current folder or any folder holding it, the
 * home folder or any folder holding it, a symbolic link, a file, and a folder with files the lab did
 * not write. A report of an older lab (no marker) is recognised by its files: {@code report.html}
 * that names softmax-lab, {@code metrics.json} and the PNGs.
 *
 * <p><b>Whole or nothing.</b> The report is written into a hidden folder beside the target
 * ({@code .NAME.partial-RANDOM}); {@link #commit()} renames it into place after moving an older
 * report aside, then deletes only the files that report's marker lists. An interrupted run (Ctrl-C,
 * {@code kill}) removes its hidden folder from a shutdown hook, so the target keeps its previous
 * report, or stays absent; a run killed outright leaves only the hidden folder, which the next run
 * of the same target removes (a hidden folder is removed only when it holds the marker).
 *
 * <p><b>One run at a time.</b> {@link #open} takes a lock ({@code .NAME.lock} beside the target,
 * removed at the end) before anything else, so a second run into the same folder is refused at once
 * and cannot disturb the first. New folders follow the umask.
 *
 * <p><b>Saved models.</b> {@code train --save} follows the same rule with a {@link Kind#MODEL} folder,
 * marked by its own file: a report is never taken for a model, nor a model for a report.
 */
public final class ReportFolder implements AutoCloseable {

    /** The file that marks a folder as this lab's report; it lists the files the lab wrote there. */
    public static final String MARKER = ".softmax-lab-report";

    /**
     * What a folder holds, for its marker and its messages: a report ({@code --out}) or a saved model
     * ({@code train --save}). The rule is the same for both; each kind replaces only folders of its own kind.
     *
     * @param option        the option that names the folder, as messages quote it
     * @param noun          what the folder holds ({@code report}, {@code model})
     * @param marker        the marker file's name
     * @param example       a folder to suggest in messages
     * @param legacyReports whether an unmarked report of an older lab counts as one of this kind
     */
    public record Kind(String option, String noun, String marker, String example, boolean legacyReports) {

        /** A report: {@code --out}, marked by {@value ReportFolder#MARKER}. */
        public static final Kind REPORT = new Kind("--out", "report", MARKER, "lab-out/mine", true);

        /** A saved model: {@code train --save}, marked by {@code .softmax-lab-model}. */
        public static final Kind MODEL = new Kind("--save", "model", ".softmax-lab-model", "lab-models/mine", false);

        String header() {
            return "softmax-lab " + noun + "; the lab wrote the files listed below and may replace this folder with a newer "
                    + noun;
        }

        String partialHeader() {
            return "softmax-lab " + noun + " being written";
        }
    }

    /** The files of a report written before reports were marked. */
    private static final Pattern LEGACY_FILE = Pattern.compile("report\\.html|metrics\\.json|[A-Za-z0-9_.:=,+-]+\\.png");

    private final Kind kind;
    private final Path target;
    private final String shown;
    private final Path temporary;
    private final Lock lock;
    private final Thread cleanup;
    private volatile boolean finished;

    private ReportFolder(Kind kind, Path target, String shown, Path temporary, Lock lock) {
        this.kind = kind;
        this.target = target;
        this.shown = shown;
        this.temporary = temporary;
        this.lock = lock;
        this.cleanup = new Thread(this::abandon, "softmax-lab " + kind.noun() + " cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
    }

    /**
     * Checks {@code target} against the rule above, without writing anything but the folders above
     * it, and returns it as an absolute path.
     *
     * @throws BadInputException naming the problem and what to do instead
     */
    public static Path checkTarget(Path target) {
        return checkTarget(target, Kind.REPORT);
    }

    /**
     * As {@link #checkTarget(Path)}, for a folder of {@code kind}.
     *
     * @throws BadInputException naming the problem and what to do instead
     */
    public static Path checkTarget(Path target, Kind kind) {
        String shown = Messages.quote(target.toString());
        if (target.toString().isBlank()) {
            throw new BadInputException(kind.option() + " is empty (is a shell variable unset?); give the folder for the "
                    + kind.noun() + ", for example " + kind.option() + " " + kind.example());
        }
        Path absolute = target.toAbsolutePath().normalize();
        Path parent = absolute.getParent();
        if (parent == null) {
            throw new BadInputException(kind.option() + " " + shown + " is the root folder; give a new folder for the "
                    + kind.noun());
        }
        if (Files.isSymbolicLink(absolute)) {
            throw new BadInputException(kind.option() + " " + shown + " is a symbolic link; the lab replaces the folder it"
                    + " writes to, so give a real folder (a new one, or one of its " + kind.noun() + "s)");
        }
        Path real = realPath(absolute);
        refuseHolder(kind, shown, real, realPath(Path.of("").toAbsolutePath()), "the current folder");
        String home = System.getProperty("user.home");
        if (home != null && !home.isBlank()) {
            refuseHolder(kind, shown, real, realPath(Path.of(home).toAbsolutePath()), "your home folder");
        }
        if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(absolute, LinkOption.NOFOLLOW_LINKS)) {
                throw new BadInputException(kind.option() + " " + shown + " is a file; give a folder for the " + kind.noun());
            }
            List<String> foreign = foreignEntries(absolute, kind);
            if (!foreign.isEmpty()) {
                throw new BadInputException(kind.option() + " " + shown + " holds files the lab did not write ("
                        + Messages.list(foreign, 5) + "); the lab replaces only an empty folder or one of its own "
                        + kind.noun() + "s: give a new folder, for example " + kind.option() + " "
                        + Messages.quote(target.resolve(kind.noun()).toString())
                        + ", or move those files away");
            }
        }
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new BadInputException("cannot create the folder " + Messages.quote(parent.toString()) + " for the "
                    + kind.noun() + ": " + Messages.reason(e));
        }
        if (!Files.isWritable(parent)) {
            throw new BadInputException("cannot write the " + kind.noun() + " into " + Messages.quote(parent.toString())
                    + ": it is not writable");
        }
        return absolute;
    }

    /**
     * Checks {@code target}, takes its lock and opens a hidden folder beside it for the report; close
     * it (or let the JVM end) to remove both unless {@link #commit()} put the report in place.
     */
    public static ReportFolder open(Path target) {
        return open(target, Kind.REPORT);
    }

    /** As {@link #open(Path)}, for a folder of {@code kind}. */
    public static ReportFolder open(Path target, Kind kind) {
        Path absolute = checkTarget(target, kind);
        String shown = Messages.quote(target.toString());
        Path parent = absolute.getParent();
        String name = absolute.getFileName().toString();
        Lock lock = Lock.acquire(parent.resolve("." + name + ".lock"), shown, kind);
        try {
            // Another run may have committed between the check and the lock.
            checkTarget(target, kind);
            removeLeftovers(parent, name, kind);
            Path temporary = createFolder(parent, "." + name + ".partial-");
            Files.writeString(temporary.resolve(kind.marker()), kind.partialHeader() + "\n", StandardCharsets.UTF_8);
            return new ReportFolder(kind, absolute, shown, temporary, lock);
        } catch (IOException e) {
            lock.close();
            throw new BadInputException("cannot create a folder in " + Messages.quote(parent.toString()) + " for the "
                    + kind.noun() + ": " + Messages.reason(e));
        } catch (RuntimeException e) {
            lock.close();
            throw e;
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
     * Moves the finished report into place: marks it with the list of its files, moves an older
     * report aside, renames this one into place, and deletes the older report's own files.
     *
     * @throws BadInputException when the target changed during the run so that the rule no longer allows
     *                           replacing it (nothing is replaced then)
     */
    public Path commit() throws IOException {
        List<String> files = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(temporary)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (!name.equals(kind.marker()) && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    files.add(name);
                }
            }
        }
        files.sort(null);
        Files.writeString(temporary.resolve(kind.marker()), kind.header() + "\n" + String.join("\n", files) + "\n",
                StandardCharsets.UTF_8);
        Path old = null;
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            List<String> foreign = Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS) ? foreignEntries(target, kind)
                    : List.of(target.getFileName().toString());
            if (!foreign.isEmpty()) {
                throw new BadInputException(kind.option() + " " + shown + " changed during the run and now holds files the"
                        + " lab did not write (" + Messages.list(foreign, 5) + "); the " + kind.noun() + " was not written");
            }
            old = createFolder(target.getParent(), "." + target.getFileName() + ".old-");
            Files.delete(old);
            move(target, old);
        }
        move(temporary, target);
        finished = true;
        if (old != null) {
            deleteReport(old, kind);
        }
        return target;
    }

    /** Deletes the hidden folder unless the report was committed, and gives the lock back. */
    @Override
    public void close() {
        abandon();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run: nothing left to undo
        }
    }

    /**
     * The shutdown hook's work, and close's. Other threads keep running while hooks do, so the report
     * may still be writing into the hidden folder: it is first renamed away (later writes then fail,
     * having no folder to go to), then deleted, again until nothing is left or about two seconds
     * have passed.
     */
    private synchronized void abandon() {
        try {
            if (finished || !Files.exists(temporary)) {
                return;
            }
            Path doomed = temporary;
            try {
                doomed = temporary.resolveSibling(temporary.getFileName().toString().replace(".partial-", ".abandoned-"));
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
        } finally {
            finished = true;
            lock.close();
        }
    }

    /**
     * The entries of {@code folder} the lab did not write: none for an empty folder or one of its
     * reports; otherwise every entry that is not a file its marker lists (or, without a marker, that an
     * older report would hold). Folders and links are never the lab's.
     */
    static List<String> foreignEntries(Path folder, Kind kind) {
        List<String> entries = new ArrayList<>();
        try (DirectoryStream<Path> list = Files.newDirectoryStream(folder)) {
            for (Path p : list) {
                entries.add(p.getFileName().toString() + (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "/" : ""));
            }
        } catch (IOException e) {
            throw new BadInputException("cannot list " + Messages.quote(folder.toString()) + ": " + Messages.reason(e));
        }
        entries.sort(null);
        List<String> ours = labFiles(folder, kind);
        List<String> foreign = new ArrayList<>();
        for (String entry : entries) {
            boolean lab = (ours.contains(entry) || entry.equals(kind.marker()))
                    && Files.isRegularFile(folder.resolve(entry), LinkOption.NOFOLLOW_LINKS);
            if (!lab) {
                foreign.add(entry);
            }
        }
        return foreign;
    }

    /** The files the lab wrote into {@code folder}: its marker's list, or an older report's files; else none. */
    private static List<String> labFiles(Path folder, Kind kind) {
        Path marker = folder.resolve(kind.marker());
        if (Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS)) {
            try {
                List<String> lines = Files.readAllLines(marker, StandardCharsets.UTF_8);
                if (!lines.isEmpty() && lines.get(0).equals(kind.header())) {
                    return lines.subList(1, lines.size()).stream()
                            .filter(n -> !n.isEmpty() && !n.contains("/") && !n.equals("..") && !n.equals("."))
                            .toList();
                }
            } catch (IOException | java.io.UncheckedIOException e) {
                return List.of();
            }
            return List.of();
        }
        return kind.legacyReports() && isLegacyReport(folder) ? legacyFiles(folder) : List.of();
    }

    private static boolean isLegacyReport(Path folder) {
        Path html = folder.resolve("report.html");
        if (!Files.isRegularFile(html, LinkOption.NOFOLLOW_LINKS) || !Files.isRegularFile(folder.resolve("metrics.json"),
                LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try (Stream<String> lines = Files.lines(html, StandardCharsets.UTF_8)) {
            return lines.limit(20).anyMatch(l -> l.contains("<title>softmax-lab "));
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    private static List<String> legacyFiles(Path folder) {
        try (Stream<Path> list = Files.list(folder)) {
            return list.map(p -> p.getFileName().toString()).filter(n -> LEGACY_FILE.matcher(n).matches()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Deletes a replaced report: the files the lab wrote, then the folder if that left it empty. */
    private static void deleteReport(Path folder, Kind kind) {
        for (String name : labFiles(folder, kind)) {
            deleteQuietly(folder.resolve(name));
        }
        deleteQuietly(folder.resolve(kind.marker()));
        try {
            Files.deleteIfExists(folder);
        } catch (DirectoryNotEmptyException e) {
            // something the lab did not write appeared: it stays
        } catch (IOException e) {
            // best effort: the folder is hidden and holds nothing of the lab's
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(file);
            }
        } catch (IOException e) {
            // best effort
        }
    }

    /** Removes the hidden folders that killed runs of the same target left, when they are marked as the lab's. */
    private static void removeLeftovers(Path parent, String name, Kind kind) {
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(parent, "." + name + ".{partial,abandoned,old}-*")) {
            for (Path p : stream) {
                if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
                        || !Files.isRegularFile(p.resolve(kind.marker()), LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                if (p.getFileName().toString().contains(".old-")) {
                    deleteReport(p, kind);
                } else {
                    deleteTree(p);
                }
            }
        } catch (IOException e) {
            // leftovers are hidden and harmless
        }
    }

    /** Deletes a tree the lab made, not following links. */
    static void deleteTree(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
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
        } catch (IOException | java.io.UncheckedIOException ignored) {
            // best effort
        }
    }

    /** A new folder {@code prefix + RANDOM} in {@code parent}, with the default mode (the umask applies). */
    private static Path createFolder(Path parent, String prefix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = parent.resolve(prefix + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36));
            try {
                return Files.createDirectory(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt == 10) {
                    throw e;
                }
            }
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    /** The current folder, the home folder and the target, compared as the file system sees them. */
    private static void refuseHolder(Kind kind, String shown, Path target, Path protectedFolder, String what) {
        if (protectedFolder.startsWith(target)) {
            throw new BadInputException(kind.option() + " " + shown + (protectedFolder.equals(target) ? " is " : " holds ")
                    + what + "; the lab replaces the folder it writes to: give a new folder for the " + kind.noun()
                    + ", for example " + kind.option() + " " + kind.example());
        }
    }

    /** {@code p} with its existing part resolved to the file system's real path (links followed). */
    private static Path realPath(Path p) {
        Path existing = p;
        Path rest = null;
        while (existing != null && !Files.exists(existing)) {
            rest = rest == null ? existing.getFileName() : existing.getFileName().resolve(rest);
            existing = existing.getParent();
        }
        if (existing == null) {
            return p;
        }
        try {
            Path real = existing.toRealPath();
            return rest == null ? real : real.resolve(rest);
        } catch (IOException e) {
            return p;
        }
    }

    /**
     * The lock of one target: a file beside it, locked for the run and removed at its end. Locks are
     * POSIX record locks, which a process loses when it closes any descriptor of the file, so the lab
     * never opens a lock file it holds a second time: it compares the file's identity (device and
     * inode, from {@code stat}) instead, which also tells a lock file replaced while a run waited for
     * it (removed by the run that held it, then made again by a third) from the one it locked, so two
     * runs never both hold the lock. Runs in one JVM (the tests) are told apart by a set of held paths.
     */
    static final class Lock implements AutoCloseable {
        private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

        private final Path file;
        private final FileChannel channel;
        private final FileLock lock;
        private final Object identity;
        private boolean released;

        private Lock(Path file, FileChannel channel, FileLock lock, Object identity) {
            this.file = file;
            this.channel = channel;
            this.lock = lock;
            this.identity = identity;
        }

        static Lock acquire(Path file, String shown, Kind kind) {
            Path key = realPath(file.toAbsolutePath().normalize());
            if (!HELD.add(key)) {
                throw inUse(kind, shown, Long.toString(ProcessHandle.current().pid()));
            }
            try {
                for (int attempt = 0; attempt < 10; attempt++) {
                    Object before = identity(file);
                    FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                            StandardOpenOption.WRITE);
                    FileLock lock;
                    try {
                        lock = channel.tryLock();
                    } catch (IOException | RuntimeException e) {
                        channel.close();
                        throw e;
                    }
                    if (lock == null) {
                        channel.close();
                        throw inUse(kind, shown, holder(file));
                    }
                    Object after = identity(file);
                    if (before != null && before.equals(after)) {
                        channel.truncate(0);
                        channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n")
                                .getBytes(StandardCharsets.UTF_8)), 0);
                        return new Lock(key, channel, lock, after);
                    }
                    // The file was made by this call, or replaced since: try again on the one at the path now.
                    lock.release();
                    channel.close();
                }
                throw new BadInputException("cannot lock " + Messages.quote(file.toString())
                        + " for the " + kind.noun() + ": other runs keep replacing it");
            } catch (IOException e) {
                HELD.remove(key);
                throw new BadInputException("cannot lock " + Messages.quote(file.toString()) + " for the " + kind.noun() + ": "
                        + Messages.reason(e));
            } catch (RuntimeException e) {
                HELD.remove(key);
                throw e;
            }
        }

        /** Removes the lock file while still holding it (if it is still the one locked), then lets go. */
        @Override
        public synchronized void close() {
            if (released) {
                return;
            }
            released = true;
            try {
                if (identity.equals(identity(file))) {
                    Files.deleteIfExists(file);
                }
            } catch (IOException e) {
                // a lock file left behind is harmless: the next run locks it again
            }
            try {
                lock.release();
                channel.close();
            } catch (IOException e) {
                // the lock ends with the process anyway
            }
            HELD.remove(file);
        }

        private static BadInputException inUse(Kind kind, String shown, String pid) {
            return new BadInputException(kind.option() + " " + shown + " is being written by another softmax-lab run"
                    + (pid == null ? "" : " (process " + pid + ")") + "; wait for it to finish, or give another "
                    + kind.option());
        }

        /** The device and inode of {@code file}, without opening it; null when it does not exist. */
        private static Object identity(Path file) throws IOException {
            try {
                Object key = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
                // A file system without file keys: the lock file's presence is all that can be told.
                return key == null ? "present" : key;
            } catch (NoSuchFileException e) {
                return null;
            }
        }

        /** The process that holds the lock, as it wrote itself into the file (another process: reading is safe). */
        private static String holder(Path file) {
            try {
                String pid = Files.readString(file, StandardCharsets.UTF_8).strip();
                return !pid.isEmpty() && pid.length() < 20 && pid.chars().allMatch(Character::isDigit) ? pid : null;
            } catch (IOException | java.io.UncheckedIOException e) {
                return null;
            }
        }
    }
}
