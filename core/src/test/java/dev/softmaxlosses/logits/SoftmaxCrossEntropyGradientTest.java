package dev.softmaxlosses.logits;

import dev.softmaxlosses.testing.LogitCases;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.check.GradientChecker;
import dev.softmaxlosses.logits.SoftmaxCrossEntropyLoss.ClassBalance;
import dev.softmaxlosses.testing.Random2;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A central-difference gradient check of every option and their combinations, as Caffe tests its layers. */
class SoftmaxCrossEntropyGradientTest {

    private static final int ROWS = 4;
    private static final int COLS = 5;

    static Stream<Arguments> options() {
        List<Arguments> all = new ArrayList<>();
        for (double t : new double[] {1, 0.6, 3}) {
            for (double eps : new double[] {0, 0.2}) {
                for (boolean weighted : new boolean[] {false, true}) {
                    for (String target : new String[] {"hard", "soft", "balanced"}) {
                        for (Reduction reduction : Reduction.values()) {
                            all.add(Arguments.of(t, eps, weighted, target, reduction));
                        }
                    }
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "T={0} eps={1} weighted={2} {3} {4}")
    @MethodSource("options")
    void analyticGradientMatchesCentralDifferences(double t, double eps, boolean weighted, String target, Reduction reduction) {
        Random random = new Random(31);
        float[] z = Random2.uniform(random, ROWS, COLS, 2);
        int[] labels = {1, -100, 4, 1};
        float[] weights = weighted ? new float[] {0.5f, 2, 1, 0.25f, 1.5f} : null;
        float[] soft = new float[ROWS * COLS];
        for (int i = 0; i < soft.length; i++) {
            soft[i] = random.nextFloat();
        }
        SoftmaxCrossEntropyLoss loss = SoftmaxCrossEntropyLoss.builder().temperature(t).labelSmoothing(eps)
                .classBalance(target.equals("balanced") ? ClassBalance.BATCH : ClassBalance.NONE)
                .reduction(reduction).build();
        GradientChecker checker = GradientChecker.builder().step(1e-2).threshold(2e-3).floor(0.05).build();
        GradientChecker.Report report = checker.check(z, (x, gradOut) -> {
            LossInput.Builder in = LossInput.builder().logits(new FloatMatrix(x, ROWS, COLS)).classWeights(weights);
            if (target.equals("soft")) {
                in.targets(new FloatMatrix(soft, ROWS, COLS));
            } else {
                in.labels(labels);
            }
            LossResult r = LogitCases.compute(loss, in.build());
            System.arraycopy(r.gradLogits(), 0, gradOut, 0, gradOut.length);
            return r.loss();
        });
        report.assertPassed(loss.spec() + " " + target + " weighted=" + weighted);
    }
}
