package dev.softmaxlosses.lab;

import dev.softmaxlosses.lab.data.DataSources;
import dev.softmaxlosses.lab.data.Downloader;
import dev.softmaxlosses.lab.data.ImageFolders;
import dev.softmaxlosses.lab.data.OpenSet;
import dev.softmaxlosses.lab.data.TrainTestSplit;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.train.Activation;
import dev.softmaxlosses.lab.train.Augmentation;
import dev.softmaxlosses.lab.train.PartialFc;
import dev.softmaxlosses.lab.train.Schedule;
import dev.softmaxlosses.lab.train.TrainingSettings;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The options {@code demo}, {@code train} and {@code compare} share: the data, the network, the
 * optimiser, and where the report goes. The defaults are the demo's: they train the eight losses of
 * the demo on the bundled data in well under three minutes on two cores.
 */
final class LabOptions {

    /** The defaults that the help text shows and the README quotes. */
    static final String HIDDEN = "128,64";
    static final int EPOCHS = 30;
    static final double LEARNING_RATE = 0.05;
    /**
     * The CNN's default rate: its dense layer to the embedding has 1152 inputs (the MLP's last has 64), and
     * at 0.05 the first steps blow its outputs up; 0.01 is also the rate the center-loss paper trained
     * LeNet++ with.
     */
    static final double CNN_LEARNING_RATE = 0.01;
    static final double WEIGHT_DECAY = 5e-3;

    @Option(names = "--data", order = 10, paramLabel = "DATA",
            description = {"fashion-mnist-subset (bundled, the default), mnist or fashion-mnist (downloaded once into the"
                    + " cache, checksums verified), a folder of MNIST-style IDX files, or a folder or .zip archive of images"
                    + " (PNG, JPEG, BMP, GIF, PGM) with one sub-folder per class, nested ones too (alphabet/character/*.png:"
                    + " class alphabet/character), such as PGM faces in the ORL layout. Repeat it to merge image folders and"
                    + " archives: classes with the same path are one class, a file seen twice in one class one image."})
    List<String> data;

    @Option(names = "--image-size", order = 12, paramLabel = "N",
            description = "Image folders: resize every image to N x N pixels by area averaging (default: the images' own"
                    + " size, which must then be the same for all).")
    Integer imageSize;

    @Option(names = "--invert", order = 14,
            description = "Image folders: turn grey values v into 1 - v (dark strokes on white paper become light strokes on"
                    + " black, as MNIST is drawn).")
    boolean invert;

    @Option(names = "--held-out", order = 20, paramLabel = "CLASSES", split = ",",
            description = "Classes kept out of training for open-set verification, by index, by name, or by top-level folder"
                    + " (Greek holds out every Greek/... class of an image folder), or none to train on every class (then no"
                    + " verification). Default: the last 30%% of the classes, e.g. 7,8,9 of ten. The held-out classes of"
                    + " image folders give verification all their images; those of the other data their test images.")
    List<String> heldOut;

    @Option(names = "--engine", order = 22, paramLabel = "NAME", defaultValue = "java",
            description = "java (the lab's own trainer, the default) or djl (DJL with PyTorch's CPU engine, the losses through"
                    + " the softmax-losses-djl adapters).")
    String engine;

    @Option(names = "--model", order = 24, paramLabel = "NAME", defaultValue = "mlp",
            description = "mlp (dense layers, --hidden; the default) or cnn (LeNet++: 5x5 convolutions of 32, 32 | 64, 64 |"
                    + " 128, 128 channels with 2x2 max-pooling between the stages, then a dense layer to the embedding;"
                    + " --engine djl only) or conv4 (the few-shot papers' Conv-4: four stages of a 3x3 convolution of 64"
                    + " channels and 2x2 max-pooling, then the dense layer; --engine djl only).")
    String model;

    @Option(names = "--train-per-class", order = 26, paramLabel = "N",
            description = "Train on at most N samples of each class, the first in the data's order (default: all).")
    Integer trainPerClass;

    @Option(names = "--class-rotations", order = 28,
            description = "Also train on every class turned by 90, 180 and 270 degrees, as three new classes (Omniglot's"
                    + " class augmentation: a turned character is another character); square images only.")
    boolean classRotations;

    @Option(names = "--embedding", order = 30, paramLabel = "N", defaultValue = "2",
            description = "Width of the embedding the losses see (default: ${DEFAULT-VALUE}; the feature plots need 2).")
    int embedding;

    @Option(names = "--hidden", order = 40, paramLabel = "SIZES", defaultValue = HIDDEN,
            description = "Hidden layer widths of the mlp, comma-separated, or 'none' (default: ${DEFAULT-VALUE}).")
    String hidden;

    @Option(names = "--activation", order = 50, paramLabel = "NAME", defaultValue = "prelu",
            description = "relu or prelu (default: ${DEFAULT-VALUE}).")
    String activation;

    @Option(names = "--batch-norm", order = 60, negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Batch-normalise the hidden layers (default: on; --no-batch-norm turns it off).")
    boolean batchNorm;

    @Option(names = "--epochs", order = 70, paramLabel = "N", defaultValue = "" + EPOCHS, description = "Passes over the training set (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", order = 80, paramLabel = "N", defaultValue = "128", description = "Samples per step (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", order = 90, paramLabel = "RATE", defaultValue = "" + LEARNING_RATE, description = "Base learning rate (default: ${DEFAULT-VALUE}; " + CNN_LEARNING_RATE + " for --model cnn and conv4).")
    double learningRate;

    @Option(names = "--schedule", order = 100, paramLabel = "NAME", defaultValue = "cosine",
            description = "How the rate falls: cosine, or step (divided by 10 at 50%% and 75%% of the epochs) (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--momentum", order = 110, paramLabel = "MU", defaultValue = "0.9", description = "SGD momentum (default: ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--weight-decay", order = 120, paramLabel = "WD", defaultValue = "" + WEIGHT_DECAY,
            description = "L2 weight decay on weight matrices (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--augment", order = 125, paramLabel = "NAME", defaultValue = "none",
            description = "none (the default) or affine: each training image, each time it is used, gets a small random"
                    + " affine distortion (Koch et al. 2015: rotation up to 10 degrees, shear up to 0.3, scale 0.8 to 1.2,"
                    + " shift up to 2%% of the side, each with probability 1/2). Images only.")
    String augment;

    @Option(names = "--shards", order = 127, paramLabel = "K",
            description = "Train the margin family's class weights in a Partial FC head of K class shards, one thread each"
                    + " up to the processors' count, with their own SGD (--momentum, --weight-decay, the --lr schedule)"
                    + " (default: the plain head; 1 when only --sample-rate is given).")
    Integer shards;

    @Option(names = "--sample-rate", order = 128, paramLabel = "R",
            description = "With the Partial FC head, the share of the negative class centres each step uses, in (0, 1];"
                    + " the batch's classes are always kept (default: 1, every class).")
    Double sampleRate;

    @Option(names = "--seed", order = 130, paramLabel = "N", defaultValue = "1",
            description = "Seeds the initial weights and the batch order; the same seed and settings give the same numbers (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--threads", order = 140, paramLabel = "N",
            description = "How many losses train at once, one thread each (default: the number of processors). Does not change the numbers.")
    Integer threads;

    @Option(names = "--out", order = 150, paramLabel = "FOLDER", description = {"Where the report goes (default: lab-out/COMMAND):"
            + " a new folder, an empty one, or an earlier report of the lab, which is replaced whole when the run succeeds."
            + " A folder with other files in it is refused, never emptied."})
    Path out;

    @Option(names = "--cache", order = 160, paramLabel = "FOLDER",
            description = "Where downloaded data sets are kept (default: $SOFTMAX_LAB_CACHE or ~/.cache/softmax-lab).")
    Path cache;

    @Option(names = "--mirror", order = 170, paramLabel = "URL", description = "Download from this base URL instead of the official ones (repeatable).")
    List<String> mirrors;

    @Option(names = "--quiet", order = 180, description = "No progress display.")
    boolean quiet;

    /** The engine and the network; an impossible pair is a {@link BadInputException}. */
    Backend backend() {
        Backend.Engine e = choice(Backend.Engine.class, "--engine", engine, "java, djl");
        Backend.Model m = choice(Backend.Model.class, "--model", model, "mlp, cnn, conv4");
        if (m.convolutional() && e != Backend.Engine.DJL) {
            throw new BadInputException("--model " + m.name().toLowerCase(Locale.ROOT)
                    + " needs --engine djl (the lab's own trainer has dense layers only)");
        }
        return new Backend(e, m);
    }

    private static <E extends Enum<E>> E choice(Class<E> type, String option, String value, String names) {
        try {
            return Enum.valueOf(type, value.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadInputException(option + " '" + Messages.quote(value) + "' is not one of " + names);
        }
    }

    /** The training settings; an impossible value is an {@link IllegalArgumentException} naming the option. */
    TrainingSettings settings() {
        return new TrainingSettings(hiddenSizes(), embedding, activation(), batchNorm, epochs, batchSize, learningRate,
                schedule(), momentum, weightDecay, seed, augmentation(), PartialFc.of(shards, sampleRate));
    }

    int threads() {
        int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (t < 1) {
            throw new BadInputException("--threads must be at least 1, got " + t);
        }
        return t;
    }

    Path out(String command) {
        return out != null ? out : Path.of("lab-out", command);
    }

    /** Loads the data (downloading it if needed) and splits off the held-out classes. */
    OpenSet openSet(PrintWriter log) {
        TrainTestSplit split = DataSources.load(data, imageSize, invert, cache == null ? Downloader.defaultCache() : cache,
                mirrors, new Downloader(log));
        int[] held = heldOut == null ? OpenSet.defaultHeldOut(split.train().classes())
                : heldOutClasses(heldOut, split.train().classNames());
        OpenSet set = OpenSet.of(split, held);
        if (trainPerClass != null) {
            set = set.withTrainPerClass(trainPerClass);
        }
        if (classRotations) {
            set = set.withClassRotations();
        }
        if (batchSize > set.train().size()) {
            throw new BadInputException("--batch-size " + batchSize + " is larger than the " + set.train().size()
                    + " training samples of " + split.name());
        }
        return set;
    }

    /**
     * The class indices {@code --held-out} names: each entry a class name, a top-level folder (every class
     * under it), or an index; {@code none} alone is none.
     */
    static int[] heldOutClasses(List<String> entries, List<String> names) {
        if (entries.size() == 1 && entries.get(0).strip().equalsIgnoreCase("none")) {
            return new int[0];
        }
        Map<String, List<Integer>> groups = ImageFolders.classesByGroup(names);
        boolean nested = names.stream().anyMatch(n -> n.contains("/"));
        Map<Integer, String> chosen = new LinkedHashMap<>();
        for (String entry : entries) {
            String s = entry.strip();
            if (s.equalsIgnoreCase("none")) {
                throw new BadInputException("--held-out none holds out nothing; it cannot be given with other classes");
            }
            List<Integer> classes = classes(s, names, nested ? groups : Map.of());
            for (int c : classes) {
                String before = chosen.putIfAbsent(c, s);
                if (before != null && c >= 0 && c < names.size()) {
                    throw new BadInputException("--held-out: class '" + Messages.quote(names.get(c)) + "' is given twice"
                            + (before.equals(s) ? "" : " ('" + Messages.quote(before) + "' and '" + Messages.quote(s) + "')"));
                }
                if (before != null) {
                    throw new BadInputException("--held-out class " + c + " is given twice");
                }
            }
        }
        return chosen.keySet().stream().mapToInt(Integer::intValue).toArray();
    }

    private static List<Integer> classes(String s, List<String> names, Map<String, List<Integer>> groups) {
        for (int c = 0; c < names.size(); c++) {
            if (names.get(c).equalsIgnoreCase(s)) {
                return List.of(c);
            }
        }
        for (Map.Entry<String, List<Integer>> g : groups.entrySet()) {
            if (g.getKey().equalsIgnoreCase(s)) {
                return g.getValue();
            }
        }
        try {
            return List.of(Integer.parseInt(s));
        } catch (NumberFormatException e) {
            if (!groups.isEmpty()) {
                throw new BadInputException("--held-out: '" + Messages.quote(s) + "' is neither a class index, a class name"
                        + " nor a top-level folder (top-level folders: " + Messages.list(List.copyOf(groups.keySet()), 12)
                        + "; classes such as " + Messages.quote(names.get(0)) + ")");
            }
            throw new BadInputException("--held-out: '" + Messages.quote(s) + "' is neither a class index nor a class name"
                    + " (classes: " + Messages.list(names, 12) + ")");
        }
    }

    private int[] hiddenSizes() {
        String h = hidden.strip();
        if (h.equalsIgnoreCase("none") || h.isEmpty()) {
            return new int[0];
        }
        String[] parts = h.split(",");
        int[] sizes = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                sizes[i] = Integer.parseInt(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new BadInputException("--hidden '" + Messages.quote(hidden) + "': '" + Messages.quote(parts[i].strip())
                        + "' is not a whole number"
                        + " (write widths such as 128,64, or none)");
            }
        }
        return sizes;
    }

    private Activation activation() {
        try {
            return Activation.valueOf(activation.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--activation '" + Messages.quote(activation) + "' is not one of relu, prelu");
        }
    }

    private Augmentation augmentation() {
        return choice(Augmentation.class, "--augment", augment, "none, affine");
    }

    private Schedule schedule() {
        try {
            return Schedule.valueOf(schedule.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--schedule '" + Messages.quote(schedule) + "' is not one of cosine, step");
        }
    }
}
