package dev.softmaxlosses.lab;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.softmaxlosses.lab.metrics.OneShot;

import java.util.List;
import java.util.Locale;

/**
 * What {@code oneshot} prints and writes ({@code --output}): the same numbers as text lines and as JSON,
 * errors in percent. The text ends with {@code mean one-shot error: E%} (one decimal) in both forms.
 *
 * <pre>
 * --runs: {"runs": [{"run": "run01", "error": 15.0, "wrong": 3, "trials": 20}, ...], "mean_error": E}
 * --data: {"way": N, "shot": K, "seed": S,
 *          "episodes": [{"episode": 1, "group": "Latin", "error": 15.0, "wrong": 3, "trials": 20}, ...],
 *          "mean_error": E, "interval_95": H}           H: the 95% interval is E - H to E + H (null for one episode)
 * </pre>
 *
 * @param text the lines for standard output
 * @param json the JSON text
 */
record OneShotOutput(String text, String json) {

    private static final JsonMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    /**
     * One run of {@code --runs}.
     *
     * @param run    its name ({@code run01})
     * @param wrong  its test images classified wrong
     * @param trials its test images
     */
    record RunOutcome(String run, int wrong, int trials) {
        double percent() {
            return 100.0 * wrong / trials;
        }
    }

    /** The output of {@code --runs}: one line per run, then the mean of their errors. */
    static OneShotOutput ofRuns(List<RunOutcome> runs) {
        StringBuilder text = new StringBuilder();
        ObjectNode root = MAPPER.createObjectNode();
        ArrayNode list = root.putArray("runs");
        double sum = 0;
        for (RunOutcome r : runs) {
            text.append(String.format(Locale.ROOT, "%s: %.1f%% error (%d of %d wrong)%n", r.run(), r.percent(), r.wrong(),
                    r.trials()));
            list.addObject().put("run", r.run()).put("error", r.percent()).put("wrong", r.wrong()).put("trials", r.trials());
            sum += r.percent();
        }
        double mean = sum / runs.size();
        root.put("mean_error", mean);
        text.append(finalLine(mean));
        return new OneShotOutput(text.toString(), json(root));
    }

    /**
     * The output of {@code --data}: a summary line of the episodes (how many, of what, the mean error and its
     * 95% interval), then the mean error.
     *
     * @param images  how many images the episodes were drawn from
     * @param classes how many classes they belong to
     */
    static OneShotOutput ofEpisodes(OneShot.Result result, int images, int classes) {
        OneShot.Protocol p = result.protocol();
        ObjectNode root = MAPPER.createObjectNode();
        root.put("way", p.way()).put("shot", p.shot()).put("seed", p.seed());
        ArrayNode list = root.putArray("episodes");
        double sum = 0;
        int index = 0;
        for (OneShot.Episode e : result.episodes()) {
            double percent = 100.0 * e.wrong() / e.trials();
            list.addObject().put("episode", ++index).put("group", e.group()).put("error", percent).put("wrong", e.wrong())
                    .put("trials", e.trials());
            sum += percent;
        }
        double mean = sum / result.episodes().size();
        double half = 100 * result.interval95();
        root.put("mean_error", mean);
        if (Double.isNaN(half)) {
            root.putNull("interval_95");
        } else {
            root.put("interval_95", half);
        }
        String interval = Double.isNaN(half) ? "no interval from one episode"
                : String.format(Locale.ROOT, "95%% interval %.1f%% to %.1f%%", mean - half, mean + half);
        String text = String.format(Locale.ROOT, "%d episode%s of %d-way %d-shot within %d group%s (%d images of %d classes):"
                        + " mean error %.1f%%, %s%n", p.episodes(), p.episodes() == 1 ? "" : "s", p.way(), p.shot(),
                result.groups(), result.groups() == 1 ? "" : "s", images, classes, mean, interval) + finalLine(mean);
        return new OneShotOutput(text, json(root));
    }

    private static String finalLine(double percent) {
        return String.format(Locale.ROOT, "mean one-shot error: %.1f%%%n", percent);
    }

    private static String json(ObjectNode root) {
        try {
            return MAPPER.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
