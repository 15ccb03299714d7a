package dev.softmaxlosses.spec;

import dev.softmaxlosses.Loss;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.text.Text;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The losses that spec strings can name, each with its parameter names and a factory, and the two
 * steps from a spec string to a loss: {@link #parse} and {@link #create(LossSpec)}.
 *
 * <p>A spec string is {@code name} or {@code name:key=value,key=value}, for example
 * {@code arcface:s=32,m=0.4} or {@code softmax_cross_entropy:label_smoothing=0.1,reduction=sum}.
 * {@link #parse} checks the name and the parameter names and rejects an unknown one with the list of
 * valid ones; {@link #create(LossSpec)} checks the values and builds the loss. A spec is one line of
 * text: a control character anywhere in it (a line break, a tab, an escape) is an error. Messages
 * repeat at most the first {@value Text#ECHO_CHARS} characters of what was given, with control and
 * invisible characters written as {@code \}{@code uXXXX} ({@link Text}).
 *
 * <p>The built-in losses ({@link BuiltInLosses}) are registered first; a user may register their own
 * under a new name.
 */
public final class LossRegistry {

    /**
     * One registered loss.
     *
     * @param name       the spec name
     * @param summary    one line saying what it is
     * @param parameters the parameter names a spec may give
     * @param factory    builds the loss from checked parameters
     */
    public record LossDefinition(String name, String summary, List<String> parameters,
                                 Function<LossParameters, Loss> factory) {
        public LossDefinition {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(factory, "factory");
            parameters = List.copyOf(parameters);
        }
    }

    private static final Map<String, LossDefinition> DEFINITIONS = new LinkedHashMap<>();

    static {
        BuiltInLosses.definitions().forEach(LossRegistry::register);
    }

    private LossRegistry() {}

    /** Adds a loss; a name that is taken is an error. */
    public static synchronized void register(LossDefinition definition) {
        if (DEFINITIONS.containsKey(definition.name())) {
            throw new IllegalArgumentException("a loss named " + definition.name() + " is already registered");
        }
        DEFINITIONS.put(definition.name(), definition);
    }

    /** The registered names, in registration order. */
    public static synchronized List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(DEFINITIONS.keySet()));
    }

    /** The definition of a name; an unknown name is an error listing the valid ones. */
    public static synchronized LossDefinition definition(String name) {
        LossDefinition definition = DEFINITIONS.get(name);
        if (definition == null) {
            throw new IllegalArgumentException("unknown loss '" + Text.echo(name) + "'; valid losses: "
                    + String.join(", ", DEFINITIONS.keySet()));
        }
        return definition;
    }

    /**
     * Parses and checks a spec string: the loss's name and its parameters' names, not their values.
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
        LossDefinition definition = definition(name);
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

    /**
     * Builds the loss a spec names, checking every value.
     *
     * @throws IllegalArgumentException for an unknown loss, or a value that does not parse or that the
     *                                  loss refuses; the message names the parameter and the value
     */
    public static Loss create(LossSpec spec) {
        Objects.requireNonNull(spec, "spec");
        LossDefinition definition = definition(spec.name());
        return definition.factory().apply(new LossParameters(spec.name(), spec.parameters()));
    }

    /** {@link #create(LossSpec) create}{@code (}{@link #parse parse}{@code (text))}. */
    public static Loss create(String text) {
        return create(parse(text));
    }
}
