package dev.softmaxlosses.lab;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossInput;

import java.util.Set;

/**
 * Reads the JSON of one {@code eval} case into a {@link LossInput}. Accepts the tokens {@code NaN},
 * {@code Infinity} and {@code -Infinity} as Python's {@code json} module writes them, so that masked
 * logits can be given; the losses then refuse NaN and {@code +Infinity} with a message naming them.
 */
final class JsonCases {

    static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** The array fields a case may carry; any other field but {@code id} and {@code loss} is ignored. */
    static final Set<String> ARRAYS =
            Set.of("logits", "labels", "targets", "teacher_logits", "class_weights", "features", "weights");

    private JsonCases() {}

    /** Parses one JSON object; malformed JSON is an error that says where. */
    static JsonNode parse(String text, String where) {
        JsonNode node;
        try {
            node = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            String at = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr();
            throw new BadInputException("malformed JSON in " + where + at + ": " + firstLine(e.getOriginalMessage()));
        }
        if (node == null || node.isMissingNode()) {
            throw new BadInputException(where + " holds no JSON object");
        }
        if (!node.isObject()) {
            throw new BadInputException(where + " must hold a JSON object, found " + node.getNodeType().toString().toLowerCase());
        }
        return node;
    }

    /**
     * The case's arrays. JSON cannot give the class count of an empty batch ({@code "logits": []} is
     * 0x0), so an empty {@code logits}, {@code targets} or {@code teacher_logits} takes it from
     * {@code class_weights} when they are given: an empty batch with class weights is valid and
     * gives a loss of 0, as {@code LOSSES.md} asks.
     */
    static LossInput input(JsonNode c) {
        float[] classWeights = vector(c, "class_weights");
        int classes = classWeights == null ? 0 : classWeights.length;
        return LossInput.builder()
                .logits(emptyWithClasses(matrix(c, "logits"), classes))
                .labels(labels(c))
                .targets(emptyWithClasses(matrix(c, "targets"), classes))
                .teacherLogits(emptyWithClasses(matrix(c, "teacher_logits"), classes))
                .classWeights(classWeights)
                .features(matrix(c, "features"))
                .weights(matrix(c, "weights"))
                .build();
    }

    private static FloatMatrix emptyWithClasses(FloatMatrix m, int classes) {
        return m != null && m.rows() == 0 && m.cols() == 0 && classes > 0 ? new FloatMatrix(new float[0], 0, classes) : m;
    }

    private static FloatMatrix matrix(JsonNode c, String name) {
        JsonNode node = c.get(name);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isArray()) {
            throw new BadInputException(name + " must be an array of rows, found " + describe(node));
        }
        int rows = node.size();
        int cols = rows == 0 ? 0 : rowLength(node.get(0), name, 0);
        float[] data = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            JsonNode row = node.get(r);
            int length = rowLength(row, name, r);
            if (length != cols) {
                throw new BadInputException(name + "[" + r + "] has " + length + " values, expected " + cols
                        + " (the length of " + name + "[0])");
            }
            for (int col = 0; col < cols; col++) {
                data[r * cols + col] = toFloat(row.get(col), name + "[" + r + "][" + col + "]");
            }
        }
        return new FloatMatrix(data, rows, cols);
    }

    private static int rowLength(JsonNode row, String name, int r) {
        if (!row.isArray()) {
            throw new BadInputException(name + "[" + r + "] must be an array of numbers, found " + describe(row)
                    + " (matrices are arrays of rows)");
        }
        return row.size();
    }

    private static float[] vector(JsonNode c, String name) {
        JsonNode node = c.get(name);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isArray()) {
            throw new BadInputException(name + " must be an array of numbers, found " + describe(node));
        }
        float[] values = new float[node.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = toFloat(node.get(i), name + "[" + i + "]");
        }
        return values;
    }

    private static int[] labels(JsonNode c) {
        JsonNode node = c.get("labels");
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isArray()) {
            throw new BadInputException("labels must be an array of integers, found " + describe(node));
        }
        int[] labels = new int[node.size()];
        for (int i = 0; i < labels.length; i++) {
            JsonNode v = node.get(i);
            String where = "labels[" + i + "]";
            if (!v.isNumber()) {
                throw new BadInputException(where + " must be an integer, found " + describe(v));
            }
            if (v.isIntegralNumber()) {
                if (!v.canConvertToInt()) {
                    throw new BadInputException(where + " = " + v.asText() + " is out of the integer range");
                }
                labels[i] = v.intValue();
            } else {
                double d = v.doubleValue();
                if (!Double.isFinite(d) || d != Math.rint(d)) {
                    throw new BadInputException(where + " = " + v.asText() + " is not an integer");
                }
                if (Math.abs(d) > Integer.MAX_VALUE) {
                    throw new BadInputException(where + " = " + v.asText() + " is out of the integer range");
                }
                labels[i] = (int) d;
            }
        }
        return labels;
    }

    private static float toFloat(JsonNode v, String where) {
        if (v == null || !v.isNumber()) {
            throw new BadInputException(where + " must be a number, found " + describe(v));
        }
        double d = v.doubleValue();
        float f = (float) d;
        if (Double.isFinite(d) && Float.isInfinite(f)) {
            throw new BadInputException(where + " = " + v.asText() + " is outside the float32 range");
        }
        return f;
    }

    private static String describe(JsonNode v) {
        if (v == null || v.isNull()) {
            return "null";
        }
        if (v.isTextual()) {
            return "the string \"" + v.asText() + "\"";
        }
        if (v.isObject()) {
            return "an object";
        }
        if (v.isArray()) {
            return "an array";
        }
        if (v.isBoolean()) {
            return v.asText();
        }
        return "the number " + v.asText();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
