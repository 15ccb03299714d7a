package dev.softmaxlosses.margin;

import dev.softmaxlosses.LossRegistry.LossDefinition;
import dev.softmaxlosses.LossSpec;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AM-Softmax (Wang, Cheng, Liu and Liu 2018, "Additive Margin Softmax for Face Verification"): an additive margin in cosine space on normalised features and class weights.
 *
 * <pre>  f_y = s (cos_y - m),   f_j = s cos_j</pre>
 *
 * Spec {@code am_softmax}: {@code s} (30), {@code m} (0.35), and the common {@code label_smoothing},
 * {@code ignore_index}, {@code reduction}. CosFace ({@link CosFaceLoss}) is the same formula with s = 64; with {@code m = 0} it is NormFace. The lower
 * bound on {@code s} for a target probability is {@link ScaleBounds#cosFaceMinimumScale}.
 */
public final class AmSoftmaxLoss extends MarginLoss {

    public static final String NAME = "am_softmax";

    public static final LossDefinition DEFINITION = new LossDefinition(NAME,
            "additive cosine margin: s (cos_y - m)", NormFaceLoss.parameters("s", "m"),
            p -> builder().scale(p.getDouble("s", 30)).margin(p.getDouble("m", 0.35))
                    .options(Options.read(p).allow(NAME)).build());

    private final double scale;
    private final double margin;

    private AmSoftmaxLoss(Builder b) {
        super(b.options);
        this.scale = requireScale("s", b.scale);
        this.margin = requireFinite("m", b.margin);
    }

    public static Builder builder() {
        return new Builder();
    }

    public double margin() { return margin; }

    @Override String name() { return NAME; }
    @Override public double scale() { return scale; }
    @Override boolean scalesByFeatureNorm() { return false; }
    @Override boolean scalesByWeightNorm() { return false; }
    @Override double target(double c) { return c - margin; }
    @Override double targetSlope(double c) { return 1; }

    @Override
    public LossSpec spec() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("s", Double.toString(scale));
        p.put("m", Double.toString(margin));
        putCommon(p);
        return new LossSpec(NAME, p);
    }

    /** Builds a {@link AmSoftmaxLoss}. */
    public static final class Builder extends MarginLoss.Builder<Builder> {
        private double scale = 30;
        private double margin = 0.35;

        private Builder() {}

        /** The scale s of the cosines (default 30). */
        public Builder scale(double scale) { this.scale = scale; return this; }

        /** The additive cosine margin m (default 0.35). */
        public Builder margin(double margin) { this.margin = margin; return this; }

        Builder options(Options o) { NormFaceLoss.copy(o, options); return this; }

        public AmSoftmaxLoss build() { return new AmSoftmaxLoss(this); }
    }
}
