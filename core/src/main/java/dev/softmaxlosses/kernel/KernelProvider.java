package dev.softmaxlosses.kernel;

import java.lang.System.Logger.Level;
import java.util.Locale;

/**
 * Picks the kernels once, at first use: the Vector API twin when the {@code jdk.incubator.vector}
 * module is readable and {@code softmax-losses-simd} is on the class path, the scalar one otherwise,
 * logging one line that says which and how to enable SIMD (as Lucene's VectorizationProvider does).
 *
 * <p>The system property {@value #PROPERTY} chooses: {@code auto} (default), {@code scalar}, or
 * {@code simd}, which fails at first use, with the reason, when SIMD cannot be had.
 */
public final class KernelProvider {

    /** The system property that forces a choice. */
    public static final String PROPERTY = "softmaxlosses.vectorization";

    static final String PANAMA_CLASS = "dev.softmaxlosses.simd.PanamaKernels";
    private static final String ENABLE_HINT =
            "run with --add-modules jdk.incubator.vector and softmax-losses-simd on the class path";

    private KernelProvider() {}

    private static final class Holder {
        static final KernelSupport INSTANCE = choose();
    }

    /** The kernels in use. */
    public static KernelSupport get() {
        return Holder.INSTANCE;
    }

    private static KernelSupport choose() {
        System.Logger log = System.getLogger("dev.softmaxlosses");
        String mode = System.getProperty(PROPERTY, "auto").strip().toLowerCase(Locale.ROOT);
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
                        throw new IllegalStateException("-D" + PROPERTY + "=simd, but " + e.getMessage(), e);
                    }
                    log.log(Level.INFO, "softmax-losses: scalar kernels; " + e.getMessage());
                    return ScalarKernels.INSTANCE;
                }
            }
            default -> throw new IllegalStateException(
                    "-D" + PROPERTY + "=" + mode + " is not one of auto, scalar, simd");
        }
    }

    private static KernelSupport loadPanama() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            throw new UnsupportedOperationException("the Vector API is not enabled: " + ENABLE_HINT);
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
            Throwable cause = e.getCause();
            if (cause instanceof UnsupportedOperationException unsupported) {
                throw unsupported;
            }
            throw new UnsupportedOperationException("the SIMD kernels failed to start: " + cause, cause);
        } catch (ReflectiveOperationException e) {
            throw new UnsupportedOperationException("the SIMD kernels failed to load: " + e, e);
        }
    }
}
