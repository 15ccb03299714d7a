package dev.softmaxlosses.logits;

import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the steps of the survey's derivation from hinge to softmax loss share: a margin {@code m}
 * between the target logit and the others, at least two classes, and a spec of the margin (and, for
 * the last step, the scale).
 */
abstract sealed class HingeLoss extends LabelLogitLoss
        permits MulticlassHingeLoss, MaxHingeLoss, LseHingeLoss, SoftplusLseLoss {

    final float margin;

    HingeLoss(float margin, int ignoreIndex, Reduction reduction) {
        super(ignoreIndex, reduction);
        this.margin = (float) Checks.requireFinite("margin", margin);
    }

    public float margin() { return margin; }

    @Override
    int minClasses() {
        return 2;
    }

    @Override
    double gradientBound(int cols, float[] weights) {
        return 1;
    }

    /** The margin when it outweighs the row's spread, else the spread. */
    @Override
    String overflowCause(float[] z, float[] teacher, int n, int cols, int label, float[] weights, double loss) {
        return Math.abs(margin) >= Checks.spread(z, cols, n) ? "lower margin = " + margin
                : super.overflowCause(z, teacher, n, cols, label, weights, loss);
    }

    /** Parameters besides the margin, in spec order; none by default. */
    void putParameters(Map<String, String> p) {}

    @Override
    public LossSpec spec() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("margin", Float.toString(margin));
        putParameters(p);
        p.put("ignore_index", Integer.toString(ignoreIndex));
        p.put("reduction", reduction.specName());
        return new LossSpec(name(), p);
    }
}
