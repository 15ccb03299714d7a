package dev.softmaxlosses.spec;

import dev.softmaxlosses.Reduction;
import dev.softmaxlosses.logits.DistillationLoss;
import dev.softmaxlosses.logits.FocalLoss;
import dev.softmaxlosses.logits.LseHingeLoss;
import dev.softmaxlosses.logits.MaxHingeLoss;
import dev.softmaxlosses.logits.MulticlassHingeLoss;
import dev.softmaxlosses.logits.SoftmaxCrossEntropyLoss;
import dev.softmaxlosses.logits.SoftplusLseLoss;
import dev.softmaxlosses.margin.AdditiveCosineMarginLoss;
import dev.softmaxlosses.margin.AmSoftmaxLoss;
import dev.softmaxlosses.margin.AdaFaceLoss;
import dev.softmaxlosses.margin.ArcFaceLoss;
import dev.softmaxlosses.margin.CurricularFaceLoss;
import dev.softmaxlosses.margin.ElasticFaceLoss;
import dev.softmaxlosses.margin.MagFaceLoss;
import dev.softmaxlosses.margin.SubCenterArcFaceLoss;
import dev.softmaxlosses.margin.CombinedMarginLoss;
import dev.softmaxlosses.margin.CosFaceLoss;
import dev.softmaxlosses.margin.L2SoftmaxLoss;
import dev.softmaxlosses.margin.LSoftmaxLoss;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.MarginLossBuilder;
import dev.softmaxlosses.margin.NormFaceLoss;
import dev.softmaxlosses.margin.SphereFaceLoss;
import dev.softmaxlosses.spec.LossRegistry.LossDefinition;

import java.util.ArrayList;
import java.util.List;

/**
 * The table of the built-in losses: each one's spec name, summary, parameter names and factory, in
 * the order {@link LossRegistry#names()} lists them. A factory sets only the parameters a spec gives,
 * through the loss's public builder, so that each default is written once, in the builder (or, for
 * the losses built by a constructor, in their {@code create()}). It reads the parameters in the
 * order written here, which is the order in which a spec's bad values are reported; the loss's
 * constructor then checks their ranges.
 */
final class BuiltInLosses {

    /** The parameters every margin loss takes after its own, in the order they are read. */
    private static final List<String> MARGIN_COMMON = List.of("label_smoothing", "ignore_index", "reduction", "gradient");

    private BuiltInLosses() {}

    static List<LossDefinition> definitions() {
        return List.of(
                new LossDefinition(SoftmaxCrossEntropyLoss.NAME,
                        "softmax cross-entropy with temperature, label smoothing, class weights and soft targets",
                        List.of("temperature", "label_smoothing", "class_balance", "ignore_index", "reduction"),
                        p -> {
                            SoftmaxCrossEntropyLoss.Builder b = SoftmaxCrossEntropyLoss.builder();
                            p.getDouble("temperature").ifPresent(b::temperature);
                            p.getDouble("label_smoothing").ifPresent(b::labelSmoothing);
                            p.getEnum("class_balance", SoftmaxCrossEntropyLoss.ClassBalance.class).ifPresent(b::classBalance);
                            p.getInt("ignore_index").ifPresent(b::ignoreIndex);
                            p.getEnum("reduction", Reduction.class).ifPresent(b::reduction);
                            return b.build();
                        }),
                new LossDefinition(FocalLoss.NAME,
                        "focal loss: cross-entropy scaled by (1 - p_y)^gamma",
                        List.of("gamma", "alpha", "ignore_index", "reduction"),
                        p -> {
                            FocalLoss.Builder b = FocalLoss.builder();
                            p.getDouble("gamma").ifPresent(b::gamma);
                            p.getDouble("alpha").ifPresent(b::alpha);
                            p.getInt("ignore_index").ifPresent(b::ignoreIndex);
                            p.getEnum("reduction", Reduction.class).ifPresent(b::reduction);
                            return b.build();
                        }),
                new LossDefinition(DistillationLoss.NAME,
                        "knowledge distillation: alpha T^2 KL(teacher || student at temperature T) + (1 - alpha) CE",
                        List.of("temperature", "alpha", "ignore_index", "reduction"),
                        p -> {
                            DistillationLoss.Builder b = DistillationLoss.builder();
                            p.getDouble("temperature").ifPresent(b::temperature);
                            p.getDouble("alpha").ifPresent(b::alpha);
                            p.getInt("ignore_index").ifPresent(b::ignoreIndex);
                            p.getEnum("reduction", Reduction.class).ifPresent(b::reduction);
                            return b.build();
                        }),
                new LossDefinition(MulticlassHingeLoss.NAME,
                        "Weston-Watkins multi-class hinge: sum over i != y of max(0, z_i - z_y + m)",
                        List.of("margin", "ignore_index", "reduction"),
                        p -> {
                            MulticlassHingeLoss d = MulticlassHingeLoss.create();
                            return new MulticlassHingeLoss((float) p.getDouble("margin").orElse(d.margin()),
                                    p.getInt("ignore_index").orElse(d.ignoreIndex()),
                                    p.getEnum("reduction", Reduction.class).orElse(d.reduction()));
                        }),
                new LossDefinition(MaxHingeLoss.NAME,
                        "Crammer-Singer hinge: max(0, max over i != y of z_i - z_y + m)",
                        List.of("margin", "ignore_index", "reduction"),
                        p -> {
                            MaxHingeLoss d = MaxHingeLoss.create();
                            return new MaxHingeLoss((float) p.getDouble("margin").orElse(d.margin()),
                                    p.getInt("ignore_index").orElse(d.ignoreIndex()),
                                    p.getEnum("reduction", Reduction.class).orElse(d.reduction()));
                        }),
                new LossDefinition(LseHingeLoss.NAME,
                        "log-sum-exp hinge: max(0, LSE over i != y of z_i - z_y + m)",
                        List.of("margin", "ignore_index", "reduction"),
                        p -> {
                            LseHingeLoss d = LseHingeLoss.create();
                            return new LseHingeLoss((float) p.getDouble("margin").orElse(d.margin()),
                                    p.getInt("ignore_index").orElse(d.ignoreIndex()),
                                    p.getEnum("reduction", Reduction.class).orElse(d.reduction()));
                        }),
                new LossDefinition(SoftplusLseLoss.NAME,
                        "softplus(LSE over i != y of s z_i - s (z_y - m)): the softmax loss with scale and margin",
                        List.of("margin", "scale", "ignore_index", "reduction"),
                        p -> {
                            SoftplusLseLoss d = SoftplusLseLoss.create();
                            return new SoftplusLseLoss((float) p.getDouble("margin").orElse(d.margin()),
                                    (float) p.getDouble("scale").orElse(d.scale()),
                                    p.getInt("ignore_index").orElse(d.ignoreIndex()),
                                    p.getEnum("reduction", Reduction.class).orElse(d.reduction()));
                        }),
                new LossDefinition(NormFaceLoss.NAME, "normalised softmax: s cos", margin("s"),
                        p -> {
                            NormFaceLoss.Builder b = NormFaceLoss.builder();
                            p.getDouble("s").ifPresent(b::scale);
                            return common(p, b).build();
                        }),
                new LossDefinition(CosFaceLoss.NAME, "additive cosine margin: s (cos_y - m)", margin("s", "m"),
                        p -> additiveCosine(p, CosFaceLoss.builder())),
                new LossDefinition(AmSoftmaxLoss.NAME, "additive cosine margin: s (cos_y - m)", margin("s", "m"),
                        p -> additiveCosine(p, AmSoftmaxLoss.builder())),
                new LossDefinition(ArcFaceLoss.NAME, "additive angular margin: s cos(theta + m)",
                        margin("s", "m", "easy_margin"),
                        p -> {
                            ArcFaceLoss.Builder b = ArcFaceLoss.builder();
                            p.getDouble("s").ifPresent(b::scale);
                            p.getDouble("m").ifPresent(b::margin);
                            p.getBoolean("easy_margin").ifPresent(b::easyMargin);
                            return common(p, b).build();
                        }),
                new LossDefinition(CombinedMarginLoss.NAME, "combined margin: s (cos(m1 theta + m2) - m3)",
                        margin("s", "m1", "m2", "m3"),
                        p -> {
                            CombinedMarginLoss.Builder b = CombinedMarginLoss.builder();
                            p.getDouble("s").ifPresent(b::scale);
                            p.getDouble("m1").ifPresent(b::m1);
                            p.getDouble("m2").ifPresent(b::m2);
                            p.getDouble("m3").ifPresent(b::m3);
                            return common(p, b).build();
                        }),
                new LossDefinition(SphereFaceLoss.NAME,
                        "A-Softmax: ||x|| (lambda c + psi(theta)) / (1 + lambda) with normalised weights",
                        margin("m", "lambda"),
                        p -> {
                            SphereFaceLoss.Builder b = SphereFaceLoss.builder();
                            p.getInt("m").ifPresent(b::margin);
                            p.getDouble("lambda").ifPresent(b::lambda);
                            return common(p, b).build();
                        }),
                new LossDefinition(LSoftmaxLoss.NAME,
                        "L-Softmax: ||W_y|| ||x|| (lambda c + psi(theta)) / (1 + lambda)", margin("m", "lambda"),
                        p -> {
                            LSoftmaxLoss.Builder b = LSoftmaxLoss.builder();
                            p.getInt("m").ifPresent(b::margin);
                            p.getDouble("lambda").ifPresent(b::lambda);
                            return common(p, b).build();
                        }),
                new LossDefinition(L2SoftmaxLoss.NAME, "L2-constrained softmax: alpha x_hat . W_j", margin("alpha"),
                        p -> {
                            L2SoftmaxLoss.Builder b = L2SoftmaxLoss.builder();
                            p.getDouble("alpha").ifPresent(b::alpha);
                            return common(p, b).build();
                        }),
                new LossDefinition(AdaFaceLoss.NAME, "norm-adaptive margin: s (cos(theta - m q) - m - m q)",
                        margin("s", "m", "h", "t_alpha", "batch_mean", "batch_std"),
                        p -> {
                            AdaFaceLoss.Builder b = AdaFaceLoss.builder();
                            p.getDouble("s").ifPresent(b::scale);
                            p.getDouble("m").ifPresent(b::margin);
                            p.getDouble("h").ifPresent(b::h);
                            p.getDouble("t_alpha").ifPresent(b::alpha);
                            AdaFaceLoss defaults = AdaFaceLoss.builder().build();
                            b.statistics(p.getDouble("batch_mean").orElse(defaults.state().get("batch_mean")),
                                    p.getDouble("batch_std").orElse(defaults.state().get("batch_std")));
                            return common(p, b).build();
                        }),
                new LossDefinition(MagFaceLoss.NAME, "magnitude-aware angular margin: s cos(theta + m(||x||)) + lambda_g g(||x||)",
                        margin("s", "l_a", "u_a", "l_m", "u_m", "lambda_g", "easy_margin"),
                        p -> {
                            MagFaceLoss.Builder b = MagFaceLoss.builder();
                            MagFaceLoss defaults = MagFaceLoss.builder().build();
                            p.getDouble("s").ifPresent(b::scale);
                            b.norms(p.getDouble("l_a").orElse(defaults.lowerNorm()), p.getDouble("u_a").orElse(defaults.upperNorm()));
                            b.margins(p.getDouble("l_m").orElse(defaults.lowerMargin()),
                                    p.getDouble("u_m").orElse(defaults.upperMargin()));
                            p.getDouble("lambda_g").ifPresent(b::lambda);
                            p.getBoolean("easy_margin").ifPresent(b::easyMargin);
                            return common(p, b).build();
                        }),
                new LossDefinition(CurricularFaceLoss.NAME, "adaptive curriculum: ArcFace with hard negatives s cos (t + cos)",
                        margin("s", "m", "t"),
                        p -> {
                            CurricularFaceLoss.Builder b = CurricularFaceLoss.builder();
                            p.getDouble("s").ifPresent(b::scale);
                            p.getDouble("m").ifPresent(b::margin);
                            p.getDouble("t").ifPresent(b::t);
                            return common(p, b).build();
                        }),
                new LossDefinition(ElasticFaceLoss.NAME, "margins drawn from N(m, std) per sample: arc or cos",
                        margin("variant", "s", "m", "std", "seed", "step"),
                        p -> {
                            ElasticFaceLoss.Builder b = ElasticFaceLoss.builder();
                            p.getEnum("variant", ElasticFaceLoss.Variant.class).ifPresent(b::variant);
                            p.getDouble("s").ifPresent(b::scale);
                            p.getDouble("m").ifPresent(b::margin);
                            p.getDouble("std").ifPresent(b::std);
                            p.getInt("seed").ifPresent(b::seed);
                            p.getLong("step").ifPresent(b::step);
                            return common(p, b).build();
                        }),
                new LossDefinition(SubCenterArcFaceLoss.NAME, "ArcFace on each class's closest of k sub-centres",
                        margin("s", "m", "k", "easy_margin"),
                        p -> {
                            SubCenterArcFaceLoss.Builder b = SubCenterArcFaceLoss.builder();
                            p.getDouble("s").ifPresent(b::scale);
                            p.getDouble("m").ifPresent(b::margin);
                            p.getInt("k").ifPresent(b::subCentres);
                            p.getBoolean("easy_margin").ifPresent(b::easyMargin);
                            return common(p, b).build();
                        }));
    }

    /** A margin loss's parameter names: its own, then {@link #MARGIN_COMMON}. */
    private static List<String> margin(String... own) {
        List<String> all = new ArrayList<>(List.of(own));
        all.addAll(MARGIN_COMMON);
        return all;
    }

    /** Reads the parameters every margin loss shares, in the order of {@link #MARGIN_COMMON}, into {@code b}. */
    /** CosFace and AM-Softmax: {@code s} and {@code m}, then the common parameters. */
    private static <L extends AdditiveCosineMarginLoss> L additiveCosine(LossParameters p,
                                                                          AdditiveCosineMarginLoss.Builder<L> b) {
        p.getDouble("s").ifPresent(b::scale);
        p.getDouble("m").ifPresent(b::margin);
        return common(p, b).build();
    }

    private static <B extends MarginLossBuilder<B>> B common(LossParameters p, B b) {
        p.getDouble("label_smoothing").ifPresent(b::labelSmoothing);
        p.getInt("ignore_index").ifPresent(b::ignoreIndex);
        p.getEnum("reduction", Reduction.class).ifPresent(b::reduction);
        p.getEnum("gradient", MarginLoss.Gradient.class).ifPresent(b::gradient);
        return b;
    }
}
