package dev.softmaxlosses.logits;

import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.internal.Checks;
import dev.softmaxlosses.kernel.KernelSupport;

import java.util.Map;

/**
 * What the steps of the survey's derivation from hinge to softmax loss share: a margin {@code m}
 * between the target logit and the others, at least two classes, and a spec of the margin (and, for
 * the last step, the scale).
 */
abstract sealed class HingeLoss extends LogitLossBase
        permits MulticlassHingeLoss, MaxHingeLoss, LseHingeLoss, SoftplusLseLoss {

    private final String name;
    final float margin;

    HingeLoss(String name, float margin, int ignoreIndex, Reduction reduction) {
        super(ignoreIndex, reduction);
        this.name = name;
        this.margin = (float) Checks.requireFinite("margin", margin);
    }

    public float margin() { return margin; }

    @Override String name() { return name; }

    @Override public int minClasses() { return 2; }

    @Override double gradientBound(RowPass p) { return 1; }

    /** The margin when it outweighs the row's spread, else the spread. */
    @Override
    String overflowCause(RowPass p, int n, int label, double loss) {
        return Math.abs(margin) >= Checks.spread(p.z, p.cols, n) ? "lower margin = " + margin
                : super.overflowCause(p, n, label, loss);
    }

    /**
     * Row n: the next row's maximum handed on in a pass of its own ({@link #handOn}), then the step's
     * own {@link #hingeRow}. {@link SoftplusLseLoss} reads that maximum inside its passes instead.
     */
    @Override
    double row(RowPass p, KernelSupport k, int n, float rowMax, int label, float[] carried) {
        handOn(p, k, n, carried);
        return hingeRow(p, k, p.z, n * p.cols, p.cols, label, rowMax);
    }

    /** The loss of the row at {@code off}, and its gradient times the reduction's scale into {@code p.grad}. */
    double hingeRow(RowPass p, KernelSupport k, float[] z, int off, int cols, int label, float rowMax) {
        throw new UnsupportedOperationException(name() + " computes its rows in row()");
    }

    /** Parameters besides the margin, in spec order; none by default. */
    void putParameters(Map<String, String> p) {}

    @Override
    void putOwnParameters(Map<String, String> p) {
        p.put("margin", Float.toString(margin));
        putParameters(p);
    }
}
