package dev.softmaxlosses.scale;

import static dev.softmaxlosses.testing.Assertions2.assertRejected;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.Random2;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * The in-process collectives (rank order, slices, failures that reach every rank) and the SPMD head
 * on them: the bits of the driver head, and the bytes each rank sends.
 */
class CollectivesTest {

    @Test
    void gathersAndReducesInRankOrder() {
        List<String> out = InProcessCollectives.run(4, comm -> {
            int r = comm.rank();
            float[] gathered = comm.allGather(new float[r]);           // ranks send 0, 1, 2, 3 values
            int[] ids = comm.allGather(new int[] {10 * r});
            // A merge that is not commutative: the digits show the order.
            float[] order = comm.allReduce(new float[] {r}, (a, b) -> {
                a[0] = a[0] * 10 + b[0];
                return a;
            }, Collectives.Codec.FLOATS);
            float[] all = new float[8];
            Arrays.fill(all, r + 1);
            float[] slice = comm.reduceScatter(all, new int[] {1, 3, 0, 4});
            comm.barrier();
            return gathered.length + " " + Arrays.toString(ids) + " " + order[0] + " " + Arrays.toString(slice);
        });
        assertEquals("6 [0, 10, 20, 30] 123.0 [10.0]", out.get(0));
        assertEquals("6 [0, 10, 20, 30] 123.0 [10.0, 10.0, 10.0]", out.get(1));
        assertEquals("6 [0, 10, 20, 30] 123.0 []", out.get(2));
        assertEquals("6 [0, 10, 20, 30] 123.0 [10.0, 10.0, 10.0, 10.0]", out.get(3));
    }

    @RepeatedTest(20)
    void aFailingRankReachesTheOthersInsteadOfDeadlocking() {
        AtomicInteger stopped = new AtomicInteger();
        IllegalArgumentException boom = new IllegalArgumentException("rank 2 cannot go on");
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            RuntimeException thrown = assertThrows(RuntimeException.class, () -> InProcessCollectives.run(3, comm -> {
                if (comm.rank() == 2) {
                    comm.barrier();
                    throw boom;
                }
                try {
                    // The others may see the failure already as they leave the barrier, or in the gather.
                    comm.barrier();
                    return comm.allGather(new float[1]).length;
                } catch (IllegalStateException e) {
                    assertSame(boom, e.getCause());
                    assertTrue(e.getMessage().contains("the group was aborted"), e.getMessage());
                    stopped.incrementAndGet();
                    throw e;
                }
            }));
            assertSame(boom, thrown);
        });
        assertEquals(2, stopped.get());
    }

    @Test
    void checksTheSlices() {
        assertRejected(() -> InProcessCollectives.group(0), "a group needs at least 1 rank, got size = 0");
        InProcessCollectives one = InProcessCollectives.group(1).get(0);
        assertRejected(() -> one.reduceScatter(new float[3], new int[] {2}), "counts sum to 2, expected the length of local (3)");
        assertRejected(() -> one.reduceScatter(new float[3], new int[] {1, 2}), "counts has 2 entries, expected one per rank (1)");
    }

    @Test
    void spmdRanksGiveTheBitsOfTheDriverAndSendTheDocumentedBytes() {
        MarginLoss loss = (MarginLoss) LossRegistry.create("cosface:s=30");
        int c = 23;
        int d = 5;
        int n = 12;
        int k = 3;
        int[] rows = {5, 0, 7};
        Random random = new Random(12);
        float[] w = Random2.uniform(random, c, d, 1);
        float[][] xs = {Random2.uniform(random, n, d, 1), Random2.uniform(random, n, d, 1)};
        int[][] ys = {Random2.labels(random, n, c), Random2.labels(random, n, c)};
        for (double rate : new double[] {1, 0.3}) {
            ShardedHead.Builder builder = ShardedHead.builder(loss, c, d).shards(k).threads(2).block(4)
                    .products(MatrixProducts.fixedOrder()).sampling(rate, 3).weights(new FloatMatrix(w, c, d));
            float[][] driverGrad = new float[2][];
            double[] driverLoss = new double[2];
            float[] driverWeights;
            try (ShardedHead head = builder.build()) {
                for (int s = 0; s < 2; s++) {
                    ShardedHead.Step step = head.step(new FloatMatrix(xs[s], n, d), ys[s]);
                    driverGrad[s] = step.gradFeatures();
                    driverLoss[s] = step.loss();
                }
                driverWeights = head.weights();
            }
            float[] spmdWeights = new float[c * d];
            List<Long> bytes = InProcessCollectives.run(k, comm -> {
                ShardRank rank = builder.rank(comm);
                int from = 0;
                for (int r = 0; r < comm.rank(); r++) {
                    from += rows[r];
                }
                int mine = rows[comm.rank()];
                for (int s = 0; s < 2; s++) {
                    float[] x = Arrays.copyOfRange(xs[s], from * d, (from + mine) * d);
                    int[] y = Arrays.copyOfRange(ys[s], from, from + mine);
                    float[] grad = new float[mine * d];
                    double l = rank.step(new FloatMatrix(x, mine, d), y, grad);
                    assertEquals(driverLoss[s], l, "loss of step " + s);
                    assertArrayEquals(Arrays.copyOfRange(driverGrad[s], from * d, (from + mine) * d), grad,
                            "rate " + rate + " rank " + comm.rank() + " step " + s);
                }
                synchronized (spmdWeights) {
                    rank.worker().copyRows(spmdWeights, (long) rank.worker().lo() * d, false);
                }
                return comm.bytesSent();
            });
            assertArrayEquals(driverWeights, spmdWeights, "rate " + rate + " weights");
            for (int r = 0; r < k; r++) {
                // Per step: the row count, the rows' features and labels, the sample, the row state, the gradient.
                long perStep = 4 + 4L * rows[r] * d + 4L * rows[r] + (4 + 4L * (k + n)) + (4 + 32L * n) + 4L * n * d;
                assertEquals(2 * perStep, bytes.get(r), "bytes of rank " + r);
            }
        }
    }
}
