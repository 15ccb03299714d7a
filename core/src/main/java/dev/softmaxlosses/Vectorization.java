package dev.softmaxlosses;

import dev.softmaxlosses.kernel.KernelProvider;

/**
 * Which kernels compute the losses: the Vector API ones of {@code softmax-losses-simd}, when the
 * {@code jdk.incubator.vector} module is enabled and that artifact is present, else the scalar ones.
 * The choice is made once, at first use, and logged in one line (logger {@code dev.softmaxlosses}).
 *
 * <p>The system property {@value #PROPERTY} forces it: {@code auto} (the default), {@code scalar}, or
 * {@code simd}, which fails when SIMD cannot be had. A value that cannot be honoured makes every loss
 * throw an {@link IllegalStateException} saying why; {@link #kernels()} asks before any work.
 */
public final class Vectorization {

    /** The system property that forces a choice: {@code auto}, {@code scalar} or {@code simd}. */
    public static final String PROPERTY = KernelProvider.PROPERTY;

    private Vectorization() {}

    /**
     * The kernels in use, in words: {@code scalar}, or {@code simd (256-bit)} with the vector width.
     *
     * @throws IllegalStateException when {@value #PROPERTY} has a value that cannot be honoured; the
     *                               message names the property, the value and the valid values (or why
     *                               SIMD is not available)
     */
    public static String kernels() {
        return KernelProvider.get().description();
    }

    /** Whether the Vector API kernels are in use (as {@link #kernels()}, an invalid property throws). */
    public static boolean simd() {
        return !kernels().equals("scalar");
    }
}
