package dev.softmaxlosses.spec;

import dev.softmaxlosses.text.Text;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Typed reads of a spec's parameter values, for the factories of the {@link LossRegistry}. Each read
 * gives the value when the spec gives one and is empty otherwise, so that a factory sets only what
 * the spec gives and the loss's builder keeps the one written default:
 *
 * <pre>{@code
 *   ArcFaceLoss.Builder b = ArcFaceLoss.builder();
 *   p.getDouble("s").ifPresent(b::scale);
 * }</pre>
 *
 * A value is parsed when it is read, so the order of the reads is the order in which a spec's bad
 * values are reported. A value that does not parse is an error naming the loss, the parameter and
 * the value, and so is a number that is not finite or lies outside the float32 range, which every
 * kernel computes in.
 */
public final class LossParameters {
    private final String loss;
    private final Map<String, String> values;

    LossParameters(String loss, Map<String, String> values) {
        this.loss = loss;
        this.values = values;
    }

    /** Whether the spec gives {@code key}. */
    public boolean has(String key) {
        return values.containsKey(key);
    }

    /** A finite number within the float32 range. */
    public OptionalDouble getDouble(String key) {
        String value = values.get(key);
        if (value == null) {
            return OptionalDouble.empty();
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
        return OptionalDouble.of(number);
    }

    /** An integer ({@code int}). */
    public OptionalInt getInt(String key) {
        String value = values.get(key);
        if (value == null) {
            return OptionalInt.empty();
        }
        try {
            return OptionalInt.of(Integer.parseInt(value));
        } catch (NumberFormatException e) {
            throw bad(key, value, "an integer");
        }
    }

    /** An integer ({@code long}). */
    public OptionalLong getLong(String key) {
        String value = values.get(key);
        if (value == null) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(value));
        } catch (NumberFormatException e) {
            throw bad(key, value, "an integer");
        }
    }

    /** {@code true}, {@code false}, {@code 1} or {@code 0}, in any case. */
    public Optional<Boolean> getBoolean(String key) {
        String value = values.get(key);
        if (value == null) {
            return Optional.empty();
        }
        return Optional.of(switch (value.toLowerCase(Locale.ROOT)) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw bad(key, value, "true or false");
        });
    }

    /** An enum constant by its lower-case spelling ({@code mean}, {@code batch}), in any case. */
    public <E extends Enum<E>> Optional<E> getEnum(String key, Class<E> type) {
        String value = values.get(key);
        if (value == null) {
            return Optional.empty();
        }
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(value)) {
                return Optional.of(constant);
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
