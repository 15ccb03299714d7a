package dev.softmaxlosses.lab.train;

import dev.softmaxlosses.lab.data.IdxDatasets;
import dev.softmaxlosses.lab.data.OpenSet;
import dev.softmaxlosses.lab.data.SyntheticData;
import dev.softmaxlosses.lab.data.TrainTestSplit;
import dev.softmaxlosses.spec.LossRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trainer with the Partial FC head: one shard at rate 1 trains as the plain head, any shard count as
 * one shard (to float32 rounding), sampling repeats itself for a seed and still learns.
 */
class PartialFcHeadTest {

    @TempDir
    static Path dir;

    private static OpenSet data;

    @BeforeAll
    static void data() {
        TrainTestSplit split = IdxDatasets.load(SyntheticData.writeIdxFolder(dir, 8, 40, 10, true, 3), "synthetic");
        data = OpenSet.of(split, new int[] {6, 7});
    }

    private static TrainingSettings settings(int epochs, PartialFc partialFc) {
        return new TrainingSettings(new int[] {16}, 4, Activation.PRELU, true, epochs, 16, 0.05, Schedule.COSINE, 0.9,
                5e-4, 7, Augmentation.NONE, partialFc);
    }

    private static MlpModel train(String spec, TrainingSettings s) {
        return Trainer.train(LossRegistry.create(spec), data.train(), data.knownTest(), s, (done, total) -> {});
    }

    /**
     * The epochs' losses agree to {@code rel}, and so do the trained embeddings and class weights. The
     * promise is float32 rounding (the shards merge their row states in another order, the optimisers
     * round differently); on this small problem they agree to the bit.
     */
    private static void assertSameTraining(MlpModel expected, MlpModel actual, double rel, String what) {
        for (int e = 0; e < expected.history().size(); e++) {
            double a = expected.history().get(e).trainLoss();
            double b = actual.history().get(e).trainLoss();
            assertEquals(a, b, rel * Math.abs(a), what + " epoch " + (e + 1) + " loss");
        }
        assertClose(expected.embed(data.heldOutTest()), actual.embed(data.heldOutTest()), rel, what + " embeddings");
        assertClose(expected.classWeights(), actual.classWeights(), rel, what + " class weights");
    }

    private static void assertClose(float[] expected, float[] actual, double rel, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        for (float v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], rel * scale, what + "[" + i + "]");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"arcface:s=8,m=0.2", "subcenter_arcface:s=8,m=0.2,k=2", "adaface:s=8",
            "curricularface:s=8,m=0.2"})
    void oneShardAtRateOneTrainsAsThePlainHeadAndMoreShardsAsOne(String spec) {
        MlpModel plain = train(spec, settings(3, PartialFc.OFF));
        MlpModel one = train(spec, settings(3, new PartialFc(1, 1)));
        assertTrue(one.head() instanceof PartialFcHead && plain.head() instanceof MarginHead);
        assertSameTraining(plain, one, 1e-5, spec + " plain head and one shard");
        for (int shards : new int[] {2, 3, 5}) {
            assertSameTraining(one, train(spec, settings(3, new PartialFc(shards, 1))), 1e-5, spec + " " + shards + " shards");
        }
    }

    @Test
    void samplingRepeatsItselfForASeedAndLearns() {
        TrainingSettings sampled = settings(12, new PartialFc(3, 0.4));
        MlpModel a = train("arcface:s=8,m=0.2", sampled);
        MlpModel b = train("arcface:s=8,m=0.2", sampled);
        assertEquals(a.history(), b.history(), "identical epoch statistics");
        assertArrayEquals(a.classWeights(), b.classWeights());
        MlpModel full = train("arcface:s=8,m=0.2", settings(12, new PartialFc(3, 1)));
        assertNotEquals(full.history(), a.history(), "a sample is not every class");
        EpochStats last = a.history().get(a.history().size() - 1);
        assertTrue(last.trainLoss() < a.history().get(0).trainLoss(), "the loss fell");
        assertTrue(last.testAccuracy() > 0.9, "test accuracy " + last.testAccuracy());
        List<Parameter> none = a.head().parameters();
        assertEquals(List.of(), none, "the head's weights are its own, not the network's SGD's");
    }

    @Test
    void aLossOnLogitsHasNoPartialFcHead() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Head.forLoss(
                LossRegistry.create("softmax_cross_entropy"), 4, 3, new Random(1), settings(1, new PartialFc(2, 1))));
        assertTrue(e.getMessage().contains("softmax_cross_entropy is a loss on logits"), e.getMessage());
    }
}
