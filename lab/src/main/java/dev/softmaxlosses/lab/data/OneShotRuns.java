package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;
import dev.softmaxlosses.lab.Messages;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The layout of Omniglot's one-shot classification runs (Lake et al. 2015, {@code all_runs.zip}), found
 * anywhere inside a folder or zip archive: a folder {@code runNN} holding {@code class_labels.txt}, whose
 * lines are {@code runNN/test/itemMM.png runNN/training/classKK.png} (a test image and the training
 * image of its class, both relative to the folder that holds {@code runNN}), with one training image per
 * class in {@code runNN/training/} (20 in Omniglot) and the test images in {@code runNN/test/}. Windows
 * line ends and blank lines are tolerated. A test image is to be classified among every image in its run's
 * {@code training} folder (and any other image a line names as an answer).
 */
public final class OneShotRuns {

    /** Where a run's answers are: {@code [PREFIX/]runNN/class_labels.txt}. */
    private static final Pattern LABELS = Pattern.compile("(?:(.*)/)?(run[0-9]+)/class_labels\\.txt");

    /**
     * One test image and the training image of its class.
     *
     * @param test   the test image, as a file of the archive
     * @param answer the training image of its class, as a file of the archive
     * @param line   the line of {@code class_labels.txt} that says so
     */
    public record Trial(String test, String answer, int line) {}

    /**
     * One run.
     *
     * @param name     {@code runNN}
     * @param labels   its {@code class_labels.txt}, as a file of the archive
     * @param training the images a test image is classified among, in natural order
     * @param trials   the test images with their answers, in the file's order
     */
    public record Run(String name, String labels, List<String> training, List<Trial> trials) {}

    private OneShotRuns() {}

    /**
     * Every run in {@code archive}, in natural order of their paths.
     *
     * @throws BadInputException when there is no run, a {@code class_labels.txt} is no UTF-8 text, has a line
     *                           that is not two paths or has no line, or names an image the archive lacks
     *                           (naming the file and the line)
     */
    public static List<Run> read(ImageArchive archive, String option) {
        Set<String> files = new HashSet<>(archive.files());
        List<Run> runs = new ArrayList<>();
        for (String file : archive.files()) {
            Matcher m = LABELS.matcher(file);
            if (m.matches()) {
                runs.add(run(archive, files, file, m.group(1) == null ? "" : m.group(1) + "/", m.group(2)));
            }
        }
        if (runs.isEmpty()) {
            throw new BadInputException(option + " " + Messages.quote(archive.path().toString()) + " holds no one-shot runs:"
                    + " expected folders runNN with a class_labels.txt of lines 'runNN/test/ITEM runNN/training/CLASS' (the"
                    + " layout of Omniglot's all_runs), anywhere inside");
        }
        return List.copyOf(runs);
    }

    private static Run run(ImageArchive archive, Set<String> files, String labels, String base, String name) {
        String text = utf8(archive.read(labels), archive.describe(labels));
        List<Trial> trials = new ArrayList<>();
        Set<String> training = new LinkedHashSet<>();
        String folder = base + name + "/training/";
        for (String f : archive.files()) {
            if (f.startsWith(folder) && f.indexOf('/', folder.length()) < 0 && GreyImages.isImageName(f)) {
                training.add(f);
            }
        }
        String[] lines = text.split("\\R", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (i == 0 && line.startsWith("\uFEFF")) {
                line = line.substring(1).strip();
            }
            if (line.isEmpty()) {
                continue;
            }
            String where = Messages.quote(archive.describe(labels)) + " line " + (i + 1);
            String[] parts = line.split("\\s+");
            if (parts.length != 2) {
                throw new BadInputException(where + ": expected two paths, 'runNN/test/ITEM runNN/training/CLASS', got '"
                        + Messages.quote(line) + "'");
            }
            String test = base + parts[0];
            String answer = base + parts[1];
            for (String image : new String[] {test, answer}) {
                if (!files.contains(image)) {
                    throw new BadInputException(where + " names " + Messages.quote(image.substring(base.length()))
                            + ", which is not in " + Messages.quote(archive.path().toString()) + " (looked for "
                            + Messages.quote(archive.describe(image)) + ")");
                }
            }
            training.add(answer);
            trials.add(new Trial(test, answer, i + 1));
        }
        if (trials.isEmpty()) {
            throw new BadInputException(Messages.quote(archive.describe(labels)) + " has no lines; each line names a test image"
                    + " and the training image of its class");
        }
        return new Run(name, labels, List.copyOf(training), List.copyOf(trials));
    }

    private static String utf8(byte[] bytes, String shown) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new BadInputException(Messages.quote(shown) + " is not UTF-8 text");
        }
    }
}
