package dev.softmaxlosses.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** The provider's property, read once per JVM: each case runs in a JVM of its own. */
class KernelProviderTest {

    @Test
    void anInvalidPropertyIsAnIllegalStateExceptionFromEveryCall() throws Exception {
        assertEquals(List.of(
                        "IllegalStateException: -Dsoftmaxlosses.vectorization=bogus is not one of auto, scalar, simd",
                        "IllegalStateException: -Dsoftmaxlosses.vectorization=bogus is not one of auto, scalar, simd"),
                probe("bogus"));
    }

    @Test
    void anInvalidPropertyIsEchoedOnOneLineAndShortened() throws Exception {
        String value = "x\u001b[31m" + "y".repeat(200);
        assertEquals("IllegalStateException: -Dsoftmaxlosses.vectorization=x\\u001b[31m" + "y".repeat(54)
                        + "... (206 characters) is not one of auto, scalar, simd",
                probe(value).get(0));
    }

    @Test
    void scalarIsHonoured() throws Exception {
        assertEquals(List.of("scalar", "scalar"), probe("scalar"));
    }

    /** What two calls of {@link KernelProvider#get()} give in a JVM with the property set to {@code value}. */
    private static List<String> probe(String value) throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-D" + KernelProvider.PROPERTY + "=" + value, "-cp", System.getProperty("java.class.path"),
                Probe.class.getName());
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the probe did not finish");
        }
        assertEquals(0, process.exitValue(), output);
        return output.lines().toList();
    }

    /** Calls {@link KernelProvider#get()} twice and prints what each gave, one line each. */
    public static final class Probe {
        public static void main(String[] args) {
            for (int i = 0; i < 2; i++) {
                try {
                    System.out.println(KernelProvider.get().description());
                } catch (RuntimeException | Error e) {
                    System.out.println(e.getClass().getSimpleName() + ": " + e.getMessage());
                }
            }
        }
    }
}
