package dev.softmaxlosses.kernel;

import dev.softmaxlosses.text.Text;

import java.lang.System.Logger.Level;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Picks the kernels once, at first use: the Vector API twin when the {@code jdk.incubator.vector}
 * module is readable and {@code softmax-losses-simd} is present (on the class path, or on the module
 * path as the module {@code dev.softmaxlosses.simd}, which provides them as a service), the scalar one otherwise,
 * logging one line that says which and how to enable SIMD (as Lucene's VectorizationProvider does).
 *
 * <p>The system property {@value #PROPERTY} chooses: {@code auto} (default), {@code scalar}, or
 * {@code simd}, which fails when SIMD cannot be had. A value the provider cannot honour (another
 * word, or {@code simd} without the Vector API) makes every call of {@link #get()} throw an
 * {@link IllegalStateException} with a one-line message saying why, so that a command-line tool
 * can print it; the class itself stays usable.
 */
public final class KernelProvider {

    /** The system property that forces a choice. */
    public static final String PROPERTY = "softmaxlosses.vectorization";

    static final String PANAMA_CLASS = "dev.softmaxlosses.simd.PanamaKernels";
    private static final String ENABLE_HINT =
            "run with --add-modules jdk.incubator.vector and softmax-losses-simd on the class path";

    private KernelProvider() {}

    /**
     * The choice, made once. An initializer that threw would leave the class unusable, with an
     * {@code ExceptionInInitializerError} at first use and a {@code NoClassDefFoundError} after: the
     * reason is kept instead, and {@link #get()} throws it afresh.
     */
    private static final class Holder {
        static final KernelSupport INSTANCE;
        static final String PROBLEM;

        static {
            KernelSupport chosen = null;
            String problem = null;
            try {
                chosen = choose(System.getProperty(PROPERTY, "auto"));
            } catch (IllegalStateException e) {
                problem = e.getMessage();
            }
            INSTANCE = chosen;
            PROBLEM = problem;
        }
    }

    /**
     * The kernels in use.
     *
     * @throws IllegalStateException every time it is called, when {@value #PROPERTY} has a value that
     *                               cannot be honoured; the message names the property, the value and
     *                               the valid values (or why SIMD is not available)
     */
    public static KernelSupport get() {
        KernelSupport kernels = Holder.INSTANCE;
        if (kernels == null) {
            throw new IllegalStateException(Holder.PROBLEM);
        }
        return kernels;
    }

    /** The kernels the property's {@code value} asks for; an IllegalStateException if there are none. */
    private static KernelSupport choose(String value) {
        System.Logger log = System.getLogger("dev.softmaxlosses");
        String mode = value.strip().toLowerCase(Locale.ROOT);
        switch (mode) {
            case "scalar" -> {
                log.log(Level.INFO, "softmax-losses: scalar kernels (forced by -D" + PROPERTY + "=scalar)");
                return ScalarKernels.INSTANCE;
            }
            case "auto", "simd" -> {
                try {
                    KernelSupport simd = loadPanama();
                    log.log(Level.INFO, "softmax-losses: " + simd.description() + " kernels (Vector API)");
                    return simd;
                } catch (UnsupportedOperationException e) {
                    if (mode.equals("simd")) {
                        throw new IllegalStateException("-D" + PROPERTY + "=simd, but " + Text.echoLine(e.getMessage()), e);
                    }
                    log.log(Level.INFO, "softmax-losses: scalar kernels; " + e.getMessage());
                    return ScalarKernels.INSTANCE;
                }
            }
            default -> throw new IllegalStateException(
                    "-D" + PROPERTY + "=" + Text.echo(value) + " is not one of auto, scalar, simd");
        }
    }

    /**
     * The SIMD kernels: on the module path, the service that {@code dev.softmaxlosses.simd} provides
     * (its presence there is what resolves it); on the class path, the class by its name.
     */
    private static KernelSupport loadPanama() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            throw new UnsupportedOperationException("the Vector API is not enabled: " + ENABLE_HINT);
        }
        if (KernelProvider.class.getModule().isNamed()) {
            try {
                for (KernelSupport kernels : ServiceLoader.load(KernelSupport.class, KernelProvider.class.getClassLoader())) {
                    return kernels;
                }
            } catch (ServiceConfigurationError e) {
                throw started(e.getCause() == null ? e : e.getCause());
            }
            throw new UnsupportedOperationException("the module dev.softmaxlosses.simd is not on the module path");
        }
        Class<?> type;
        try {
            type = Class.forName(PANAMA_CLASS);
        } catch (ClassNotFoundException e) {
            throw new UnsupportedOperationException("softmax-losses-simd is not on the class path: " + ENABLE_HINT);
        }
        try {
            return (KernelSupport) type.getMethod("create").invoke(null);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw started(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new UnsupportedOperationException("the SIMD kernels failed to load: " + e, e);
        }
    }

    /** Why the SIMD kernels did not start: their own UnsupportedOperationException, or what failed. */
    private static UnsupportedOperationException started(Throwable cause) {
        if (cause instanceof UnsupportedOperationException unsupported) {
            return unsupported;
        }
        return new UnsupportedOperationException("the SIMD kernels failed to start: " + cause, cause);
    }
}
