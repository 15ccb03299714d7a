package dev.softmaxlosses.lab.report;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.softmaxlosses.lab.data.OpenSet;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.run.RunResult;
import dev.softmaxlosses.lab.train.Augmentation;
import dev.softmaxlosses.lab.train.TrainingSettings;

import java.util.List;
import java.util.Locale;

/**
 * {@code metrics.json}: {@code {"dataset": NAME, "settings": {...}, "runs": {"<loss spec>": {...}}}},
 * with exactly the seven numbers per run that the lab's issue names (and, for image-folder data, an eighth:
 * {@code one_shot_error}, the mean error of 20-way 1-shot episodes on the held-out classes); fractions are in [0, 1]. The
 * report's other numbers (AUC, angles) are in {@code report.html}. Without held-out classes
 * ({@code --held-out none}) the three verification numbers are left out.
 */
public final class MetricsJson {

    private static final JsonMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private MetricsJson() {}

    /** The JSON text. */
    public static String of(ReportContext context, List<RunResult> runs) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("dataset", context.data().name());
        root.set("settings", settings(context));
        ObjectNode all = root.putObject("runs");
        for (RunResult run : runs) {
            ObjectNode r = all.putObject(run.spec());
            r.put("test_accuracy", run.metrics().testAccuracy());
            if (run.metrics().hasVerification()) {
                r.put("tar_at_far_1e-2", run.metrics().verification().tarAtFar1e2());
                r.put("tar_at_far_1e-3", run.metrics().verification().tarAtFar1e3());
                r.put("eer", run.metrics().verification().eer());
            }
            r.put("ece", run.metrics().calibration().ece());
            r.put("mean_feature_norm", run.metrics().meanFeatureNorm());
            if (run.metrics().oneShot() != null) {
                // Image-folder data only: the other data sets' metrics.json stays as it was.
                r.put("one_shot_error", run.metrics().oneShot().meanError());
            }
            r.put("train_seconds", Math.round(run.model().seconds() * 100) / 100.0);
        }
        try {
            return MAPPER.writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode settings(ReportContext context) {
        OpenSet data = context.data();
        TrainingSettings s = context.settings();
        ObjectNode o = MAPPER.createObjectNode();
        ArrayNode known = o.putArray("known_classes");
        for (int c : data.knownClasses()) {
            known.add(data.allClassNames().get(c));
        }
        ArrayNode held = o.putArray("held_out_classes");
        for (int c : data.heldOutClasses()) {
            held.add(data.allClassNames().get(c));
        }
        o.put("train_samples", data.train().size());
        o.put("test_samples_known", data.knownTest().size());
        o.put("test_samples_held_out", data.heldOutTest().size());
        o.put("engine", context.backend().engine().name().toLowerCase(Locale.ROOT));
        o.put("model", context.backend().model().name().toLowerCase(Locale.ROOT));
        o.put("embedding", s.embedding());
        if (context.backend().model() == Backend.Model.MLP) {
            ArrayNode hidden = o.putArray("hidden");
            for (int h : s.hidden()) {
                hidden.add(h);
            }
        }
        o.put("activation", s.activation().name().toLowerCase(Locale.ROOT));
        o.put("batch_norm", s.batchNorm());
        o.put("epochs", s.epochs());
        o.put("batch_size", s.batchSize());
        o.put("learning_rate", s.learningRate());
        o.put("schedule", s.schedule().name().toLowerCase(Locale.ROOT));
        o.put("momentum", s.momentum());
        o.put("weight_decay", s.weightDecay());
        o.put("seed", s.seed());
        if (s.augment() != Augmentation.NONE) {
            o.put("augment", s.augment().optionName());
        }
        if (s.partialFc().on()) {
            o.putObject("partial_fc").put("shards", s.partialFc().shards()).put("sample_rate", s.partialFc().sampleRate());
        }
        o.put("threads", context.threads());
        return o;
    }
}
