package dev.softmaxlosses.bench;

import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.StreamingMarginHead;

/**
 * Issue 5's memory claim, run as a program: the streaming ArcFace head with {@code C = 1,048,576}
 * classes, {@code D = 128}, {@code N = 256} in the heap it is given (bench/run heap uses 1.6 GB). The
 * weights and their gradient take 1 GB; the materialised logits and their gradient would need 2 GB
 * more, so the materialised path cannot run here at all. Prints the time of each pass, the loss and
 * the largest heap in use.
 *
 * <p>Arguments (all optional): {@code N D C block}.
 */
public final class StreamingHeapCheck {

    private StreamingHeapCheck() {}

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int d = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int c = args.length > 2 ? Integer.parseInt(args[2]) : 1 << 20;
        int block = args.length > 3 ? Integer.parseInt(args[3]) : StreamingMarginHead.DEFAULT_BLOCK;
        Runtime runtime = Runtime.getRuntime();
        System.out.printf("streaming arcface, N=%d D=%d C=%d block=%d, max heap %.2f GB%n",
                n, d, c, block, runtime.maxMemory() / 1e9);
        FeatureBatch input = FeatureBatch.of(new FloatMatrix(Shapes.logits(n, d, 1), n, d),
                new FloatMatrix(Shapes.logits(c, d, 2), c, d), Shapes.labels(n, c, 3));
        StreamingMarginHead head = new StreamingMarginHead((MarginLoss) LossRegistry.create("arcface"), block);
        LossResult result = LossResult.forStreaming(n, c, d);
        long peak = 0;
        for (int pass = 1; pass <= 3; pass++) {
            long start = System.nanoTime();
            head.compute(input, result);
            double seconds = (System.nanoTime() - start) / 1e9;
            peak = Math.max(peak, runtime.totalMemory() - runtime.freeMemory());
            System.out.printf("pass %d: %.2f s, %.1f GFLOP/s, loss %.6f%n", pass, seconds,
                    3.0 * 2 * n * d * c / seconds / 1e9, result.loss());
        }
        System.out.printf("largest heap in use seen: %.2f GB of %.2f GB%n", peak / 1e9, runtime.maxMemory() / 1e9);
    }
}
