package dev.softmaxlosses.internal;

import dev.softmaxlosses.LossResult;

import java.util.function.Supplier;

/**
 * The scratch a loss keeps in a {@link LossResult} between calls, so that a caller who passes the
 * same result again and again computes without allocating. <b>Internal:</b> {@link LossResult} hands
 * its slot to this class once, when it is loaded (as the JDK's {@code SharedSecrets} do), so that the
 * loss packages reach it and the public API does not show it.
 */
public final class ResultScratch {

    /** A result's one slot of scratch. */
    public interface Slot {
        Object get(LossResult result);

        void set(LossResult result, Object scratch);
    }

    private static Slot slot;

    private ResultScratch() {}

    /**
     * Called once, by {@link LossResult}'s static initialiser.
     *
     * @throws IllegalStateException when called again
     */
    public static synchronized void install(Slot resultSlot) {
        if (slot != null) {
            throw new IllegalStateException("the result's scratch slot is installed already");
        }
        slot = resultSlot;
    }

    /**
     * The scratch of type {@code type} that {@code result} keeps, made by {@code create} and kept when
     * the result holds none of that type (a result used with another kind of loss holds another's).
     */
    public static <T> T of(LossResult result, Class<T> type, Supplier<T> create) {
        Object kept = slot.get(result);
        if (type.isInstance(kept)) {
            return type.cast(kept);
        }
        T made = create.get();
        slot.set(result, made);
        return made;
    }
}
