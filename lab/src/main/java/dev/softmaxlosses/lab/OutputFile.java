package dev.softmaxlosses.lab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An {@code --output FILE} written whole or not at all ({@link AtomicFiles}): checked before any work,
 * so that nothing is computed in vain, and written at the end into a temporary file moved over it.
 */
final class OutputFile {

    private OutputFile() {}

    /**
     * Fails when {@code output} cannot be written: empty, a folder, in a folder that does not exist or
     * is not writable, a read-only file.
     *
     * @throws BadInputException saying which
     */
    static void check(Path output) {
        check(output, "--output", "");
    }

    /**
     * As {@link #check(Path)}, the messages calling the file {@code label} ({@code eval} says
     * {@code output}) and advising, for an empty name, to leave {@code --output} out {@code withoutIt}.
     */
    static void check(Path output, String label, String withoutIt) {
        String name = Messages.quote(output.toString());
        if (output.toString().isBlank()) {
            throw new BadInputException("--output is empty: give a file name, or leave --output out" + withoutIt);
        }
        if (Files.isDirectory(output)) {
            throw new BadInputException(label + " " + name + " is a folder, expected a file name");
        }
        Path folder = output.toAbsolutePath().getParent();
        if (folder == null || !Files.isDirectory(folder)) {
            throw new BadInputException("the folder of " + label + " " + name + " does not exist");
        }
        if (!Files.isWritable(folder)) {
            throw new BadInputException("cannot write " + label + " " + name + ": permission denied (the folder "
                    + Messages.quote(folder.toString()) + " is not writable)");
        }
        if (Files.isRegularFile(output) && !Files.isWritable(output)) {
            throw new BadInputException("cannot write " + label + " " + name + ": permission denied (the file is read-only)");
        }
    }

    /**
     * Writes {@code text} into {@code output} as UTF-8, whole or not at all.
     *
     * @throws BadInputException when it cannot be written (the file keeps what it held)
     */
    static void write(Path output, String text) {
        try (AtomicFiles.Pending pending = AtomicFiles.create(output)) {
            pending.stream().write(text.getBytes(StandardCharsets.UTF_8));
            pending.commit();
        } catch (IOException e) {
            throw new BadInputException("cannot write --output " + Messages.quote(output.toString()) + ": "
                    + Messages.reason(e));
        }
    }
}
