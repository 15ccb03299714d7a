package dev.softmaxlosses;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * A loss named by a spec string: {@code name} or {@code name:key=value,key=value}, for example
 * {@code arcface:s=32,m=0.4} or {@code softmax_cross_entropy:label_smoothing=0.1,reduction=sum}.
 *
 * <p>{@link #parse} checks the name and the parameter names against the {@link LossRegistry} and
 * rejects an unknown one with the list of valid ones; {@link #create()} checks the values and builds
 * the loss.
 *
 * @param name       the loss's snake_case name, as in {@code LOSSES.md}
 * @param parameters the parameters in the order given, as written
 */
public record LossSpec(String name, Map<String, String> parameters) {

    public LossSpec {
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    /** Parses and checks a spec string. */
    public static LossSpec parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty loss spec: expected a name such as softmax_cross_entropy, "
                    + "optionally followed by :key=value,...");
        }
        String trimmed = text.strip();
        int colon = trimmed.indexOf(':');
        String name = (colon < 0 ? trimmed : trimmed.substring(0, colon)).strip();
        LossRegistry.LossDefinition definition = LossRegistry.definition(name);
        Map<String, String> parameters = new LinkedHashMap<>();
        if (colon >= 0) {
            for (String part : trimmed.substring(colon + 1).split(",", -1)) {
                if (part.isBlank()) {
                    throw new IllegalArgumentException("empty parameter in loss spec '" + trimmed + "'");
                }
                int eq = part.indexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException("parameter '" + part.strip() + "' of " + name
                            + " has no value: write " + part.strip() + "=VALUE");
                }
                String key = part.substring(0, eq).strip();
                String value = part.substring(eq + 1).strip();
                if (!definition.parameters().contains(key)) {
                    throw new IllegalArgumentException("unknown parameter '" + key + "' for " + name
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
