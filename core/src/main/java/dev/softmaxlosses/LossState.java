package dev.softmaxlosses;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a loss keeps from one training step to the next, as named numbers: AdaFace's running norm
 * statistics ({@code batch_mean}, {@code batch_std}), CurricularFace's {@code t}, ElasticFace's
 * {@code step}. A stateless loss has the empty state. A step computes with the state its loss was
 * built with and reports the state after it ({@link LossResult#lossState()}); the next step's loss is
 * the loss {@code withState} that one, so the state is explicit, immutable and saved with the loss's
 * spec. Names keep their order.
 */
public final class LossState {

    /** The state of a loss that keeps none. */
    public static final LossState EMPTY = new LossState(new String[0], new double[0]);

    private final String[] names;
    private final double[] values;

    private LossState(String[] names, double[] values) {
        this.names = names;
        this.values = values;
    }

    /**
     * The state with these names and values, in this order.
     *
     * @throws IllegalArgumentException for a repeated name or unequal lengths
     */
    public static LossState of(String[] names, double[] values) {
        if (names.length != values.length) {
            throw new IllegalArgumentException(names.length + " names and " + values.length + " values");
        }
        for (int i = 0; i < names.length; i++) {
            Objects.requireNonNull(names[i], "name");
            for (int j = 0; j < i; j++) {
                if (names[j].equals(names[i])) {
                    throw new IllegalArgumentException("the state names " + names[i] + " twice");
                }
            }
        }
        return new LossState(names.clone(), values.clone());
    }

    /** The names, in order. */
    public String[] names() {
        return names.clone();
    }

    /** Whether the state holds {@code name}. */
    public boolean has(String name) {
        return index(name) >= 0;
    }

    /**
     * The value of {@code name}.
     *
     * @throws IllegalArgumentException when the state has no such value
     */
    public double get(String name) {
        int i = index(name);
        if (i < 0) {
            throw new IllegalArgumentException("the state has no " + name + (names.length == 0 ? "" : "; it has "
                    + String.join(", ", names)));
        }
        return values[i];
    }

    /** This state with {@code name} set to {@code value} (it must be one of its names). */
    public LossState with(String name, double value) {
        get(name);
        double[] changed = values.clone();
        changed[index(name)] = value;
        return new LossState(names, changed);
    }

    public boolean isEmpty() {
        return names.length == 0;
    }

    /** The values by name, in order. */
    public Map<String, Double> asMap() {
        Map<String, Double> map = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            map.put(names[i], values[i]);
        }
        return Collections.unmodifiableMap(map);
    }

    private int index(String name) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LossState s && Arrays.equals(names, s.names) && Arrays.equals(values, s.values);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(names) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return asMap().toString();
    }
}
