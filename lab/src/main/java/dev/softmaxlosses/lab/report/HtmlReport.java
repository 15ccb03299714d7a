package dev.softmaxlosses.lab.report;

import dev.softmaxlosses.lab.data.Dataset;
import dev.softmaxlosses.lab.data.OpenSet;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.metrics.AngleStatistics;
import dev.softmaxlosses.lab.metrics.RunMetrics;
import dev.softmaxlosses.lab.run.RunResult;
import dev.softmaxlosses.lab.train.TrainingSettings;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * {@code report.html}: one page, no scripts, no fonts or styles from the network; the PNGs lie beside
 * it. It says what each figure shows and what to look for, then gives every loss a section of its own.
 */
final class HtmlReport {

    private HtmlReport() {}

    /**
     * A column of the results table: its header, its value, and which way is better (+1 larger, -1
     * smaller, 0 neither: a longer feature or a longer run is not better or worse in itself).
     */
    private record Column(String header, String title, ToDoubleFunction<RunResult> value, int better, String format) {

        /** Whether the column is a number of open-set verification, which a run without held-out classes lacks. */
        boolean verification() {
            return title.contains("verification");
        }
    }

    private static final List<Column> COLUMNS = List.of(
            new Column("test accuracy", "share of the known classes' test samples classified right",
                    r -> r.metrics().testAccuracy(), 1, "%.3f"),
            new Column("TAR @ FAR 1e-2", "open-set verification on the held-out classes",
                    r -> r.metrics().verification().tarAtFar1e2(), 1, "%.3f"),
            new Column("TAR @ FAR 1e-3", "open-set verification on the held-out classes",
                    r -> r.metrics().verification().tarAtFar1e3(), 1, "%.3f"),
            new Column("EER", "equal error rate of open-set verification", r -> r.metrics().verification().eer(), -1, "%.3f"),
            new Column("AUC", "area under the ROC curve of open-set verification",
                    r -> r.metrics().verification().auc(), 1, "%.3f"),
            new Column("ECE", "expected calibration error, 15 bins", r -> r.metrics().calibration().ece(), -1, "%.3f"),
            new Column("mean |f|", "mean norm of the test features", r -> r.metrics().meanFeatureNorm(), 0, "%.2f"),
            new Column("intra-class angle", "mean angle (degrees) of a test feature to its class centre",
                    r -> r.metrics().angles().meanIntra(), -1, "%.1f&deg;"),
            new Column("min inter-class angle", "smallest angle (degrees) between two class centres",
                    r -> r.metrics().angles().minInter(), 1, "%.1f&deg;"),
            new Column("train seconds", "wall-clock training time", r -> r.model().seconds(), 0, "%.1f"));

    /** Image-folder data only, before the training time: the one-shot error on the held-out classes. */
    private static final Column ONE_SHOT = new Column("1-shot error",
            "mean error of 20-way 1-shot episodes on the held-out classes, classes drawn within a top-level folder",
            r -> r.metrics().oneShot() == null ? Double.NaN : r.metrics().oneShot().meanError(), -1, "%.3f");

    /** The columns of {@code runs}' table: the one-shot error only where it was measured. */
    private static List<Column> columns(List<RunResult> runs) {
        if (runs.stream().noneMatch(r -> r.metrics().oneShot() != null)) {
            return COLUMNS;
        }
        List<Column> all = new java.util.ArrayList<>(COLUMNS);
        all.add(all.size() - 1, ONE_SHOT);
        return all;
    }

    static String of(ReportContext context, List<RunResult> runs, Report.Files files) {
        OpenSet data = context.data();
        TrainingSettings s = context.settings();
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>softmax-lab ").append(esc(context.command())).append(": ").append(esc(data.name())).append("</title>\n")
                .append("<style>\n").append(CSS).append("</style>\n</head>\n<body>\n");
        h.append("<h1>softmax-lab ").append(esc(context.command())).append(": ")
                .append(runs.size()).append(runs.size() == 1 ? " loss" : " losses").append(" on ").append(esc(data.name())).append("</h1>\n");
        h.append("<p class=\"lead\">The same small network (").append(esc(architecture(context)))
                .append(") was trained once per loss, from the same initial weights, on the same batches in the same order.")
                .append(" It learned ").append(data.knownCount()).append(" classes (").append(esc(names(data, data.knownClasses())))
                .append("; ").append(data.train().size()).append(" training samples).");
        if (data.hasHeldOut()) {
            h.append(" The classes ").append(esc(names(data, data.heldOutClasses())))
                    .append(" were held out of training altogether: their ").append(data.heldOutTest().size())
                    .append(data.heldOutWhole() ? " samples (all of them, not only the test split)" : " test samples")
                    .append(" measure open-set verification, as face recognition is judged on people the model never saw.");
        } else {
            h.append(" No class was held out (--held-out none), so there is no open-set verification.");
        }
        h.append(" Accuracy, calibration and angles are measured on the ").append(data.knownTest().size())
                .append(" test samples of the known classes.</p>\n");
        h.append("<p class=\"settings\">").append(esc(settingsLine(context))).append("</p>\n");

        h.append("<h2 id=\"results\">Results</h2>\n");
        table(h, runs, data.hasHeldOut());
        h.append("<p class=\"note\">Best value of each column in bold.");
        if (data.hasHeldOut()) {
            h.append(" TAR: share of same-class pairs of")
                    .append(" held-out samples accepted when the cosine-similarity threshold lets through the given share (FAR)")
                    .append(" of different-class pairs. EER: the error rate where false accepts and false rejects are equally common.");
        }
        h.append(" ECE: the gap between confidence and accuracy, averaged over 15 confidence bins.")
                .append(oneShotNote(runs)).append("</p>\n");

        if (files.featureGrid() != null) {
            h.append("<h2 id=\"features\">Features of the test set</h2>\n");
            h.append("<p>Each panel is one loss: the 2-D feature of every test sample of the known classes, coloured by its class.")
                    .append(" For the margin family, each class weight's direction is drawn as a ray from the origin in its class's")
                    .append(" colour (its length means nothing). What to look for: plain softmax separates classes by angle but")
                    .append(" lets each class spread along a long wedge (the norm is free, and growing it makes the softmax more confident);")
                    .append(" the normalised losses (NormFace, CosFace, ArcFace) only see the angle, and a margin narrows each class's")
                    .append(" wedge around its weight.</p>\n");
            img(h, files.featureGrid(), "2-D test features of every loss, coloured by class");
            if (files.heldOutGrid() != null) {
                h.append("<h3>Classes never seen in training</h3>\n<p>The same networks on the held-out classes' ")
                        .append(data.heldOutWhole() ? "samples" : "test samples").append(": open-set")
                        .append(" verification works when these land in tight, distinct directions although no loss ever pulled them together.</p>\n");
                img(h, files.heldOutGrid(), "2-D test features of the held-out classes");
            }
        } else {
            h.append("<p class=\"note\">The feature plots need a 2-D embedding (--embedding 2); this run used ")
                    .append(s.embedding()).append(" dimensions, so only the numbers describe the features.</p>\n");
        }

        if (files.roc() != null) {
            h.append("<h2 id=\"verification\">Open-set verification</h2>\n");
            img(h, files.roc(), "ROC curves of open-set verification");
        }
        h.append("<h2 id=\"calibration\">Calibration</h2>\n<p>Each bar is the accuracy of the test predictions whose")
                .append(" confidence falls in its bin. Bars under the dashed diagonal are over-confident: the model's largest")
                .append(" probability is higher than how often it is right; bars above it under-confident. Label smoothing caps the target probability and usually")
                .append(" moves the points up; a margin loss predicts with the logits without margin and a fixed scale, so its")
                .append(" confidence is set by that scale.</p>\n");
        img(h, files.reliability(), "reliability diagrams of every loss");

        h.append("<h2 id=\"norms\">Feature norms and confidence during training</h2>\n<p>The softmax loss can lower itself by")
                .append(" lengthening features that are already right: the target probability climbs towards 1 and the norms grow.")
                .append(" Label smoothing stops the climb short of 1. For the margin family the target probability includes the margin")
                .append(" (what the loss sees), so it stays lower.</p>\n<div class=\"row\">");
        img(h, files.targetProbability(), "mean target probability per epoch");
        img(h, files.featureNorm(), "mean feature norm per epoch");
        h.append("</div>\n");
        h.append("<h2 id=\"training\">Training</h2>\n");
        img(h, files.testAccuracy(), "test accuracy per epoch");

        h.append("<h2 id=\"per-loss\">Each loss</h2>\n");
        for (int i = 0; i < runs.size(); i++) {
            perLoss(h, runs.get(i), data, files.perRun().get(i));
        }
        h.append("<footer><p>Made by <code>").append(esc(context.commandLine())).append("</code>. ")
                .append(credit(data.name()))
                .append(" Matrix products: ").append(esc(dev.softmaxlosses.lab.train.RowMajor.implementation()))
                .append(" in the trainer; the losses are softmax-losses' own fused kernels.</p></footer>\n");
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private static void perLoss(StringBuilder h, RunResult run, OpenSet data, Report.RunFiles f) {
        RunMetrics m = run.metrics();
        h.append("<section class=\"loss\" id=\"").append(esc(f.prefix())).append("\">\n<h3><code>").append(esc(run.spec()))
                .append("</code></h3>\n");
        if (m.hasVerification()) {
            h.append(String.format(Locale.ROOT, "<p>Test accuracy <b>%.3f</b> &middot; TAR %.3f at FAR 1e-2, %.3f at FAR 1e-3 &middot;"
                            + " EER %.3f &middot; AUC %.3f &middot; ECE %.3f (mean confidence %.3f) &middot; mean feature norm %.2f &middot;"
                            + " %d genuine and %d impostor pairs &middot; %.1f s</p>%n",
                    m.testAccuracy(), m.verification().tarAtFar1e2(), m.verification().tarAtFar1e3(), m.verification().eer(),
                    m.verification().auc(), m.calibration().ece(), m.calibration().meanConfidence(), m.meanFeatureNorm(),
                    m.verification().genuinePairs(), m.verification().impostorPairs(), run.model().seconds()));
        } else {
            h.append(String.format(Locale.ROOT, "<p>Test accuracy <b>%.3f</b> &middot; ECE %.3f (mean confidence %.3f) &middot;"
                            + " mean feature norm %.2f &middot; %.1f s</p>%n",
                    m.testAccuracy(), m.calibration().ece(), m.calibration().meanConfidence(), m.meanFeatureNorm(),
                    run.model().seconds()));
        }
        h.append("<div class=\"row\">");
        if (f.features() != null) {
            img(h, f.features(), "test features of " + run.spec());
            img(h, f.heldOut(), "held-out features of " + run.spec());
        }
        img(h, f.curves(), "training curves of " + run.spec());
        img(h, f.reliability(), "reliability diagram of " + run.spec());
        img(h, f.norms(), "feature norms of " + run.spec());
        h.append("</div>\n");
        AngleStatistics a = m.angles();
        h.append("<table class=\"angles\"><tr><th>class</th><th>mean angle to its centre</th></tr>\n");
        for (int c = 0; c < data.knownCount(); c++) {
            h.append("<tr><td>").append(esc(data.allClassNames().get(data.knownClasses()[c]))).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.1f&deg;", a.perClassIntra()[c])).append("</td></tr>\n");
        }
        h.append(String.format(Locale.ROOT, "<tr class=\"total\"><td>all</td><td>%.1f&deg;</td></tr>%n", a.meanIntra()));
        h.append(String.format(Locale.ROOT, "<tr class=\"total\"><td>between centres</td><td>mean %.1f&deg;, smallest %.1f&deg;</td></tr>%n",
                a.meanInter(), a.minInter()));
        h.append("</table>\n</section>\n");
    }

    /** What the one-shot column means, when the table has it; else nothing. */
    private static String oneShotNote(List<RunResult> runs) {
        return runs.stream().filter(r -> r.metrics().oneShot() != null).findFirst().map(r -> {
            var p = r.metrics().oneShot().protocol();
            return String.format(Locale.ROOT, " 1-shot error: in each of %d episodes, %d held-out classes of one top-level"
                    + " folder, %d support image%s and one query image of each; a query is classified by the nearest class"
                    + " prototype (mean of the normalised support features) by cosine similarity.", p.episodes(), p.way(),
                    p.shot(), p.shot() == 1 ? "" : "s");
        }).orElse("");
    }

    private static void table(StringBuilder h, List<RunResult> runs, boolean verified) {
        List<Column> columns = columns(runs).stream().filter(c -> verified || !c.verification()).toList();
        h.append("<table class=\"results\">\n<tr><th>loss</th>");
        for (Column c : columns) {
            h.append("<th title=\"").append(esc(c.title())).append("\">").append(esc(c.header())).append("</th>");
        }
        h.append("</tr>\n");
        double[] best = new double[columns.size()];
        for (int k = 0; k < columns.size(); k++) {
            Column c = columns.get(k);
            best[k] = runs.stream().mapToDouble(c.value()).filter(v -> !Double.isNaN(v))
                    .reduce(c.better() >= 0 ? Math::max : Math::min).orElse(Double.NaN);
        }
        for (RunResult r : runs) {
            h.append("<tr><td><code>").append(esc(r.spec())).append("</code></td>");
            for (int k = 0; k < columns.size(); k++) {
                Column c = columns.get(k);
                double v = c.value().applyAsDouble(r);
                String text = c == ONE_SHOT && Double.isNaN(v) ? "&ndash;" : String.format(Locale.ROOT, c.format(), v);
                boolean isBest = runs.size() > 1 && c.better() != 0 && v == best[k];
                h.append("<td>").append(isBest ? "<b>" + text + "</b>" : text).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    private static void img(StringBuilder h, String file, String alt) {
        if (file == null) {
            return;
        }
        h.append("<a href=\"").append(esc(file)).append("\"><img src=\"").append(esc(file)).append("\" alt=\"")
                .append(esc(alt)).append("\"></a>\n");
    }

    static String architecture(ReportContext context) {
        TrainingSettings s = context.settings();
        String norm = s.batchNorm() ? " + batch norm" : "";
        String activation = " + " + s.activation().name().toLowerCase(Locale.ROOT);
        StringBuilder b = new StringBuilder();
        Dataset train = context.data().train();
        if (context.backend().model() == Backend.Model.CNN) {
            b.append(train.width()).append("x").append(train.height()).append(" image → 5x5 conv 32, 32").append(norm)
                    .append(activation).append(" → 2x2 max-pool → 5x5 conv 64, 64 → max-pool → 5x5 conv 128, 128 → max-pool");
        } else if (context.backend().model() == Backend.Model.CONV4) {
            b.append(train.width()).append("x").append(train.height()).append(" image → 4 x (3x3 conv 64").append(norm)
                    .append(activation).append(" → 2x2 max-pool)");
        } else {
            b.append("input");
            for (int w : s.hidden()) {
                b.append(" → ").append(w).append(norm).append(activation);
            }
        }
        b.append(" → ").append(s.embedding()).append("-D embedding → loss");
        if (context.backend().engine() == Backend.Engine.DJL) {
            b.append("; trained with DJL on PyTorch");
        }
        return b.toString();
    }

    private static String settingsLine(ReportContext c) {
        TrainingSettings s = c.settings();
        return String.format(Locale.ROOT, "%d epochs, batch %d, SGD with momentum %s, learning rate %s (%s schedule),"
                        + " weight decay %s, seed %d%s; %d run%s at a time; %.0f s in all.",
                s.epochs(), s.batchSize(), trim(s.momentum()), trim(s.learningRate()),
                s.schedule().name().toLowerCase(Locale.ROOT), trim(s.weightDecay()), s.seed(),
                s.partialFc().on() ? "; class weights in a Partial FC head of " + s.partialFc() : "", c.threads(),
                c.threads() == 1 ? "" : "s", c.seconds());
    }

    private static String trim(double v) {
        String t = Double.toString(v);
        return t.endsWith(".0") ? t.substring(0, t.length() - 2) : t;
    }

    private static String names(OpenSet data, int[] classes) {
        return String.join(", ", Arrays.stream(classes).mapToObj(c -> data.allClassNames().get(c)).toList());
    }

    private static String credit(String dataName) {
        String n = dataName.toLowerCase(Locale.ROOT);
        if (n.contains("fashion")) {
            return "Data: Fashion-MNIST by Zalando SE (MIT licence).";
        }
        if (n.contains("mnist")) {
            return "Data: MNIST by Y. LeCun, C. Cortes and C. J. C. Burges (CC BY-SA 3.0).";
        }
        if (n.contains("omniglot") || n.contains("images_background") || n.contains("images_evaluation")) {
            return "Data: Omniglot by B. M. Lake, R. Salakhutdinov and J. B. Tenenbaum (MIT licence).";
        }
        if (n.contains("orl") || n.contains("face")) {
            return "Data: faces; the ORL database is courtesy of the Olivetti Research Laboratory.";
        }
        return "";
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static final String CSS = """
            body { font-family: -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222;
                   max-width: 1480px; margin: 24px auto; padding: 0 20px; line-height: 1.45; }
            h1 { font-size: 1.6em; margin-bottom: 0.3em; }
            h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 2em; }
            p.lead { font-size: 1.05em; max-width: 1100px; }
            p.settings, p.note, footer { color: #555; font-size: 0.92em; max-width: 1100px; }
            table { border-collapse: collapse; margin: 8px 0; font-size: 0.93em; }
            th, td { border: 1px solid #ddd; padding: 4px 9px; text-align: right; }
            th { background: #f4f4f4; }
            td:first-child, th:first-child { text-align: left; }
            table.angles { display: inline-table; vertical-align: top; }
            tr.total td { background: #fafafa; }
            img { max-width: 100%; height: auto; border: 1px solid #eee; margin: 4px 6px 4px 0; vertical-align: top; }
            .row img { max-width: 48%; }
            section.loss { margin-top: 1.6em; }
            code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.95em; }
            """;
}
