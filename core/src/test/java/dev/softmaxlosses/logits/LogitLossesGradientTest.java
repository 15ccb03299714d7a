package dev.softmaxlosses.logits;

import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.LogitCases;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.Loss;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.check.GradientChecker;
import dev.softmaxlosses.testing.Random2;

import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Central differences against the analytic gradients of every option; kinks of the hinges skipped. */
class LogitLossesGradientTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "focal", "focal:gamma=0", "focal:gamma=0.5", "focal:gamma=1", "focal:gamma=5,alpha=0.25",
            "focal:reduction=sum", "focal:reduction=none,gamma=3",
            "distillation", "distillation:alpha=0", "distillation:alpha=1", "distillation:temperature=1,alpha=0.5",
            "distillation:temperature=0.7,reduction=sum", "distillation:temperature=8,reduction=none",
            "multiclass_hinge", "multiclass_hinge:margin=0", "multiclass_hinge:margin=2,reduction=sum",
            "max_hinge", "max_hinge:margin=0.3", "max_hinge:reduction=none",
            "lse_hinge", "lse_hinge:margin=1", "lse_hinge:margin=-0.5,reduction=sum",
            "softplus_lse", "softplus_lse:margin=0.35,scale=4", "softplus_lse:scale=0.5,reduction=sum",
            "softplus_lse:margin=-1,reduction=none"})
    void analyticGradientMatchesCentralDifferences(String spec) {
        Random random = new Random(spec.hashCode());
        int rows = 4;
        int cols = 5;
        float[] z = Random2.uniform(random, rows, cols, 2);
        float[] teacher = Random2.uniform(random, rows, cols, 2);
        int[] labels = {3, -100, 0, 3};
        float[] classWeights = spec.startsWith("focal") ? new float[] {1, 0.5f, 2, 1.5f, 0.75f} : null;
        Loss loss = LossRegistry.create(spec);
        boolean hinge = spec.contains("hinge");
        GradientChecker checker = GradientChecker.builder().step(hinge ? 1e-3 : 1e-2).threshold(2e-3).floor(0.05)
                .skipKinks(hinge).build();
        GradientChecker.Report report = checker.check(z, (x, gradOut) -> {
            LossInput.Builder in = LossInput.builder().logits(new FloatMatrix(x, rows, cols)).labels(labels)
                    .classWeights(classWeights);
            if (spec.startsWith("distillation")) {
                in.teacherLogits(new FloatMatrix(teacher, rows, cols));
            }
            LossResult r = LogitCases.compute(loss, in.build());
            System.arraycopy(r.gradLogits(), 0, gradOut, 0, gradOut.length);
            return r.loss();
        });
        report.assertPassed(spec);
        if (report.checked() < rows * cols / 2) {
            throw new AssertionError(spec + ": only " + report.checked() + " entries were checked");
        }
    }
}
