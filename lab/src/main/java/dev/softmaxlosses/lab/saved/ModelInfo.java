package dev.softmaxlosses.lab.saved;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.softmaxlosses.lab.BadInputException;
import dev.softmaxlosses.lab.Messages;
import dev.softmaxlosses.lab.data.GreyImages;
import dev.softmaxlosses.lab.djl.DjlNetworkFile;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.train.Activation;
import dev.softmaxlosses.lab.train.MlpWeights;
import dev.softmaxlosses.lab.train.Schedule;
import dev.softmaxlosses.lab.train.TrainingSettings;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * What a saved model is, besides its weights: {@value #FILE}, the file that tells how to rebuild the
 * network and how to feed it.
 *
 * <pre>
 * {
 *   "format": "softmax-lab model",  "version": 1,
 *   "loss": "arcface:s=8,m=0.2",                      the loss it was trained with, as given
 *   "engine": "java",  "network": "mlp",              java mlp, djl mlp, djl cnn, ...
 *   "settings": {"hidden": [128, 64], "embedding": 2, "activation": "prelu", "batch_norm": true,
 *                "epochs": 30, "batch_size": 128, "learning_rate": 0.05, "schedule": "cosine",
 *                "momentum": 0.9, "weight_decay": 0.005, "seed": 1},
 *   "input": {"dim": 784, "width": 28},               values per row; for images, pixels per image row
 *   "images": {"size": 28, "invert": true},           how image files become rows (null: not image files)
 *   "classes": ["T-shirt/top", ...],                  the trained classes, in label order
 *   "weights": "weights.bin"                          the file with the weights (network-0000.params for djl)
 * }
 * </pre>
 *
 * @param loss       the loss's spec string, as given
 * @param backend    the engine and network
 * @param settings   the settings that rebuild the network
 * @param dim        values per input row
 * @param width      for images, the width in pixels of the {@code dim / width} rows of a sample; else {@code dim}
 * @param images     how image files become rows ({@code GreyImages(size, invert)}), or null when the model was
 *                   not trained on image files
 * @param classNames the trained classes, in label order
 */
public record ModelInfo(String loss, Backend backend, TrainingSettings settings, int dim, int width, GreyImages images,
                        List<String> classNames) {

    /** The file's name in a saved model's folder. */
    public static final String FILE = "model.json";

    /** The format's name, the value of {@code "format"}. */
    static final String FORMAT = "softmax-lab model";

    /** The format's version; a file of another version is refused. */
    public static final int VERSION = 1;

    private static final JsonMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    public ModelInfo {
        classNames = List.copyOf(classNames);
        if (dim < 1 || width < 1 || dim % width != 0) {
            throw new IllegalArgumentException("a row of " + dim + " values is no image " + width + " pixels wide");
        }
        if (images != null && (width != images.size() || dim != images.size() * images.size())) {
            throw new IllegalArgumentException("images of " + images.size() + "x" + images.size() + " pixels are no rows of "
                    + dim + " values " + width + " wide");
        }
    }

    /** The file that holds the weights: {@value MlpWeights#FILE} or {@value DjlNetworkFile#FILE}. */
    public String weightsFile() {
        return backend.engine() == Backend.Engine.JAVA ? MlpWeights.FILE : DjlNetworkFile.FILE;
    }

    /** Writes {@value #FILE} into {@code folder}. */
    void write(Path folder) throws IOException {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        root.put("loss", loss);
        root.put("engine", lower(backend.engine()));
        root.put("network", lower(backend.model()));
        ObjectNode s = root.putObject("settings");
        ArrayNode hidden = s.putArray("hidden");
        for (int h : settings.hidden()) {
            hidden.add(h);
        }
        s.put("embedding", settings.embedding());
        s.put("activation", lower(settings.activation()));
        s.put("batch_norm", settings.batchNorm());
        s.put("epochs", settings.epochs());
        s.put("batch_size", settings.batchSize());
        s.put("learning_rate", settings.learningRate());
        s.put("schedule", lower(settings.schedule()));
        s.put("momentum", settings.momentum());
        s.put("weight_decay", settings.weightDecay());
        s.put("seed", settings.seed());
        ObjectNode input = root.putObject("input");
        input.put("dim", dim);
        input.put("width", width);
        if (images == null) {
            root.putNull("images");
        } else {
            root.putObject("images").put("size", images.size()).put("invert", images.invert());
        }
        ArrayNode classes = root.putArray("classes");
        classNames.forEach(classes::add);
        root.put("weights", weightsFile());
        Files.writeString(folder.resolve(FILE), MAPPER.writeValueAsString(root) + "\n", StandardCharsets.UTF_8);
    }

    /**
     * Reads {@value #FILE} from {@code folder}.
     *
     * @throws BadInputException naming the file: when it is missing or unreadable, not JSON, of another
     *                           format or version, or a field is missing or out of range
     */
    static ModelInfo read(Path folder) {
        Path file = folder.resolve(FILE);
        String shown = Messages.quote(file.toString());
        JsonNode root;
        try {
            root = MAPPER.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? "it is not valid JSON ("
                    + j.getOriginalMessage() + ")" : Messages.reason(e);
            throw new BadInputException("saved model file " + shown + ": " + why);
        } catch (java.io.UncheckedIOException e) {
            throw new BadInputException("saved model file " + shown + ": it is not UTF-8 text");
        }
        Fields f = new Fields(root, shown);
        if (!FORMAT.equals(f.text(root, "format"))) {
            throw new BadInputException("saved model file " + shown + " is not a model of softmax-lab (its \"format\" is not \""
                    + FORMAT + "\")");
        }
        int version = f.integer(root, "version");
        if (version != VERSION) {
            throw new BadInputException("saved model file " + shown + " has version " + version + " of the format; this lab"
                    + " reads version " + VERSION + " (save the model again with this lab)");
        }
        try {
            Backend backend = new Backend(f.choice(Backend.Engine.class, root, "engine"),
                    f.choice(Backend.Model.class, root, "network"));
            JsonNode s = f.object(root, "settings");
            JsonNode hiddenNode = f.node(s, "hidden");
            if (!hiddenNode.isArray()) {
                throw f.bad("\"hidden\" is not a list of widths");
            }
            int[] hidden = new int[hiddenNode.size()];
            for (int i = 0; i < hidden.length; i++) {
                if (!hiddenNode.get(i).canConvertToInt() || !hiddenNode.get(i).isIntegralNumber()) {
                    throw f.bad("\"hidden\" holds something other than whole numbers");
                }
                hidden[i] = hiddenNode.get(i).intValue();
            }
            TrainingSettings settings = new TrainingSettings(hidden, f.integer(s, "embedding"),
                    f.choice(Activation.class, s, "activation"), f.bool(s, "batch_norm"), f.integer(s, "epochs"),
                    f.integer(s, "batch_size"), f.number(s, "learning_rate"), f.choice(Schedule.class, s, "schedule"),
                    f.number(s, "momentum"), f.number(s, "weight_decay"), f.longInteger(s, "seed"));
            JsonNode input = f.object(root, "input");
            JsonNode imagesNode = f.node(root, "images");
            GreyImages images = imagesNode.isNull() ? null
                    : new GreyImages(f.integer(f.object(root, "images"), "size"), f.bool(imagesNode, "invert"));
            JsonNode classesNode = f.node(root, "classes");
            List<String> classes = new ArrayList<>();
            if (!classesNode.isArray()) {
                throw f.bad("\"classes\" is not a list of names");
            }
            for (JsonNode c : classesNode) {
                if (!c.isTextual()) {
                    throw f.bad("\"classes\" holds something other than names");
                }
                classes.add(c.textValue());
            }
            ModelInfo info = new ModelInfo(f.text(root, "loss"), backend, settings, f.integer(input, "dim"),
                    f.integer(input, "width"), images, classes);
            if (!info.weightsFile().equals(f.text(root, "weights"))) {
                throw f.bad("\"weights\" is not " + info.weightsFile() + ", the file of the " + backend.engine()
                        .name().toLowerCase(Locale.ROOT) + " engine");
            }
            return info;
        } catch (BadInputException e) {
            throw e.getMessage().startsWith("saved model file ") ? e : f.bad(e.getMessage());
        } catch (IllegalArgumentException e) {
            throw f.bad(e.getMessage());
        }
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /** Strict field access: a missing or mistyped field is a {@link BadInputException} naming the file and the field. */
    private record Fields(JsonNode root, String shown) {

        BadInputException bad(String what) {
            return new BadInputException("saved model file " + shown + " is damaged: " + what);
        }

        JsonNode node(JsonNode parent, String name) {
            JsonNode n = parent.get(name);
            if (n == null) {
                throw bad("it has no \"" + name + "\"");
            }
            return n;
        }

        /** The field {@code name} of {@code parent} as {@code value} reads it, when {@code fits} (else it is not {@code what}). */
        private <T> T typed(JsonNode parent, String name, Predicate<JsonNode> fits, String what,
                            Function<JsonNode, T> value) {
            JsonNode n = node(parent, name);
            if (!fits.test(n)) {
                throw bad("\"" + name + "\" is not " + what);
            }
            return value.apply(n);
        }

        JsonNode object(JsonNode parent, String name) {
            return typed(parent, name, JsonNode::isObject, "an object", n -> n);
        }

        String text(JsonNode parent, String name) {
            return typed(parent, name, JsonNode::isTextual, "a string", JsonNode::textValue);
        }

        int integer(JsonNode parent, String name) {
            return typed(parent, name, n -> n.isIntegralNumber() && n.canConvertToInt(), "a whole number",
                    JsonNode::intValue);
        }

        long longInteger(JsonNode parent, String name) {
            return typed(parent, name, n -> n.isIntegralNumber() && n.canConvertToLong(), "a whole number",
                    JsonNode::longValue);
        }

        double number(JsonNode parent, String name) {
            return typed(parent, name, JsonNode::isNumber, "a number", JsonNode::doubleValue);
        }

        boolean bool(JsonNode parent, String name) {
            return typed(parent, name, JsonNode::isBoolean, "true or false", JsonNode::booleanValue);
        }

        <E extends Enum<E>> E choice(Class<E> type, JsonNode parent, String name) {
            String v = text(parent, name);
            try {
                return Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw bad("\"" + name + "\" is '" + Messages.quote(v) + "', which this lab does not know");
            }
        }
    }
}
