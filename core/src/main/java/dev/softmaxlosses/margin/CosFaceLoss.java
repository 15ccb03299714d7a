package dev.softmaxlosses.margin;

import dev.softmaxlosses.LossRegistry.LossDefinition;
import dev.softmaxlosses.LossSpec;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CosFace (Wang et al. 2018, "CosFace: Large Margin Cosine Loss for Deep Face Recognition"): an additive margin in cosine space on normalised features and class weights.
 *
 * <pre>  f_y = s (cos_y - m),   f_j = s cos_j</pre>
 *
 * Spec {@code cosface}: {@code s} (64), {@code m} (0.35), and the common {@code label_smoothing},
 * {@code ignore_index}, {@code reduction}. AM-Softmax ({@link AmSoftmaxLoss}) is the same formula with s = 30; with {@code m = 0} it is NormFace. The lower
 * bound on {@code s} for a target probability is {@link ScaleBounds#cosFaceMinimumScale}.
 */
public final class CosFaceLoss extends MarginLoss {

    public static final String NAME = "cosface";

    public static final LossDefinition DEFINITION = new LossDefinition(NAME,
            "additive cosine margin: s (cos_y - m)", NormFaceLoss.parameters("s", "m"),
            p -> builder().scale(p.getDouble("s", 64)).margin(p.getDouble("m", 0.35))
                    .options(Options.read(p).allow(NAME)).build());

    private final double scale;
    private final double margin;

    private CosFaceLoss(Builder b) {
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

    /** Builds a {@link CosFaceLoss}. */
    public static final class Builder extends MarginLoss.Builder<Builder> {
        private double scale = 64;
        private double margin = 0.35;

        private Builder() {}

        /** The scale s of the cosines (default 64). */
        public Builder scale(double scale) { this.scale = scale; return this; }

        /** The additive cosine margin m (default 0.35). */
        public Builder margin(double margin) { this.margin = margin; return this; }

        Builder options(Options o) { NormFaceLoss.copy(o, options); return this; }

        public CosFaceLoss build() { return new CosFaceLoss(this); }
    }
}
