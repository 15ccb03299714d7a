package dev.softmaxlosses;

import dev.softmaxlosses.text.Text;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * A loss named by a spec string: {@code name} or {@code name:key=value,key=value}, for example
 * {@code arcface:s=32,m=0.4} or {@code softmax_cross_entropy:label_smoothing=0.1,reduction=sum}.
 *
 * <p>{@link #parse} checks the name and the parameter names against the {@link LossRegistry} and
 * rejects an unknown one with the list of valid ones; {@link #create()} checks the values and builds
 * the loss. A spec is one line of text: a control character anywhere in it (a line break, a tab, an
 * escape) is an error. Messages repeat at most the first {@value Text#ECHO_CHARS} characters of what
 * was given, with control and invisible characters written as {@code \}{@code uXXXX}.
 *
 * @param name       the loss's snake_case name, as in {@code LOSSES.md}
 * @param parameters the parameters in the order given, as written
 */
public record LossSpec(String name, Map<String, String> parameters) {

    public LossSpec {
        Objects.requireNonNull(name, "name");
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(parameters, "parameters")));
    }

    /**
     * Parses and checks a spec string.
     *
     * @throws IllegalArgumentException for an empty spec, a control character, an unknown loss or
     *                                  parameter, a parameter without a value or given twice
     */
    public static LossSpec parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty loss spec: expected a name such as softmax_cross_entropy, "
                    + "optionally followed by :key=value,...");
        }
        int control = Text.indexOfControl(text);
        if (control >= 0) {
            // Refused rather than stripped: Double.parseDouble would silently drop a trailing one.
            throw new IllegalArgumentException("loss spec '" + Text.echo(text) + "' has the control character "
                    + Text.escape(text.charAt(control)) + " at index " + control
                    + "; a spec is one line of printable text");
        }
        String trimmed = text.strip();
        int colon = trimmed.indexOf(':');
        String name = (colon < 0 ? trimmed : trimmed.substring(0, colon)).strip();
        LossRegistry.LossDefinition definition = LossRegistry.definition(name);
        Map<String, String> parameters = new LinkedHashMap<>();
        if (colon >= 0) {
            for (String part : trimmed.substring(colon + 1).split(",", -1)) {
                if (part.isBlank()) {
                    throw new IllegalArgumentException("empty parameter in loss spec '" + Text.echo(trimmed) + "'");
                }
                int eq = part.indexOf('=');
                if (eq < 0) {
                    String shown = Text.echo(part.strip());
                    throw new IllegalArgumentException("parameter '" + shown + "' of " + name
                            + " has no value: write " + shown + "=VALUE");
                }
                String key = part.substring(0, eq).strip();
                String value = part.substring(eq + 1).strip();
                if (!definition.parameters().contains(key)) {
                    throw new IllegalArgumentException("unknown parameter '" + Text.echo(key) + "' for " + name
                            + "; valid parameters: " + String.join(", ", definition.parameters()));
                }
                if (value.isEmpty()) {
                    throw new IllegalArgumentException("parameter " + key + " of " + name + " has an empty value");
                }
                if (parameters.put(key, value) != null) {
                    throw new IllegalArgumentException("parameter " + key + " of " + name + " is given twice");
                }
            }
        }
        return new LossSpec(name, parameters);
    }

    /** Builds the loss this spec names, checking every value. */
    public Loss create() {
        LossRegistry.LossDefinition definition = LossRegistry.definition(name);
        LossParameters reader = new LossParameters(name, parameters);
        return definition.factory().apply(reader);
    }

    @Override
    public String toString() {
        if (parameters.isEmpty()) {
            return name;
        }
        StringJoiner joined = new StringJoiner(",", name + ":", "");
        parameters.forEach((k, v) -> joined.add(k + "=" + v));
        return joined.toString();
    }
}
