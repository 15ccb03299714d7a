package dev.softmaxlosses.lab;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.softmaxlosses.FloatMatrix;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the JSON of one {@code eval} case into a {@link EvalInput}, streaming: numbers go straight
 * into {@code float} arrays (4 bytes each), never into a tree of boxed nodes, so a large case costs
 * little more memory than its arrays.
 *
 * <p>Accepts the tokens {@code NaN}, {@code Infinity} and {@code -Infinity} as Python's {@code json}
 * module writes them, so that masked logits can be given; the losses then refuse NaN and
 * {@code +Infinity} with a message naming them. A number outside the float32 range is an error,
 * whether it still fits a double ({@code -1e39}) or not ({@code -1e400}): only the token
 * {@code -Infinity} masks a class. A field given twice is an error.
 *
 * <p>The errors keep the order in which a reader of the whole document would find them: malformed
 * JSON first, then the case's {@code "loss"}, then the arrays in a fixed order ({@code class_weights},
 * {@code logits}, {@code labels}, {@code targets}, {@code teacher_logits}, {@code features},
 * {@code weights}); so a bad value is reported with the case's {@code "id"} even when the id comes
 * after it.
 */
final class JsonCases {

    static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** Reads the {@code "id"}, which may be any JSON value, as a tree. */
    private static final JsonMapper MAPPER = new JsonMapper(FACTORY);

    /** The largest array a case may hold: the JVM's largest array. */
    static final int MAX_VALUES = FloatMatrix.MAX_VALUES;

    /** The array fields in the order their errors are reported; any other field but id and loss is ignored. */
    static final List<String> ARRAYS =
            List.of("class_weights", "logits", "labels", "targets", "teacher_logits", "features", "weights", "margins");

    /** The fields that choose how a margin-family case is run. */
    static final List<String> OPTIONS = List.of("block", "shards");

    /** The fields that give the state a loss keeps across steps (LOSSES.md, the new margin losses). */
    static final List<String> STATE = List.of("batch_mean", "batch_std", "t", "step");

    private static final Set<String> MATRICES = Set.of("logits", "targets", "teacher_logits", "features", "weights");

    private JsonCases() {}

    /**
     * One case as read. {@link #loss()} and {@link #input()} throw the errors found while reading, in
     * the documented order; {@link #id()} is known even then.
     */
    static final class Case {
        private final JsonNode id;
        private final JsonNode loss;
        private final Map<String, JsonNode> options;
        private final Map<String, JsonNode> state;
        private final Map<String, Object> arrays;
        private final Map<String, BadInputException> errors;

        private Case(JsonNode id, JsonNode loss, Map<String, JsonNode> options, Map<String, JsonNode> state,
                     Map<String, Object> arrays, Map<String, BadInputException> errors) {
            this.id = id;
            this.loss = loss;
            this.options = options;
            this.state = state;
            this.arrays = arrays;
            this.errors = errors;
        }

        /**
         * An option of the margin family's run ({@code "block"}, {@code "shards"}): a positive integer,
         * or 0 when the case does not give it.
         */
        int option(String name) {
            JsonNode value = options.get(name);
            if (value == null || value.isNull()) {
                return 0;
            }
            if (!value.canConvertToExactIntegral() || !value.canConvertToInt() || value.asInt() < 1) {
                throw new BadInputException("\"" + name + "\" must be an integer from 1 to " + Integer.MAX_VALUE + ", found "
                        + Messages.quote(value.toString()));
            }
            return value.asInt();
        }

        /** Whether the case gives any of the margin family's run options. */
        boolean hasRunOptions() {
            return OPTIONS.stream().anyMatch(name -> options.get(name) != null && !options.get(name).isNull());
        }

        /** The state fields the case gives, in the order of {@link #STATE}. */
        List<String> stateFields() {
            return STATE.stream().filter(name -> state.get(name) != null && !state.get(name).isNull()).toList();
        }

        /** A state field's value: a finite number. */
        double stateValue(String name) {
            JsonNode value = state.get(name);
            if (!value.isNumber() || !Double.isFinite(value.asDouble())) {
                throw new BadInputException("\"" + name + "\" must be a finite number, found " + Messages.quote(value.toString()));
            }
            return value.asDouble();
        }

        /** The case's {@code "id"}, or null. */
        JsonNode id() {
            return id;
        }

        /** The case's own loss spec, or null when it has none. */
        String loss() {
            if (loss == null || loss.isNull()) {
                return null;
            }
            if (!loss.isTextual()) {
                throw new BadInputException("\"loss\" must be a spec string such as \"softmax_cross_entropy\"");
            }
            return loss.asText();
        }

        /**
         * The arrays as a loss input. JSON cannot give the class count of an empty batch
         * ({@code "logits": []} is 0x0), so an empty {@code logits}, {@code targets} or
         * {@code teacher_logits} takes it from {@code class_weights} when they are given: an empty
         * batch with class weights is valid and gives a loss of 0, as {@code LOSSES.md} asks.
         */
        EvalInput input() {
            for (String name : ARRAYS) {
                BadInputException e = errors.get(name);
                if (e != null) {
                    throw e;
                }
            }
            float[] classWeights = (float[]) arrays.get("class_weights");
            int classes = classWeights == null ? 0 : classWeights.length;
            return new EvalInput(emptyWithClasses(matrix("logits"), classes), (int[]) arrays.get("labels"),
                    emptyWithClasses(matrix("targets"), classes), emptyWithClasses(matrix("teacher_logits"), classes),
                    classWeights, matrix("features"), matrix("weights"), (float[]) arrays.get("margins"));
        }

        private FloatMatrix matrix(String name) {
            return (FloatMatrix) arrays.get(name);
        }

        private static FloatMatrix emptyWithClasses(FloatMatrix m, int classes) {
            return m != null && m.rows() == 0 && m.cols() == 0 && classes > 0 ? new FloatMatrix(new float[0], 0, classes) : m;
        }
    }

    /**
     * Reads one JSON object from {@code in}, which must hold nothing else; {@code where} is what
     * messages call it.
     *
     * @throws BadInputException for malformed JSON, a root that is not an object, or anything after it
     */
    static Case read(InputStream in, String where) {
        Case c = readOrBlank(in, where);
        if (c == null) {
            throw new BadInputException(where + " holds no JSON object");
        }
        return c;
    }

    /** As {@link #read}, but white space alone (a blank line of a {@code .jsonl} file) gives null. */
    static Case readOrBlank(InputStream in, String where) {
        try (JsonParser p = FACTORY.createParser(in)) {
            return read(p, where);
        } catch (JsonProcessingException e) {
            throw malformed(e, where);
        } catch (IOException e) {
            throw new BadInputException("cannot read " + where + ": " + Messages.reason(e));
        }
    }

    private static Case read(JsonParser p, String where) throws IOException {
        JsonToken first = p.nextToken();
        if (first == null) {
            return null;
        }
        if (first != JsonToken.START_OBJECT) {
            p.skipChildren();
            requireEnd(p, where);
            throw new BadInputException(where + " must hold a JSON object, found " + kind(first));
        }
        JsonNode id = null;
        JsonNode loss = null;
        Map<String, JsonNode> options = new HashMap<>();
        Map<String, JsonNode> state = new HashMap<>();
        Map<String, Object> arrays = new HashMap<>();
        Map<String, BadInputException> errors = new HashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (field.equals("id")) {
                id = MAPPER.readTree(p);
            } else if (field.equals("loss")) {
                loss = MAPPER.readTree(p);
            } else if (OPTIONS.contains(field)) {
                options.put(field, MAPPER.readTree(p));
            } else if (STATE.contains(field)) {
                state.put(field, MAPPER.readTree(p));
            } else if (!ARRAYS.contains(field)) {
                p.skipChildren();
            } else if (value != JsonToken.VALUE_NULL) {
                try {
                    arrays.put(field, MATRICES.contains(field) ? matrix(p, field)
                            : field.equals("labels") ? labels(p) : vector(p, field));
                } catch (BadInputException e) {
                    errors.put(field, e);
                    skipRestOfField(p);
                } catch (OutOfMemoryError e) {
                    // The values read so far are garbage now: the rest of the case can still be read (its id).
                    errors.put(field, new BadInputException(SoftmaxLab.outOfMemory("reading " + field)));
                    skipRestOfField(p);
                }
            }
        }
        requireEnd(p, where);
        return new Case(id, loss, options, state, arrays, errors);
    }

    /** After a bad value: skips what is left of the field's value, at whatever depth the error was found. */
    private static void skipRestOfField(JsonParser p) throws IOException {
        while (!(p.getParsingContext().inObject() && p.getParsingContext().getParent().inRoot())) {
            if (p.nextToken() == null) {
                return;
            }
        }
    }

    private static void requireEnd(JsonParser p, String where) throws IOException {
        if (p.nextToken() != null) {
            throw new BadInputException("malformed JSON in " + where + " at line " + p.currentLocation().getLineNr()
                    + ", column " + p.currentLocation().getColumnNr() + ": content after the JSON object");
        }
    }

    private static FloatMatrix matrix(JsonParser p, String name) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new BadInputException(name + " must be an array of rows, found " + describe(p));
        }
        FloatList values = new FloatList(name);
        int rows = 0;
        int cols = -1;
        for (JsonToken row = p.nextToken(); row != JsonToken.END_ARRAY; row = p.nextToken()) {
            if (row != JsonToken.START_ARRAY) {
                throw new BadInputException(name + "[" + rows + "] must be an array of numbers, found " + describe(p)
                        + " (matrices are arrays of rows)");
            }
            int length = 0;
            for (JsonToken v = p.nextToken(); v != JsonToken.END_ARRAY; v = p.nextToken()) {
                if (cols >= 0 && length == cols) {
                    throw new BadInputException(name + "[" + rows + "] has " + (length + 1 + remaining(p)) + " values, expected "
                            + cols + " (the length of " + name + "[0])");
                }
                values.add(toFloat(p, name + "[" + rows + "][" + length + "]"));
                length++;
            }
            if (cols < 0) {
                cols = length;
            } else if (length != cols) {
                throw new BadInputException(name + "[" + rows + "] has " + length + " values, expected " + cols
                        + " (the length of " + name + "[0])");
            }
            rows++;
        }
        return new FloatMatrix(values.toArray(), rows, Math.max(cols, 0));
    }

    /** How many more values the current array holds (read to its end, for the message of a row that is too long). */
    private static int remaining(JsonParser p) throws IOException {
        int n = 0;
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY && t != null; t = p.nextToken()) {
            p.skipChildren();
            n++;
        }
        return n;
    }

    private static float[] vector(JsonParser p, String name) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new BadInputException(name + " must be an array of numbers, found " + describe(p));
        }
        FloatList values = new FloatList(name);
        for (JsonToken v = p.nextToken(); v != JsonToken.END_ARRAY; v = p.nextToken()) {
            values.add(toFloat(p, name + "[" + values.size() + "]"));
        }
        return values.toArray();
    }

    private static int[] labels(JsonParser p) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new BadInputException("labels must be an array of integers, found " + describe(p));
        }
        int[] labels = new int[16];
        int n = 0;
        for (JsonToken v = p.nextToken(); v != JsonToken.END_ARRAY; v = p.nextToken()) {
            String where = "labels[" + n + "]";
            int label;
            if (v == JsonToken.VALUE_NUMBER_INT) {
                if (p.getNumberType() != JsonParser.NumberType.INT) {
                    throw new BadInputException(where + " = " + Messages.quote(p.getText()) + " is out of the integer range");
                }
                label = p.getIntValue();
            } else if (v == JsonToken.VALUE_NUMBER_FLOAT) {
                double d = p.getDoubleValue();
                if (!Double.isFinite(d) || d != Math.rint(d)) {
                    throw new BadInputException(where + " = " + Messages.quote(p.getText()) + " is not an integer");
                }
                if (Math.abs(d) > Integer.MAX_VALUE) {
                    throw new BadInputException(where + " = " + Messages.quote(p.getText()) + " is out of the integer range");
                }
                label = (int) d;
            } else {
                throw new BadInputException(where + " must be an integer, found " + describe(p));
            }
            if (n == labels.length) {
                if (n == MAX_VALUES) {
                    throw new BadInputException("labels holds more than " + MAX_VALUES + " values");
                }
                labels = Arrays.copyOf(labels, (int) Math.min(MAX_VALUES, 2L * n));
            }
            labels[n++] = label;
        }
        return Arrays.copyOf(labels, n);
    }

    private static float toFloat(JsonParser p, String where) throws IOException {
        JsonToken t = p.currentToken();
        if (t != JsonToken.VALUE_NUMBER_FLOAT && t != JsonToken.VALUE_NUMBER_INT) {
            throw new BadInputException(where + " must be a number, found " + describe(p));
        }
        double d = p.getDoubleValue();
        if (Double.isFinite(d) ? Float.isInfinite((float) d) : isNumeral(p.getText())) {
            throw new BadInputException(where + " = " + Messages.quote(p.getText()) + " is outside the float32 range"
                    + " (-Infinity, written so, masks a class)");
        }
        return (float) d;
    }

    /** Whether a number token was written with digits ({@code -1e400}) rather than as {@code -Infinity} or {@code NaN}. */
    private static boolean isNumeral(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (Character.isDigit(text.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /** The current value as a message describes it (skipping it when it is an array or object). */
    private static String describe(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == null) {
            return "nothing";
        }
        return switch (t) {
            case VALUE_NULL -> "null";
            case VALUE_TRUE -> "true";
            case VALUE_FALSE -> "false";
            case VALUE_STRING -> "the string \"" + Messages.quote(p.getText()) + "\"";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "the number " + Messages.quote(p.getText());
            case START_OBJECT -> {
                p.skipChildren();
                yield "an object";
            }
            case START_ARRAY -> {
                p.skipChildren();
                yield "an array";
            }
            default -> t.asString();
        };
    }

    private static String kind(JsonToken t) {
        return switch (t) {
            case START_ARRAY -> "array";
            case VALUE_STRING -> "string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number";
            case VALUE_TRUE, VALUE_FALSE -> "boolean";
            case VALUE_NULL -> "null";
            default -> t.name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    /** Malformed JSON as one message that says where (the input's line and column). */
    static BadInputException malformed(JsonProcessingException e, String where) {
        String at = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                + ", column " + e.getLocation().getColumnNr();
        String why = firstLine(e.getOriginalMessage());
        if (why.startsWith("Invalid UTF-8") || why.contains("Invalid UTF-8")) {
            return new BadInputException(where + " is not UTF-8 text" + at + ": " + why);
        }
        if (why.startsWith("Duplicate field")) {
            return new BadInputException(where + at + ": " + why.replace("Duplicate field", "a field given twice:"));
        }
        return new BadInputException("malformed JSON in " + where + at + ": " + why);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** A growing {@code float[]} that refuses to outgrow the largest Java array. */
    private static final class FloatList {
        private final String name;
        private float[] values = new float[64];
        private int size;

        FloatList(String name) {
            this.name = name;
        }

        void add(float v) {
            if (size == values.length) {
                if (size == MAX_VALUES) {
                    throw new BadInputException(name + " holds more than " + MAX_VALUES + " values, more than an array can");
                }
                values = Arrays.copyOf(values, (int) Math.min(MAX_VALUES, 2L * size));
            }
            values[size++] = v;
        }

        int size() {
            return size;
        }

        float[] toArray() {
            return size == values.length ? values : Arrays.copyOf(values, size);
        }
    }
}
