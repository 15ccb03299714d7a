package dev.softmaxlosses.spec;

import static dev.softmaxlosses.testing.Assertions2.assertRejected;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.softmaxlosses.Loss;
import dev.softmaxlosses.logits.DistillationLoss;
import dev.softmaxlosses.logits.FocalLoss;
import dev.softmaxlosses.logits.LseHingeLoss;
import dev.softmaxlosses.logits.MaxHingeLoss;
import dev.softmaxlosses.logits.MulticlassHingeLoss;
import dev.softmaxlosses.logits.SoftmaxCrossEntropyLoss;
import dev.softmaxlosses.logits.SoftplusLseLoss;
import dev.softmaxlosses.margin.AmSoftmaxLoss;
import dev.softmaxlosses.margin.ArcFaceLoss;
import dev.softmaxlosses.margin.CombinedMarginLoss;
import dev.softmaxlosses.margin.CosFaceLoss;
import dev.softmaxlosses.margin.L2SoftmaxLoss;
import dev.softmaxlosses.margin.LSoftmaxLoss;
import dev.softmaxlosses.margin.AdaFaceLoss;
import dev.softmaxlosses.margin.CurricularFaceLoss;
import dev.softmaxlosses.margin.ElasticFaceLoss;
import dev.softmaxlosses.margin.MagFaceLoss;
import dev.softmaxlosses.margin.NormFaceLoss;
import dev.softmaxlosses.margin.SubCenterArcFaceLoss;
import dev.softmaxlosses.margin.SphereFaceLoss;

import java.util.List;

import org.junit.jupiter.api.Test;

class BuiltInLossesTest {

    @Test
    void aSpecWithoutParametersBuildsTheBuildersDefaults() {
        List<Loss> defaults = List.of(SoftmaxCrossEntropyLoss.create(), FocalLoss.builder().build(),
                DistillationLoss.builder().build(), MulticlassHingeLoss.create(), MaxHingeLoss.create(),
                LseHingeLoss.create(), SoftplusLseLoss.create(), NormFaceLoss.builder().build(),
                CosFaceLoss.builder().build(), AmSoftmaxLoss.builder().build(), ArcFaceLoss.builder().build(),
                CombinedMarginLoss.builder().build(), SphereFaceLoss.builder().build(), LSoftmaxLoss.builder().build(),
                L2SoftmaxLoss.builder().build(), AdaFaceLoss.builder().build(), MagFaceLoss.builder().build(),
                CurricularFaceLoss.builder().build(), ElasticFaceLoss.builder().build(), SubCenterArcFaceLoss.builder().build());
        assertEquals(defaults.stream().map(l -> l.spec().name()).toList(), LossRegistry.names());
        for (Loss loss : defaults) {
            assertEquals(loss.spec(), LossRegistry.create(loss.spec().name()).spec(), loss.spec().name());
            assertEquals(loss.spec(), LossRegistry.create(loss.spec().toString()).spec(), loss.spec().toString());
        }
    }

    @Test
    void aParameterSetAloneKeepsTheOthersDefaults() {
        CombinedMarginLoss loss = (CombinedMarginLoss) LossRegistry.create("combined_margin:m2=0.3");
        assertEquals("combined_margin:s=64.0,m1=1.0,m2=0.3,m3=0.0,label_smoothing=0.0,ignore_index=-100,"
                + "reduction=mean", loss.spec().toString());
    }

    @Test
    void valuesAreParsedInTheTablesOrderBeforeAnyRangeIsChecked() {
        assertRejected(() -> LossRegistry.create("arcface:gradient=sphereface_normalized,s=abc"),
                "parameter s of arcface must be a number, got 'abc'");
        assertRejected(() -> LossRegistry.create("cosface:reduction=avg,label_smoothing=x"),
                "parameter label_smoothing of cosface must be a number, got 'x'");
        assertRejected(() -> LossRegistry.create("cosface:s=0,gradient=straight_through"),
                "gradient=straight_through is not offered by cosface; it has only gradient=exact");
        assertRejected(() -> LossRegistry.create("sphereface:gradient=straight_through,m=0"),
                "gradient=straight_through is not offered by sphereface; it offers exact and sphereface_normalized");
        assertRejected(() -> LossRegistry.create("cosface:s=0,label_smoothing=1"), "label_smoothing");
        assertRejected(() -> LossRegistry.create("focal:reduction=avg,gamma=x"),
                "parameter gamma of focal must be a number, got 'x'");
        assertRejected(() -> LossRegistry.create("softplus_lse:ignore_index=x,scale=y"),
                "parameter scale of softplus_lse must be a number, got 'y'");
    }
}
