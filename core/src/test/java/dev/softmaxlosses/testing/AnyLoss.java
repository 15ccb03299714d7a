package dev.softmaxlosses.testing;

import dev.softmaxlosses.FeatureLoss;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.Loss;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;

/** Computes a loss made from a spec string, whichever capability it has: for tests that run every spec. */
public final class AnyLoss {

    private AnyLoss() {}

    public static LossResult compute(Loss loss, LossInput input) {
        return loss instanceof LogitLoss logits ? logits.compute(input) : ((FeatureLoss) loss).compute(input);
    }

    public static void compute(Loss loss, LossInput input, LossResult out) {
        if (loss instanceof LogitLoss logits) {
            logits.compute(input, out);
        } else {
            ((FeatureLoss) loss).compute(input, out);
        }
    }
}
