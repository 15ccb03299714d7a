package dev.softmaxlosses.lab.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.softmaxlosses.lab.BadInputException;
import dev.softmaxlosses.lab.Messages;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The runs of several reports ({@code metrics.json}) of the same experiment with different seeds,
 * summarised as mean and spread per loss: what a table of a paper shows. The reports must be of the
 * same data and held-out classes; they are grouped by network ({@code engine model}, one column group
 * each), and within a network every setting but the seed must agree. The spread is the sample standard
 * deviation over the seeds ({@code n - 1} in the denominator). The runs of one seed may be spread over
 * several reports (losses that might diverge kept apart from the others), but a loss may have each seed
 * once.
 *
 * @param dataset  the data's name
 * @param networks each network's title ({@code djl conv4}) and the seeds of its reports
 * @param losses   the loss specs, in the order of the first report that has them
 * @param cells    for each network and loss, each measure's values over the seeds
 */
public record SeedSummary(String dataset, Map<String, List<Long>> networks, List<String> losses,
                          Map<String, Map<String, Map<Measure, List<Double>>>> cells) {

    /** What the table shows of each run, as {@code metrics.json} names it. */
    public enum Measure {
        ONE_SHOT("one_shot_error", "1-shot error", true),
        TAR_1E3("tar_at_far_1e-3", "TAR@1e-3", false),
        EER("eer", "EER", true),
        TEST_ACCURACY("test_accuracy", "test acc", false);

        final String key;
        final String title;
        final boolean percent;

        Measure(String key, String title, boolean percent) {
            this.key = key;
            this.title = title;
            this.percent = percent;
        }
    }

    private static final JsonMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    /** Settings that may differ between the seeds of one network. */
    private static final List<String> PER_RUN = List.of("seed", "threads");

    /**
     * Reads the reports' {@code metrics.json}.
     *
     * @throws BadInputException naming the report when one is missing or unreadable, of other data, or
     *                           differs from another of its network in a setting other than the seed
     */
    public static SeedSummary read(List<Path> reports) {
        if (reports.isEmpty()) {
            throw new BadInputException("no report given: name the report folders (or their metrics.json) to summarise");
        }
        String dataset = null;
        JsonNode heldOut = null;
        Map<String, ObjectNode> settingsOf = new LinkedHashMap<>();
        Map<String, List<Long>> networks = new LinkedHashMap<>();
        List<String> losses = new ArrayList<>();
        Map<String, Map<String, Map<Measure, List<Double>>>> cells = new LinkedHashMap<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Path report : reports) {
            Path file = Files.isDirectory(report) ? report.resolve("metrics.json") : report;
            String shown = Messages.quote(file.toString());
            JsonNode root = parse(file, shown);
            JsonNode settings = root.get("settings");
            JsonNode runs = root.get("runs");
            if (!(root.get("dataset") instanceof JsonNode d) || !d.isTextual() || !(settings instanceof ObjectNode s)
                    || runs == null || !runs.isObject()) {
                throw new BadInputException(shown + " is not the metrics.json of a softmax-lab report (it lacks dataset,"
                        + " settings or runs)");
            }
            if (dataset == null) {
                dataset = d.asText();
                heldOut = s.get("held_out_classes");
            } else if (!dataset.equals(d.asText())) {
                throw new BadInputException(shown + " is of other data (" + Messages.quote(d.asText())
                        + ") than the first report (" + Messages.quote(dataset) + ")");
            } else if (!Objects.equals(heldOut, s.get("held_out_classes"))) {
                throw new BadInputException(shown + " holds out other classes than the first report; the numbers of"
                        + " different held-out classes do not average");
            }
            String network = s.path("engine").asText("java") + " " + s.path("model").asText("mlp");
            long seed = s.path("seed").asLong();
            ObjectNode shared = s.deepCopy();
            shared.remove(PER_RUN);
            ObjectNode first = settingsOf.putIfAbsent(network, shared);
            if (first != null && !first.equals(shared)) {
                throw new BadInputException(shown + " differs from the first " + network + " report in "
                        + difference(first, shared) + "; the reports of one network may differ only in --seed");
            }
            List<Long> seeds = networks.computeIfAbsent(network, k -> new ArrayList<>());
            if (!seeds.contains(seed)) {
                seeds.add(seed);
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = runs.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> run = it.next();
                if (!seen.add(network + "\n" + run.getKey() + "\n" + seed)) {
                    throw new BadInputException(shown + " repeats " + Messages.quote(run.getKey()) + " with seed " + seed
                            + " of an earlier " + network + " report");
                }
                if (!losses.contains(run.getKey())) {
                    losses.add(run.getKey());
                }
                Map<Measure, List<Double>> values = cells.computeIfAbsent(network, k -> new LinkedHashMap<>())
                        .computeIfAbsent(run.getKey(), k -> new LinkedHashMap<>());
                for (Measure m : Measure.values()) {
                    JsonNode v = run.getValue().get(m.key);
                    if (v != null && v.isNumber()) {
                        values.computeIfAbsent(m, k -> new ArrayList<>()).add(v.asDouble());
                    }
                }
            }
        }
        return new SeedSummary(dataset, networks, List.copyOf(losses), cells);
    }

    private static JsonNode parse(Path file, String shown) {
        try {
            if (Files.size(file) > (16 << 20)) {
                throw new BadInputException(shown + " is larger than a report's metrics.json can be");
            }
            return MAPPER.readTree(file.toFile());
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new BadInputException(shown + " does not exist (name a report folder of the lab, or its metrics.json)");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadInputException(shown + " is not valid JSON: " + Messages.oneLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new BadInputException("cannot read " + shown + ": " + Messages.oneLine(String.valueOf(e.getMessage())));
        }
    }

    private static String difference(ObjectNode a, ObjectNode b) {
        for (Iterator<String> it = a.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!Objects.equals(a.get(key), b.get(key))) {
                return key + " (" + a.get(key) + " against " + b.get(key) + ")";
            }
        }
        for (Iterator<String> it = b.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!a.has(key)) {
                return key + " (absent against " + b.get(key) + ")";
            }
        }
        return "its settings";
    }

    /** The measures some run has. */
    List<Measure> measures() {
        List<Measure> present = new ArrayList<>();
        for (Measure m : Measure.values()) {
            if (cells.values().stream().flatMap(l -> l.values().stream()).anyMatch(v -> v.containsKey(m))) {
                present.add(m);
            }
        }
        return present;
    }

    /** Mean and sample standard deviation (NaN for fewer than two values); null when there are none. */
    static double[] meanAndSpread(List<Double> values) {
        if (values == null || values.isEmpty()) {
            return null;
        }
        double mean = values.stream().mapToDouble(Double::doubleValue).sum() / values.size();
        double sq = 0;
        for (double v : values) {
            sq += (v - mean) * (v - mean);
        }
        return new double[] {mean, values.size() < 2 ? Double.NaN : Math.sqrt(sq / (values.size() - 1))};
    }

    /** {@link #meanAndSpread(List)} of measure {@code m} of {@code loss} on {@code network}; null when never measured. */
    private double[] meanAndSpread(String network, String loss, Measure m) {
        return meanAndSpread(cells.getOrDefault(network, Map.of()).getOrDefault(loss, Map.of()).get(m));
    }

    private String cell(String network, String loss, Measure m) {
        double[] ms = meanAndSpread(network, loss, m);
        if (ms == null) {
            return "-";
        }
        double scale = m.percent ? 100 : 1;
        String format = m.percent ? "%.1f" : "%.3f";
        String mean = String.format(Locale.ROOT, format, ms[0] * scale);
        return Double.isNaN(ms[1]) ? mean : mean + " ± " + String.format(Locale.ROOT, format, ms[1] * scale);
    }

    /** The table in Markdown: a row per loss, for each network a column per measure ("mean ± sd"). */
    public String markdown() {
        List<Measure> measures = measures();
        StringBuilder b = new StringBuilder("| loss |");
        StringBuilder rule = new StringBuilder("|---|");
        for (String network : networks.keySet()) {
            for (Measure m : measures) {
                b.append(' ').append(network).append(' ').append(m.title).append(m.percent ? " (%)" : "").append(" |");
                rule.append("---|");
            }
        }
        b.append('\n').append(rule).append('\n');
        for (String loss : losses) {
            b.append("| `").append(loss).append("` |");
            for (String network : networks.keySet()) {
                for (Measure m : measures) {
                    b.append(' ').append(cell(network, loss, m)).append(" |");
                }
            }
            b.append('\n');
        }
        b.append('\n').append("Mean ± sample standard deviation over the seeds (");
        List<String> seeds = new ArrayList<>();
        networks.forEach((network, s) -> seeds.add(network + ": " + s.toString().replaceAll("[\\[\\]]", "")));
        b.append(String.join("; ", seeds)).append(") on ").append(Messages.quote(dataset)).append(".\n");
        return b.toString();
    }

    /** The numbers as JSON: {@code {"dataset", "networks": {NAME: {"seeds": [...], "losses": {SPEC: {MEASURE: {"mean", "sd", "values"}}}}}}}. */
    public String json() {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("dataset", dataset);
        ObjectNode all = root.putObject("networks");
        networks.forEach((network, seeds) -> {
            ObjectNode n = all.putObject(network);
            seeds.forEach(n.putArray("seeds")::add);
            ObjectNode byLoss = n.putObject("losses");
            cells.getOrDefault(network, Map.of()).forEach((loss, values) -> {
                ObjectNode l = byLoss.putObject(loss);
                values.forEach((m, v) -> {
                    double[] ms = meanAndSpread(v);
                    ObjectNode o = l.putObject(m.key);
                    o.put("mean", ms[0]);
                    if (!Double.isNaN(ms[1])) {
                        o.put("sd", ms[1]);
                    }
                    v.forEach(o.putArray("values")::add);
                });
            });
        });
        try {
            return MAPPER.writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The figure: for each loss, the first measure the runs have (the one-shot error where measured,
     * else the EER) as bars per network, with the spread over seeds as error bars.
     */
    public void writeFigure(Path file) throws IOException {
        Measure m = measures().contains(Measure.ONE_SHOT) ? Measure.ONE_SHOT : Measure.EER;
        double scale = m.percent ? 100 : 1;
        CategoryChart chart = new CategoryChartBuilder().width(Math.max(720, 110 * losses.size())).height(480)
                .title(m.title + " on the held-out classes (mean ± sd over seeds)")
                .xAxisTitle("loss").yAxisTitle(m.title + (m.percent ? " (%)" : "")).build();
        Styler s = chart.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisLabelRotation(30);
        chart.getStyler().setErrorBarsColor(Color.DARK_GRAY);
        chart.getStyler().setErrorBarsColorSeriesColor(false);
        List<String> names = new ArrayList<>();
        for (String loss : losses) {
            names.add(loss.replace("softmax_cross_entropy", "softmax"));
        }
        int i = 0;
        for (String network : networks.keySet()) {
            List<Double> means = new ArrayList<>();
            List<Double> spreads = new ArrayList<>();
            for (String loss : losses) {
                double[] ms = meanAndSpread(network, loss, m);
                means.add(ms == null ? 0 : ms[0] * scale);
                spreads.add(ms == null || Double.isNaN(ms[1]) ? 0 : ms[1] * scale);
            }
            chart.addSeries(network, names, means, spreads).setFillColor(Charts.color(i++));
        }
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
