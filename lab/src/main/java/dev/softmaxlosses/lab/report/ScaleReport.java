package dev.softmaxlosses.lab.report;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.knowm.xchart.BitmapEncoder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The report of {@code softmax-lab scale} (into {@link ReportFolder#path()}): {@code metrics.json} and
 * {@code loss-curve.png}.
 *
 * <p>{@code metrics.json}: {@code {"command": "scale", "loss": SPEC, "settings": {...}, "steps": [...],
 * "loss_curve": [...], "throughput": {"seconds", "steps_per_second", "samples_per_second"},
 * "memory": {"training_bytes_estimate", "held_bytes", "peak_heap_bytes", "max_heap_bytes"},
 * "final_loss", "accuracy", "accuracy_samples"}}: the loss of every step this run took, numbered as
 * the head counts them (a resumed run goes on from the checkpoint's step), and {@code accuracy} null
 * when it was not measured.
 */
public final class ScaleReport {

    private static final JsonMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    /** What one run measured. */
    public record Run(String loss, Map<String, Object> settings, long[] steps, double[] losses, double seconds,
                      double stepsPerSecond, double samplesPerSecond, long trainingBytes, long heldBytes,
                      long peakHeapBytes, long maxHeapBytes, Double accuracy, int accuracySamples) {}

    private ScaleReport() {}

    /** Writes {@code metrics.json} and {@code loss-curve.png} into {@code folder}. */
    public static void write(Path folder, Run run) throws IOException {
        double[] x = new double[run.steps().length];
        for (int i = 0; i < x.length; i++) {
            x[i] = run.steps()[i];
        }
        BitmapEncoder.saveBitmap(Charts.lossCurve("Training loss: " + Titles.of(run.loss()), x, run.losses(), 720, 420),
                folder.resolve("loss-curve.png").toString(), BitmapEncoder.BitmapFormat.PNG);
        Files.writeString(folder.resolve("metrics.json"), json(run), StandardCharsets.UTF_8);
    }

    static String json(Run run) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("command", "scale");
        root.put("loss", run.loss());
        root.set("settings", MAPPER.valueToTree(run.settings()));
        ArrayNode steps = root.putArray("steps");
        for (long s : run.steps()) {
            steps.add(s);
        }
        ArrayNode curve = root.putArray("loss_curve");
        for (double l : run.losses()) {
            curve.add(l);
        }
        ObjectNode t = root.putObject("throughput");
        t.put("seconds", run.seconds());
        t.put("steps_per_second", run.stepsPerSecond());
        t.put("samples_per_second", run.samplesPerSecond());
        ObjectNode m = root.putObject("memory");
        m.put("training_bytes_estimate", run.trainingBytes());
        m.put("held_bytes", run.heldBytes());
        m.put("peak_heap_bytes", run.peakHeapBytes());
        m.put("max_heap_bytes", run.maxHeapBytes());
        double[] l = run.losses();
        if (l.length > 0) {
            root.put("final_loss", l[l.length - 1]);
        } else {
            root.putNull("final_loss");
        }
        if (run.accuracy() == null) {
            root.putNull("accuracy");
        } else {
            root.put("accuracy", run.accuracy());
        }
        root.put("accuracy_samples", run.accuracySamples());
        try {
            return MAPPER.writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
