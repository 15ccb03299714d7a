package dev.softmaxlosses;

import dev.softmaxlosses.text.Text;

import java.util.Locale;
import java.util.Map;

/**
 * Typed reads of a spec's parameter values, for the factories of the {@link LossRegistry}. A value
 * that does not parse is an error naming the loss, the parameter and the value, and so is a number
 * that is not finite or lies outside the float32 range, which every kernel computes in.
 */
public final class LossParameters {
    private final String loss;
    private final Map<String, String> values;

    LossParameters(String loss, Map<String, String> values) {
        this.loss = loss;
        this.values = values;
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public double getDouble(String key, double defaultValue) {
        String value = values.get(key);
        if (value == null) {
            return defaultValue;
        }
        double number;
        try {
            number = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw bad(key, value, "a number");
        }
        if (!(Math.abs(number) <= Float.MAX_VALUE)) {
            throw bad(key, value, "a finite number within the float32 range [-" + Float.MAX_VALUE + ", "
                    + Float.MAX_VALUE + "]");
        }
        return number;
    }

    public float getFloat(String key, float defaultValue) {
        return (float) getDouble(key, defaultValue);
    }

    public int getInt(String key, int defaultValue) {
        String value = values.get(key);
        if (value == null) {
            return defaultValue;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw bad(key, value, "an integer");
        }
    }

    public boolean getBoolean(String key, boolean defaultValue) {
        String value = values.get(key);
        if (value == null) {
            return defaultValue;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw bad(key, value, "true or false");
        };
    }

    /** Reads an enum constant by its lower-case spelling ({@code mean}, {@code batch}). */
    public <E extends Enum<E>> E getEnum(String key, Class<E> type, E defaultValue) {
        String value = values.get(key);
        if (value == null) {
            return defaultValue;
        }
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(value)) {
                return constant;
            }
        }
        StringBuilder valid = new StringBuilder();
        for (E constant : type.getEnumConstants()) {
            valid.append(valid.isEmpty() ? "" : ", ").append(constant.name().toLowerCase(Locale.ROOT));
        }
        throw bad(key, value, "one of " + valid);
    }

    private IllegalArgumentException bad(String key, String value, String expected) {
        return new IllegalArgumentException(
                "parameter " + key + " of " + loss + " must be " + expected + ", got '" + Text.echo(value) + "'");
    }
}
