package dev.softmaxlosses.logits;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.kernel.KernelProvider;
import dev.softmaxlosses.testing.Random2;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The losses' hot path writes into the caller's buffers and allocates nothing once warm (the least
 * of several rounds is taken, after the JIT's optimised code is in place). Measured in a fresh JVM
 * on the scalar kernels: what is tested is the loss code's own allocation. With the Vector API
 * kernels, whether C2 scalar-replaces every vector object depends on its inlining decisions, which
 * vary from run to run (0 to about 160 bytes per call were seen here for a 32 x 100 batch), and in a
 * JVM whose kernels saw many shapes C2 can give up on them altogether: a matter of the JIT, not of
 * this code.
 */
class HotPathAllocationTest {

    @ParameterizedTest
    @ValueSource(strings = {"softmax_cross_entropy", "focal", "multiclass_hinge", "softplus_lse"})
    void lossCodeAllocatesNothingOnTheHotPath(String loss) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-D" + KernelProvider.PROPERTY + "=scalar");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Probe.class.getName());
        command.add(loss);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the probe did not finish");
        }
        assertEquals(0, process.exitValue(), output);
        assertEquals("bytes per call: 0", output.lines().filter(l -> l.startsWith("bytes per call")).findFirst()
                .orElse(""), loss + ": " + output);
    }

    /** Warms one loss's hot path up, then prints the bytes the calling thread allocates per call. */
    public static final class Probe {
        public static void main(String[] args) throws IOException {
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            Random random = new Random(1);
            int rows = 32;
            int cols = 100;
            float[] z = Random2.uniform(random, rows, cols, 3);
            int[] labels = Random2.labels(random, rows, cols);
            float[] grad = new float[z.length];
            Runnable call = switch (args[0]) {
                case "softmax_cross_entropy" -> {
                    SoftmaxCrossEntropyLoss loss = SoftmaxCrossEntropyLoss.builder().labelSmoothing(0.1).build();
                    yield () -> loss.forwardBackward(z, labels, rows, cols, grad);
                }
                case "focal" -> {
                    FocalLoss loss = FocalLoss.builder().gamma(2).build();
                    yield () -> loss.forwardBackward(z, labels, rows, cols, grad);
                }
                case "multiclass_hinge" -> {
                    MulticlassHingeLoss loss = new MulticlassHingeLoss(1f, -100, Reduction.MEAN);
                    yield () -> loss.forwardBackward(z, labels, rows, cols, grad);
                }
                case "softplus_lse" -> {
                    SoftplusLseLoss loss = new SoftplusLseLoss(0.35f, 4f, -100, Reduction.MEAN);
                    yield () -> loss.forwardBackward(z, labels, rows, cols, grad);
                }
                default -> throw new IllegalArgumentException(args[0]);
            };
            // Rounds until the JIT's final code runs: the first rounds still run code compiled without
            // escape analysis (or interpreted) while the optimised version compiles in the background.
            long id = Thread.currentThread().threadId();
            long least = Long.MAX_VALUE;
            for (int round = 0; round < 12 && least > 0; round++) {
                long before = threads.getThreadAllocatedBytes(id);
                for (int i = 0; i < 5000; i++) {
                    call.run();
                }
                least = Math.min(least, (threads.getThreadAllocatedBytes(id) - before) / 5000);
            }
            System.out.println("bytes per call: " + least);
        }
    }
}
