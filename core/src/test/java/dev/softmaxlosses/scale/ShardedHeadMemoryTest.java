package dev.softmaxlosses.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.Random2;

import java.util.Random;

import org.junit.jupiter.api.Test;

/** The memory of the head: what it holds at small C, and the accounting that puts 10^6 x 512 in an 8 GB heap. */
class ShardedHeadMemoryTest {

    static final long GB = 1_000_000_000L;

    @Test
    void withoutSamplingItHoldsWeightsMomentumGradientAndEachShardsShare() {
        MarginLoss loss = (MarginLoss) LossRegistry.create("arcface");
        int c = 1000;
        int d = 16;
        int n = 32;
        Random random = new Random(1);
        for (int shards : new int[] {1, 3}) {
            try (ShardedHead head = ShardedHead.builder(loss, c, d).shards(shards).block(64).build()) {
                head.step(new FloatMatrix(Random2.uniform(random, n, d, 1), n, d), Random2.labels(random, n, c));
                // No gathered copy of the weights: the shards' own rows are used in place.
                assertEquals(12L * c * d + 4L * shards * n * d, head.heldBytes(), shards + " shards");
                assertTrue(head.heldBytes() <= ShardedHead.trainingBytes(c, d, n, 1, shards, 64));
            }
        }
    }

    @Test
    void withSamplingTheStepsBuffersAreAboutTheSample() {
        MarginLoss loss = (MarginLoss) LossRegistry.create("cosface");
        int c = 20_000;
        int d = 8;
        int n = 64;
        Random random = new Random(2);
        try (ShardedHead head = ShardedHead.builder(loss, c, d).shards(2).threads(2).block(256).sampling(0.1, 3).build()) {
            for (int s = 0; s < 5; s++) {
                head.step(new FloatMatrix(Random2.uniform(random, n, d, 1), n, d), Random2.labels(random, n, c));
            }
            long state = 8L * c * d;
            long held = head.heldBytes() - state;
            // Gradient and gathered rows of about r C + N classes, a quarter more at most, the marks and indices.
            assertTrue(held <= 8L * (long) Math.ceil(1.25 * (0.1 * c + n)) * d + 5L * c + 8L * 2 * n * d + 1000, "held " + held);
            assertTrue(held >= 8L * (long) (0.09 * c) * d, "held " + held);
            assertTrue(head.heldBytes() <= ShardedHead.trainingBytes(c, d, n, 0.1, 2, 256));
        }
    }

    @Test
    void aMillionClassesOfDimension512TrainInEightGigabytes() {
        long whole = ShardedHead.trainingBytes(1_000_000, 512, 256, 1, 1, 4096);
        long twoShards = ShardedHead.trainingBytes(1_000_000, 512, 256, 1, 2, 4096);
        long sampled = ShardedHead.trainingBytes(1_000_000, 512, 256, 0.1, 1, 4096);
        // 12 C D = 6.144 GB of weights, momentum and gradient, and scratch of megabytes.
        assertTrue(whole > 6.144 * GB && whole < 6.2 * GB, "r = 1: " + whole);
        assertTrue(twoShards > 6.144 * GB && twoShards < 6.3 * GB, "2 shards: " + twoShards);
        // 8 C D = 4.096 GB of state, about 0.8 r C D of the step's rows, the products kept.
        assertTrue(sampled > 4.7 * GB && sampled < 4.85 * GB, "r = 0.1: " + sampled);
        assertTrue(Math.max(whole, sampled) < 8L * (1L << 30));
    }
}
