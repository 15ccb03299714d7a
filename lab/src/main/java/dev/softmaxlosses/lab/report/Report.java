package dev.softmaxlosses.lab.report;

import dev.softmaxlosses.lab.data.OpenSet;
import dev.softmaxlosses.lab.run.RunResult;
import dev.softmaxlosses.lab.train.EpochStats;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Writes a whole report into a folder: {@code report.html}, the PNGs it shows, and {@code metrics.json}.
 * The caller gives a fresh folder ({@link ReportFolder#path()}) and moves it into place afterwards.
 */
public final class Report {

    /** The PNGs of one run (null where a plot does not apply). */
    record RunFiles(String prefix, String features, String heldOut, String curves, String reliability, String norms) {}

    /** Every file the page links to. */
    record Files(String featureGrid, String heldOutGrid, String roc, String reliability, String targetProbability,
                 String featureNorm, String testAccuracy, List<RunFiles> perRun) {}

    static final int WIDE = 900;
    static final int TALL = 480;
    static final int CELL = 380;

    private Report() {}

    /** Writes the report of {@code runs} into {@code folder}. */
    public static void write(Path folder, ReportContext context, List<RunResult> runs) throws IOException {
        OpenSet data = context.data();
        boolean planar = context.settings().embedding() == 2;
        boolean verified = data.hasHeldOut();
        List<RunFiles> perRun = new ArrayList<>();
        List<XYChart> knownPanels = new ArrayList<>();
        List<XYChart> heldOutPanels = new ArrayList<>();
        List<XYChart> reliabilityPanels = new ArrayList<>();
        int columns = Math.min(4, runs.size());
        for (int i = 0; i < runs.size(); i++) {
            RunResult run = runs.get(i);
            String prefix = String.format(Locale.ROOT, "%02d-%s", i + 1, run.lossName());
            String features = null;
            String heldOut = null;
            if (planar) {
                String title = Titles.of(run.spec());
                features = save(folder, prefix + "-features.png", knownFeatures(run, data, title, true, 640, 520));
                knownPanels.add(knownFeatures(run, data, title, false, CELL, CELL));
                if (verified) {
                    heldOut = save(folder, prefix + "-held-out.png", heldOutFeatures(run, data, title + ": held-out classes", true, 640, 520));
                    heldOutPanels.add(heldOutFeatures(run, data, title, false, CELL, CELL));
                }
            }
            String curves = save(folder, prefix + "-curves.png", Charts.curves(run, 560, 400));
            String reliability = save(folder, prefix + "-reliability.png",
                    Charts.reliability(run, Titles.of(run.spec()), 460, 400));
            reliabilityPanels.add(Charts.reliability(run, Titles.of(run.spec()), CELL, CELL - 40));
            String norms = save(folder, prefix + "-norms.png", Charts.normHistogram(run, 460, 400));
            perRun.add(new RunFiles(prefix, features, heldOut, curves, reliability, norms));
        }
        String featureGrid = null;
        String heldOutGrid = null;
        if (planar) {
            featureGrid = saveImage(folder, "features.png", ChartGrid.draw(knownPanels, columns, CELL, CELL,
                    legend(data, data.knownClasses(), "")));
            if (verified) {
                heldOutGrid = saveImage(folder, "held-out-features.png", ChartGrid.draw(heldOutPanels, columns, CELL, CELL,
                        legend(data, data.heldOutClasses(), " (held out)")));
            }
        }
        String roc = verified ? save(folder, "roc.png", Charts.roc(runs, WIDE, TALL)) : null;
        String reliability = saveImage(folder, "reliability.png",
                ChartGrid.draw(reliabilityPanels, columns, CELL, CELL - 40, List.of()));
        String target = save(folder, "target-probability.png", Charts.overEpochs(runs,
                "Mean target probability during training", "probability of the true class", EpochStats::meanTargetProbability,
                true, 720, 420));
        String norm = save(folder, "feature-norm.png", Charts.overEpochs(runs, "Mean feature norm during training",
                "mean norm of the training features", EpochStats::meanFeatureNorm, false, 720, 420));
        String accuracy = save(folder, "test-accuracy.png", Charts.overEpochs(runs, "Test accuracy after each epoch",
                "accuracy on the known classes' test set", EpochStats::testAccuracy, true, WIDE, TALL));
        Files files = new Files(featureGrid, heldOutGrid, roc, reliability, target, norm, accuracy, List.copyOf(perRun));
        java.nio.file.Files.writeString(folder.resolve("report.html"), HtmlReport.of(context, runs, files), StandardCharsets.UTF_8);
        java.nio.file.Files.writeString(folder.resolve("metrics.json"), MetricsJson.of(context, runs), StandardCharsets.UTF_8);
    }

    private static XYChart knownFeatures(RunResult run, OpenSet data, String title, boolean legend, int w, int h) {
        int n = data.knownTest().size();
        int[] classes = new int[n];
        for (int i = 0; i < n; i++) {
            classes[i] = data.knownClasses()[data.knownTest().labels()[i]];
        }
        return Charts.features(title, run.metrics().knownFeatures(), n, classes, data.allClassNames(),
                run.model().classWeights(), data.knownClasses(), "", legend, w, h);
    }

    private static XYChart heldOutFeatures(RunResult run, OpenSet data, String title, boolean legend, int w, int h) {
        int n = data.heldOutTest().size();
        int[] classes = new int[n];
        for (int i = 0; i < n; i++) {
            classes[i] = data.heldOutClasses()[data.heldOutTest().labels()[i]];
        }
        return Charts.features(title, run.metrics().heldOutFeatures(), n, classes, data.allClassNames(),
                run.model().classWeights(), data.knownClasses(), " (held out)", legend, w, h);
    }

    private static List<ChartGrid.Entry> legend(OpenSet data, int[] classes, String suffix) {
        List<ChartGrid.Entry> entries = new ArrayList<>();
        for (int c : classes) {
            entries.add(new ChartGrid.Entry(data.allClassNames().get(c) + suffix, Charts.color(c)));
        }
        return entries;
    }

    private static String save(Path folder, String name, XYChart chart) throws IOException {
        BitmapEncoder.saveBitmap(chart, folder.resolve(name).toString(), BitmapEncoder.BitmapFormat.PNG);
        return name;
    }

    private static String saveImage(Path folder, String name, BufferedImage image) throws IOException {
        ImageIO.write(image, "png", folder.resolve(name).toFile());
        return name;
    }
}
