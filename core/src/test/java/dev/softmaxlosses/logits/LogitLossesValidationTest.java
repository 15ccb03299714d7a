package dev.softmaxlosses.logits;

import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.LogitCases;

import static dev.softmaxlosses.testing.Assertions2.assertRejected;

import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.Reduction;

import org.junit.jupiter.api.Test;

/** The validation rules of the logit losses beyond the softmax loss, with their messages. */
class LogitLossesValidationTest {

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    private static void compute(String spec, LossInput input) {
        LogitCases.compute(LossRegistry.create(spec), input);
    }

    @Test
    void rejectsBadParameters() {
        assertRejected(() -> LossRegistry.create("focal:gamma=-1"), "gamma must be a finite number >= 0, got -1.0");
        assertRejected(() -> LossRegistry.create("focal:alpha=0"), "alpha must be a finite number > 0, got 0.0");
        assertRejected(() -> LossRegistry.create("distillation:alpha=1.5"), "alpha must be in [0, 1], got 1.5");
        assertRejected(() -> LossRegistry.create("distillation:temperature=0"), "temperature must be a finite number > 0");
        assertRejected(() -> LossRegistry.create("softplus_lse:scale=0"), "scale must be a finite number > 0, got 0.0");
        assertRejected(() -> LossRegistry.create("max_hinge:margin=NaN"),
                "parameter margin of max_hinge must be a finite number within the float32 range [-3.4028235E38, 3.4028235E38], got 'NaN'");
        assertRejected(() -> new MaxHingeLoss(Float.NaN, -100, Reduction.MEAN), "margin must be a finite number, got NaN");
        assertRejected(() -> LossRegistry.parse("multiclass_hinge:scale=2"), "unknown parameter 'scale' for multiclass_hinge; "
                + "valid parameters: margin, ignore_index, reduction");
    }

    @Test
    void hingeLossesNeedTwoClasses() {
        for (String spec : new String[] {"multiclass_hinge", "max_hinge", "lse_hinge", "softplus_lse"}) {
            assertRejected(() -> compute(spec, LossInput.builder().logits(new float[][] {{1}}).labels(0).build()),
                    spec + " needs at least 2 classes, got 1");
        }
    }

    @Test
    void hingeLossesAndDistillationTakeNoClassWeights() {
        assertRejected(() -> compute("max_hinge", LossInput.builder().logits(new float[][] {{1, 2}}).labels(0)
                .classWeights(1, 1).build()), "max_hinge does not take class_weights");
        assertRejected(() -> compute("distillation", LossInput.builder().logits(new float[][] {{1, 2}}).labels(0)
                .teacherLogits(new float[][] {{1, 2}}).classWeights(1, 1).build()), "distillation does not take class_weights");
    }

    @Test
    void focalRejectsLabelsOutOfRangeAndMaskedTargets() {
        assertRejected(() -> compute("focal", LossInput.builder().logits(new float[][] {{1, 2}}).labels(2).build()),
                "labels[0] = 2 is out of range");
        assertRejected(() -> compute("focal", LossInput.builder().logits(new float[][] {{1, NEG_INF}}).labels(1).build()),
                "logits[0][1] is -Infinity (masked), but it is the target class of sample 0");
        assertRejected(() -> compute("focal", LossInput.builder().logits(new float[][] {{1, Float.NaN}}).labels(0).build()),
                "logits[0][1] is NaN");
        assertRejected(() -> compute("focal", LossInput.builder().logits(new float[][] {{1, 2}}).labels(0)
                .classWeights(1).build()), "class_weights has 1 entries, expected 2");
        assertRejected(() -> compute("focal", LossInput.builder().logits(new float[][] {{1, 2}}).build()), "focal needs labels");
        assertRejected(() -> compute("focal", LossInput.builder().logits(new float[][] {{1, 2}}).labels(0)
                .targets(new float[][] {{1, 0}}).build()), "focal does not take targets");
    }

    @Test
    void distillationNeedsATeacherOfTheSameShape() {
        assertRejected(() -> compute("distillation", LossInput.builder().logits(new float[][] {{1, 2}}).labels(0).build()),
                "distillation needs teacher_logits");
        assertRejected(() -> compute("distillation", LossInput.builder().logits(new float[][] {{1, 2}}).labels(0)
                .teacherLogits(new float[][] {{1, 2, 3}}).build()), "teacher_logits has shape 1x3, expected 1x2");
        assertRejected(() -> compute("distillation", LossInput.builder().logits(new float[][] {{1, 2}}).labels(0)
                .teacherLogits(new float[][] {{1, Float.POSITIVE_INFINITY}}).build()), "teacher_logits[0][1] is Infinity");
    }

    @Test
    void distillationNeedsLabelsOnlyWhenTheHardTermCounts() {
        assertRejected(() -> compute("distillation", LossInput.builder().logits(new float[][] {{1, 2}})
                .teacherLogits(new float[][] {{1, 2}}).build()), "distillation needs labels");
        compute("distillation:alpha=1", LossInput.builder().logits(new float[][] {{1, 2}}).teacherLogits(new float[][] {{1, 2}}).build());
    }

    @Test
    void distillationRejectsAStudentMaskWhereTheTeacherHasMass() {
        assertRejected(() -> compute("distillation", LossInput.builder().logits(new float[][] {{1, NEG_INF}}).labels(0)
                .teacherLogits(new float[][] {{1, 2}}).build()),
                "logits[0][1] is -Infinity (masked), but teacher_logits[0][1] = 2.0 gives it probability");
        assertRejected(() -> compute("distillation", LossInput.builder().logits(new float[][] {{1, 2}}).labels(0)
                .teacherLogits(new float[][] {{NEG_INF, NEG_INF}}).build()), "teacher_logits[0] has every class masked");
        compute("distillation", LossInput.builder().logits(new float[][] {{1, NEG_INF}}).labels(0)
                .teacherLogits(new float[][] {{1, NEG_INF}}).build());
    }
}
