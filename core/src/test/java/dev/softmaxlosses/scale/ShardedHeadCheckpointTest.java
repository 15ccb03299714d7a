package dev.softmaxlosses.scale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.Random2;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Checkpoints that do not depend on the shard count, written whole or not at all, checked when read. */
class ShardedHeadCheckpointTest {

    static final int C = 31;
    static final int D = 6;
    static final int N = 9;
    static final String SPEC = "arcface:s=32,m=0.3,label_smoothing=0.1";

    @TempDir
    Path dir;

    private final Random random = new Random(21);
    private final MarginLoss loss = (MarginLoss) LossRegistry.create(SPEC);
    private final float[][] xs = {Random2.uniform(random, N, D, 1), Random2.uniform(random, N, D, 1), Random2.uniform(random, N, D, 1)};
    private final int[][] ys = {Random2.labels(random, N, C), Random2.labels(random, N, C), Random2.labels(random, N, C)};

    private ShardedHead trained(int shards) {
        ShardedHead head = ShardedHead.builder(loss, C, D).shards(shards).threads(shards).block(4)
                .products(MatrixProducts.fixedOrder()).sgd(0.2, 0.9, 1e-3).sampling(0.5, 77).initialWeights(5, 0.3).build();
        head.step(new FloatMatrix(xs[0], N, D), ys[0]);
        head.step(new FloatMatrix(xs[1], N, D), ys[1]);
        return head;
    }

    @ParameterizedTest
    @ValueSource(strings = {"adaface:s=32,t_alpha=0.5,batch_mean=1,batch_std=0.5", "curricularface:s=32,m=0.3,gradient=full",
            "elasticface:s=32,std=0.1", "subcenter_arcface:s=32,k=2", "magface:s=32,l_a=0.5,u_a=3"})
    void aLossWithStateOrSubCentresResumesFromAnyShardCount(String spec) throws IOException {
        MarginLoss fresh = (MarginLoss) LossRegistry.create(spec);
        Path file = dir.resolve("head.ckpt");
        try (ShardedHead saved = ShardedHead.builder(fresh, C, D).shards(3).threads(3).block(4)
                .products(MatrixProducts.fixedOrder()).sgd(0.2, 0.9, 1e-3).sampling(0.5, 77).initialWeights(5, 0.3).build()) {
            saved.step(new FloatMatrix(xs[0], N, D), ys[0]);
            saved.step(new FloatMatrix(xs[1], N, D), ys[1]);
            saved.save(file);
            assertEquals(saved.loss().spec().toString(), ShardedHead.checkpointSpec(file), "the state is saved");
            assertEquals(fresh.state().isEmpty(), saved.loss().spec().equals(fresh.spec()), "the state moved");
            float[] weights = saved.weights();
            ShardedHead.Step next = saved.step(new FloatMatrix(xs[2], N, D), ys[2]);
            for (int shards : new int[] {1, 2}) {
                // The caller's loss, fresh: the checkpoint gives it its state.
                try (ShardedHead loaded = ShardedHead.load(file, fresh, shards, shards, 4, MatrixProducts.fixedOrder())) {
                    assertArrayEquals(weights, loaded.weights(), spec + ", " + shards + " shards: weights");
                    ShardedHead.Step step = loaded.step(new FloatMatrix(xs[2], N, D), ys[2]);
                    assertEquals(next.loss(), step.loss(), 1e-5 * Math.abs(next.loss()), spec + ", " + shards + " shards: loss");
                    assertEquals(saved.loss().spec(), loaded.loss().spec(), spec + ", " + shards + " shards: the state after");
                }
            }
        }
    }

    @Test
    void savedWithThreeShardsLoadsIntoAnyCountAndTakesTheSameNextStep() throws IOException {
        Path file = dir.resolve("head.ckpt");
        try (ShardedHead saved = trained(3)) {
            saved.save(file);
            assertEquals(List.of(file), Files.list(dir).toList(), "no temporary file is left");
            float[] weights = saved.weights();
            float[] momentum = saved.momentumBuffer();
            ShardedHead.Step next = saved.step(new FloatMatrix(xs[2], N, D), ys[2]);
            float[] after = saved.weights();
            assertEquals(SPEC.replace("arcface:", "arcface:"), SPEC);
            assertEquals(loss.spec().toString(), ShardedHead.checkpointSpec(file));
            for (int shards : new int[] {1, 2, 3}) {
                try (ShardedHead loaded = ShardedHead.load(file, (MarginLoss) LossRegistry.create(ShardedHead.checkpointSpec(file)),
                        shards, 1, 4, MatrixProducts.fixedOrder())) {
                    assertArrayEquals(weights, loaded.weights(), shards + " shards: weights");
                    assertArrayEquals(momentum, loaded.momentumBuffer(), shards + " shards: momentum");
                    assertEquals(2, loaded.steps());
                    assertEquals(0.2, loaded.learningRate());
                    assertEquals(0.5, loaded.sampleRate());
                    assertEquals(77, loaded.samplingSeed());
                    ShardedHead.Step step = loaded.step(new FloatMatrix(xs[2], N, D), ys[2]);
                    if (shards == 3) {
                        assertEquals(next.loss(), step.loss(), "3 shards: the same bits");
                        assertArrayEquals(next.gradFeatures(), step.gradFeatures());
                        assertArrayEquals(after, loaded.weights());
                    } else {
                        assertEquals(next.loss(), step.loss(), 1e-5 * Math.abs(next.loss()), shards + " shards: loss");
                        float[] got = loaded.weights();
                        for (int i = 0; i < after.length; i++) {
                            assertEquals(after[i], got[i], 1e-6 + 1e-5 * Math.abs(after[i]), shards + " shards: weights[" + i + "]");
                        }
                    }
                }
            }
        }
    }

    @Test
    void neverReplacesAFileUnlessTold() throws IOException {
        Path file = dir.resolve("taken.ckpt");
        Files.writeString(file, "someone else's");
        try (ShardedHead head = trained(2)) {
            FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class, () -> head.save(file));
            assertTrue(e.getMessage().contains("save(file, true) replaces it"), e.getMessage());
            assertEquals("someone else's", Files.readString(file));
            head.save(file, true);
            assertEquals(List.of(file), Files.list(dir).toList());
            try (ShardedHead loaded = ShardedHead.load(file, loss, 1, 1)) {
                assertArrayEquals(head.weights(), loaded.weights());
            }
        }
    }

    @Test
    void refusesADamagedTruncatedOrForeignFile() throws IOException {
        Path file = dir.resolve("head.ckpt");
        try (ShardedHead head = trained(3)) {
            head.save(file);
        }
        byte[] good = Files.readAllBytes(file);
        byte[] flipped = good.clone();
        flipped[good.length - 40] ^= 1;
        Path damaged = Files.write(dir.resolve("damaged.ckpt"), flipped);
        assertMessage(() -> ShardedHead.load(damaged, loss, 2, 1), "fails its CRC-32 check");
        Path truncated = Files.write(dir.resolve("truncated.ckpt"), Arrays.copyOf(good, good.length - 4));
        assertMessage(() -> ShardedHead.load(truncated, loss, 2, 1), "truncated or damaged");
        Path foreign = Files.write(dir.resolve("foreign.ckpt"), "not a checkpoint at all".getBytes());
        assertMessage(() -> ShardedHead.load(foreign, loss, 2, 1), "is not a sharded-head checkpoint");
        MarginLoss other = (MarginLoss) LossRegistry.create("cosface");
        assertMessage(() -> ShardedHead.load(file, other, 2, 1), "was saved with the loss '" + loss.spec() + "', not 'cosface:");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String fragment) {
        IOException e = assertThrows(IOException.class, call);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
