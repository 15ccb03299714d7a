package dev.softmaxlosses;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * A loss named by a spec string: {@code name} or {@code name:key=value,key=value}, for example
 * {@code arcface:s=32,m=0.4} or {@code softmax_cross_entropy:label_smoothing=0.1,reduction=sum}. A
 * plain value: {@code dev.softmaxlosses.spec.LossRegistry} parses a spec string into one
 * ({@code LossRegistry.parse}) and builds the loss it names ({@code LossRegistry.create}); every
 * loss gives its own ({@link Loss#spec()}), which the registry reads back.
 *
 * @param name       the loss's snake_case name, as in {@code LOSSES.md}
 * @param parameters the parameters in the order given, as written
 */
public record LossSpec(String name, Map<String, String> parameters) {

    public LossSpec {
        Objects.requireNonNull(name, "name");
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(parameters, "parameters")));
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
