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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trainer learns, repeats itself exactly for a seed, and its optimiser and schedules do what they say. */
class TrainerTest {

    @TempDir
    static Path dir;

    private static OpenSet data;

    @BeforeAll
    static void data() {
        TrainTestSplit split = IdxDatasets.load(SyntheticData.writeIdxFolder(dir, 6, 40, 10, true, 3), "synthetic");
        data = OpenSet.of(split, new int[] {4, 5});
    }

    private static TrainingSettings settings(long seed, int epochs) {
        return new TrainingSettings(new int[] {16}, 2, Activation.PRELU, true, epochs, 16, 0.05, Schedule.COSINE, 0.9,
                5e-4, seed);
    }

    private static MlpModel train(String spec, TrainingSettings s) {
        return Trainer.train(LossRegistry.create(spec), data.train(), data.knownTest(), s, (done, total) -> {});
    }

    @ParameterizedTest
    @ValueSource(strings = {"softmax_cross_entropy", "arcface:s=8,m=0.2"})
    void sameSeedSameNumbersBitForBit(String spec) {
        MlpModel a = train(spec, settings(7, 3));
        MlpModel b = train(spec, settings(7, 3));
        assertEquals(a.history(), b.history(), "identical epoch statistics");
        List<Parameter> pa = a.network().parameters();
        List<Parameter> pb = b.network().parameters();
        for (int i = 0; i < pa.size(); i++) {
            assertArrayEquals(pa.get(i).value(), pb.get(i).value(), pa.get(i).name());
        }
        assertArrayEquals(a.embed(data.heldOutTest()), b.embed(data.heldOutTest()));
        MlpModel c = train(spec, settings(8, 3));
        assertFalse(a.history().equals(c.history()), "another seed, other numbers");
    }

    @Test
    void learnsASeparableProblem() {
        MlpModel m = train("softmax_cross_entropy", settings(1, 15));
        assertEquals(15, m.history().size());
        EpochStats last = m.history().get(14);
        assertTrue(last.testAccuracy() > 0.9, "test accuracy " + last.testAccuracy());
        assertTrue(last.trainLoss() < m.history().get(0).trainLoss(), "the loss fell");
        assertEquals(last.testAccuracy(), Trainer.accuracy(m, data.knownTest()), 0.0);
    }

    @Test
    void reportsDivergenceWithTheLossAndEpoch() {
        TrainingSettings wild = new TrainingSettings(new int[] {16}, 2, Activation.PRELU, false, 3, 16, 1e30,
                Schedule.STEP, 0.9, 0, 1);
        Trainer.DivergedException e = assertThrows(Trainer.DivergedException.class, () -> train("normface", wild));
        assertTrue(e.getMessage().startsWith("normface") && e.getMessage().contains("diverged in epoch"), e.getMessage());
    }

    @Test
    void sgdWithMomentumAndDecay() {
        Parameter decayed = Parameter.of("w", new float[] {1f}, true);
        Parameter plain = Parameter.of("b", new float[] {1f}, false);
        Sgd sgd = new Sgd(List.of(decayed, plain), 0.5, 0.1);
        decayed.grad()[0] = 2f;
        plain.grad()[0] = 2f;
        sgd.step(0.1);   // v = 2 + 0.1 * 1 = 2.1, w = 1 - 0.21;  v = 2, b = 1 - 0.2
        assertEquals(0.79f, decayed.value()[0], 1e-6f);
        assertEquals(0.8f, plain.value()[0], 1e-6f);
        sgd.step(0.1);   // v = 0.5 * 2.1 + 2 + 0.1 * 0.79 = 3.129, w = 0.79 - 0.3129
        assertEquals(0.4771f, decayed.value()[0], 1e-6f);
    }

    @Test
    void schedules() {
        // step: 8 epochs of 10 steps; /10 from epoch 4, /100 from epoch 6
        assertEquals(1.0, Schedule.STEP.rate(1.0, 39, 10, 8), 1e-12);
        assertEquals(0.1, Schedule.STEP.rate(1.0, 40, 10, 8), 1e-12);
        assertEquals(0.01, Schedule.STEP.rate(1.0, 60, 10, 8), 1e-12);
        // cosine: full at 0, half way at half, near 0 at the end
        assertEquals(1.0, Schedule.COSINE.rate(1.0, 0, 10, 8), 1e-12);
        assertEquals(0.5, Schedule.COSINE.rate(1.0, 40, 10, 8), 1e-12);
        assertTrue(Schedule.COSINE.rate(1.0, 79, 10, 8) < 1e-3);
    }

    @Test
    void settingsRefuseImpossibleValuesNamingTheOption() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> settings(1, 0));
        assertTrue(e.getMessage().contains("--epochs"));
        e = assertThrows(IllegalArgumentException.class, () -> new TrainingSettings(new int[] {0}, 2, Activation.RELU, true,
                1, 16, 0.1, Schedule.STEP, 0.9, 0, 1));
        assertTrue(e.getMessage().contains("--hidden"));
        e = assertThrows(IllegalArgumentException.class, () -> new TrainingSettings(new int[] {4}, 2, Activation.RELU, true,
                1, 16, 0.1, Schedule.STEP, 1.0, 0, 1));
        assertTrue(e.getMessage().contains("--momentum"));
    }
}
