package dev.softmaxlosses.lab.report;

import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.spec.LossRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Readable names for plot titles: "ArcFace (s=8, m=0.2)" rather than {@code arcface:s=8,m=0.2},
 * whose length would be cut off in a small panel. Tables and legends keep the exact spec strings.
 */
final class Titles {

    private static final Map<String, String> NAMES = Map.ofEntries(
            Map.entry("softmax_cross_entropy", "Softmax"), Map.entry("focal", "Focal"),
            Map.entry("normface", "NormFace"), Map.entry("cosface", "CosFace"), Map.entry("am_softmax", "AM-Softmax"),
            Map.entry("arcface", "ArcFace"), Map.entry("combined_margin", "Combined margin"),
            Map.entry("sphereface", "SphereFace"), Map.entry("lsoftmax", "L-Softmax"), Map.entry("l2_softmax", "L2-Softmax"),
            Map.entry("multiclass_hinge", "Multiclass hinge"), Map.entry("max_hinge", "Max hinge"),
            Map.entry("lse_hinge", "LSE hinge"), Map.entry("softplus_lse", "Softplus-LSE"));

    private Titles() {}

    /** The title of the loss {@code spec}: its paper's name, then its parameters as given. */
    static String of(String spec) {
        LossSpec parsed = LossRegistry.parse(spec);
        String name = NAMES.getOrDefault(parsed.name(), parsed.name());
        List<String> parameters = new ArrayList<>();
        parsed.parameters().forEach((k, v) -> parameters.add(k.equals("label_smoothing") ? "label smoothing " + v : k + "=" + v));
        return parameters.isEmpty() ? name : name + " (" + String.join(", ", parameters) + ")";
    }
}
