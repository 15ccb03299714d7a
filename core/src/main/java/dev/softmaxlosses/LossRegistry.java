package dev.softmaxlosses;

import dev.softmaxlosses.text.Text;
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
import dev.softmaxlosses.margin.NormFaceLoss;
import dev.softmaxlosses.margin.SphereFaceLoss;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The losses that spec strings can name, each with its parameter names and a factory. The built-in
 * losses register themselves here; a user may register their own under a new name.
 */
public final class LossRegistry {

    /**
     * One registered loss.
     *
     * @param name       the spec name
     * @param summary    one line saying what it is
     * @param parameters the parameter names a spec may give
     * @param factory    builds the loss from checked parameters
     */
    public record LossDefinition(String name, String summary, List<String> parameters,
                                 Function<LossParameters, Loss> factory) {
        public LossDefinition {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(factory, "factory");
            parameters = List.copyOf(parameters);
        }
    }

    private static final Map<String, LossDefinition> DEFINITIONS = new LinkedHashMap<>();

    static {
        register(SoftmaxCrossEntropyLoss.DEFINITION);
        register(FocalLoss.DEFINITION);
        register(DistillationLoss.DEFINITION);
        register(MulticlassHingeLoss.DEFINITION);
        register(MaxHingeLoss.DEFINITION);
        register(LseHingeLoss.DEFINITION);
        register(SoftplusLseLoss.DEFINITION);
        register(NormFaceLoss.DEFINITION);
        register(CosFaceLoss.DEFINITION);
        register(AmSoftmaxLoss.DEFINITION);
        register(ArcFaceLoss.DEFINITION);
        register(CombinedMarginLoss.DEFINITION);
        register(SphereFaceLoss.DEFINITION);
        register(LSoftmaxLoss.DEFINITION);
        register(L2SoftmaxLoss.DEFINITION);
    }

    private LossRegistry() {}

    /** Adds a loss; a name that is taken is an error. */
    public static synchronized void register(LossDefinition definition) {
        if (DEFINITIONS.containsKey(definition.name())) {
            throw new IllegalArgumentException("a loss named " + definition.name() + " is already registered");
        }
        DEFINITIONS.put(definition.name(), definition);
    }

    /** The registered names, in registration order. */
    public static synchronized List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(DEFINITIONS.keySet()));
    }

    /** The definition of a name; an unknown name is an error listing the valid ones. */
    public static synchronized LossDefinition definition(String name) {
        LossDefinition definition = DEFINITIONS.get(name);
        if (definition == null) {
            throw new IllegalArgumentException("unknown loss '" + Text.echo(name) + "'; valid losses: "
                    + String.join(", ", DEFINITIONS.keySet()));
        }
        return definition;
    }
}
