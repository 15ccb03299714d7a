package dev.softmaxlosses.lab.report;

import dev.softmaxlosses.lab.metrics.Calibration;
import dev.softmaxlosses.lab.metrics.Verification;
import dev.softmaxlosses.lab.run.RunResult;
import dev.softmaxlosses.lab.train.EpochStats;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The report's plots, built with XChart. Colours mean the same thing everywhere: a class has one
 * colour in every feature plot (by its index in the data), a loss one colour in every comparison plot
 * (by its place in the run list).
 */
final class Charts {

    /** Tableau's ten colours (those of matplotlib), then more for data with many classes. */
    private static final Color[] PALETTE = {
            new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
            new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)};

    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 14);
    private static final Font TEXT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    private static final Color GRID = new Color(232, 232, 232);

    private Charts() {}

    /** The colour of class or run {@code i}: Tableau's ten, then evenly spread hues. */
    static Color color(int i) {
        if (i < PALETTE.length) {
            return PALETTE[i];
        }
        float hue = (float) ((i * 0.6180339887) % 1.0);
        return Color.getHSBColor(hue, 0.65f, 0.85f);
    }

    private static Color translucent(Color c, int alpha) {
        return new Color(c.getRed(), c.getGreen(), c.getBlue(), alpha);
    }

    private static XYChart chart(String title, String xTitle, String yTitle, int width, int height) {
        XYChart chart = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        XYStyler s = chart.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotBorderColor(Color.GRAY);
        s.setPlotGridLinesColor(GRID);
        s.setChartTitleFont(TITLE);
        s.setChartTitleBoxVisible(false);
        s.setBaseFont(TEXT);
        s.setLegendFont(TEXT);
        s.setAxisTitleFont(TEXT);
        s.setAxisTickLabelsFont(TEXT);
        s.setLegendBorderColor(Color.LIGHT_GRAY);
        s.setAntiAlias(true);
        s.setMarkerSize(4);
        return chart;
    }

    /**
     * The survey's figure: 2-D features coloured by class, and, when {@code classWeights} is given, each
     * class weight's direction as a ray from the origin in its class's colour. The axes are equal and
     * centred on the origin, since direction is what the normalised losses learn; they reach a little
     * past the 99th percentile of the features' extent, so that a few far points do not shrink the rest.
     *
     * @param features     {@code n x 2}
     * @param classes      each feature's class, as an index into {@code names} and the palette
     * @param names        class names by index
     * @param classWeights {@code k x 2} weights of the classes {@code weightClasses}, or null
     */
    static XYChart features(String title, float[] features, int n, int[] classes, List<String> names, float[] classWeights,
                            int[] weightClasses, String legendSuffix, boolean legend, int width, int height) {
        XYChart chart = chart(title, "feature 1", "feature 2", width, height);
        XYStyler s = chart.getStyler();
        s.setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        s.setLegendVisible(legend);
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setMarkerSize(n > 3000 ? 2 : 4);
        double extent = extent(features, n);
        s.setXAxisMin(-extent);
        s.setXAxisMax(extent);
        s.setYAxisMin(-extent);
        s.setYAxisMax(extent);
        s.setXAxisDecimalPattern("#.##");
        s.setYAxisDecimalPattern("#.##");
        int[] present = Arrays.stream(classes).distinct().sorted().toArray();
        for (int c : present) {
            int count = 0;
            for (int i = 0; i < n; i++) {
                if (classes[i] == c) {
                    count++;
                }
            }
            double[] x = new double[count];
            double[] y = new double[count];
            int k = 0;
            for (int i = 0; i < n; i++) {
                if (classes[i] == c) {
                    x[k] = features[2 * i];
                    y[k++] = features[2 * i + 1];
                }
            }
            XYSeries series = chart.addSeries(names.get(c) + legendSuffix, x, y);
            series.setMarker(SeriesMarkers.CIRCLE);
            series.setMarkerColor(translucent(color(c), n > 3000 ? 110 : 170));
        }
        if (classWeights != null) {
            for (int j = 0; j < weightClasses.length; j++) {
                double wx = classWeights[2 * j];
                double wy = classWeights[2 * j + 1];
                double norm = Math.hypot(wx, wy);
                if (norm == 0) {
                    continue;
                }
                double r = 0.97 * extent;
                XYSeries ray = chart.addSeries("weight of " + names.get(weightClasses[j]),
                        new double[] {0, r * wx / norm}, new double[] {0, r * wy / norm});
                ray.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
                ray.setMarker(SeriesMarkers.NONE);
                ray.setLineColor(color(weightClasses[j]).darker());
                ray.setLineStyle(solid(3f));
                ray.setShowInLegend(false);
            }
        }
        return chart;
    }

    /** Half the side of the square the feature plot shows. */
    static double extent(float[] features, int n) {
        if (n == 0) {
            return 1;
        }
        double[] radius = new double[n];
        for (int i = 0; i < n; i++) {
            radius[i] = Math.max(Math.abs(features[2 * i]), Math.abs(features[2 * i + 1]));
        }
        Arrays.sort(radius);
        double r = radius[Math.min(n - 1, (int) Math.ceil(0.99 * n) - 1)];
        return r > 0 ? 1.1 * r : 1;
    }

    /** The ROC curves of every run: TAR against FAR, FAR on a log scale. */
    static XYChart roc(List<RunResult> runs, int width, int height) {
        XYChart chart = chart("Open-set verification on the held-out classes (ROC)", "false accept rate (FAR)",
                "true accept rate (TAR)", width, height);
        XYStyler s = chart.getStyler();
        s.setXAxisLogarithmic(true);
        s.setXAxisMin(1e-4);
        s.setXAxisMax(1.0);
        s.setYAxisMin(0.0);
        s.setYAxisMax(1.0);
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setYAxisDecimalPattern("0.0");
        for (int i = 0; i < runs.size(); i++) {
            Verification.Result v = runs.get(i).metrics().verification();
            int from = 0;
            while (from < v.curveFar().length && v.curveFar()[from] < 1e-4) {
                from++;
            }
            double[] far = Arrays.copyOfRange(v.curveFar(), from, v.curveFar().length);
            double[] tar = Arrays.copyOfRange(v.curveTar(), from, v.curveTar().length);
            XYSeries series = chart.addSeries(runs.get(i).spec(), far, tar);
            series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            series.setMarker(SeriesMarkers.NONE);
            series.setLineColor(color(i));
            series.setLineStyle(solid(2f));
        }
        return chart;
    }

    /** One quantity per epoch for every run, on one plot. */
    static XYChart overEpochs(List<RunResult> runs, String title, String yTitle, ToDoubleFunction<EpochStats> value,
                              boolean unitRange, int width, int height) {
        XYChart chart = chart(title, "epoch", yTitle, width, height);
        XYStyler s = chart.getStyler();
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        if (unitRange) {
            s.setYAxisMin(0.0);
            s.setYAxisMax(1.0);
        }
        s.setXAxisDecimalPattern("0");
        for (int i = 0; i < runs.size(); i++) {
            List<EpochStats> history = runs.get(i).model().history();
            double[] x = new double[history.size()];
            double[] y = new double[history.size()];
            for (int e = 0; e < x.length; e++) {
                x[e] = history.get(e).epoch();
                y[e] = value.applyAsDouble(history.get(e));
            }
            XYSeries series = chart.addSeries(runs.get(i).spec(), x, y);
            series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            marker(series, x.length, color(i));
            series.setLineColor(color(i));
            series.setLineStyle(solid(2f));
        }
        return chart;
    }

    /** {@code softmax-lab scale}'s loss curve: the loss of every step. */
    static XYChart lossCurve(String title, double[] steps, double[] losses, int width, int height) {
        XYChart chart = chart(title, "step", "training loss", width, height);
        XYStyler s = chart.getStyler();
        s.setLegendVisible(false);
        s.setXAxisDecimalPattern("0");
        XYSeries series = chart.addSeries("loss", steps, losses);
        series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        marker(series, steps.length, color(3));
        series.setLineColor(color(3));
        series.setLineStyle(solid(1.5f));
        return chart;
    }

    /** No markers on a line; a dot for a single epoch, which draws no line. */
    private static void marker(XYSeries series, int points, Color color) {
        series.setMarker(points == 1 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        series.setMarkerColor(color);
    }

    /** One run's training curves: accuracy (left axis) and loss (right axis) per epoch. */
    static XYChart curves(RunResult run, int width, int height) {
        XYChart chart = chart("Training curves: " + Titles.of(run.spec()), "epoch", "accuracy", width, height);
        XYStyler s = chart.getStyler();
        s.setLegendPosition(Styler.LegendPosition.OutsideS);
        s.setLegendLayout(Styler.LegendLayout.Horizontal);
        s.setYAxisMin(0, 0.0);
        s.setYAxisMax(0, 1.0);
        s.setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
        s.setXAxisDecimalPattern("0");
        List<EpochStats> h = run.model().history();
        double[] x = h.stream().mapToDouble(EpochStats::epoch).toArray();
        line(chart, "train accuracy", x, h.stream().mapToDouble(EpochStats::trainAccuracy).toArray(), color(0), 0);
        line(chart, "test accuracy", x, h.stream().mapToDouble(EpochStats::testAccuracy).toArray(), color(2), 0);
        XYSeries loss = line(chart, "train loss (right axis)", x, h.stream().mapToDouble(EpochStats::trainLoss).toArray(),
                color(3), 1);
        loss.setLineStyle(new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        chart.setYAxisGroupTitle(1, "loss");
        return chart;
    }

    private static XYSeries line(XYChart chart, String name, double[] x, double[] y, Color color, int group) {
        XYSeries series = chart.addSeries(name, x, y);
        series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        marker(series, x.length, color);
        series.setLineColor(color);
        series.setLineStyle(solid(2f));
        series.setYAxisGroup(group);
        return series;
    }

    /**
     * The reliability diagram of one run: the accuracy of each confidence bin as a bar over the bin,
     * with the diagonal where a calibrated model's bars would end. Bars below the diagonal are
     * over-confident bins, above it under-confident ones; the ECE weighs each gap by its bin's share.
     */
    static XYChart reliability(RunResult run, String title, int width, int height) {
        Calibration.Result c = run.metrics().calibration();
        int bins = c.counts().length;
        XYChart chart = chart(String.format(Locale.ROOT, "%s: ECE %.3f", title, c.ece()), "confidence (largest probability)",
                "accuracy", width, height);
        XYStyler s = chart.getStyler();
        s.setXAxisMin(0.0);
        s.setXAxisMax(1.0);
        s.setYAxisMin(0.0);
        s.setYAxisMax(1.0);
        s.setLegendVisible(false);
        s.setXAxisDecimalPattern("0.0");
        s.setYAxisDecimalPattern("0.0");
        double[] x = new double[bins + 1];
        double[] y = new double[bins + 1];
        for (int b = 0; b <= bins; b++) {
            x[b] = (double) b / bins;
            int from = Math.min(b, bins - 1);
            y[b] = c.counts()[from] == 0 ? 0 : c.accuracy()[from];
        }
        XYSeries bars = chart.addSeries("accuracy per bin", x, y);
        bars.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.StepArea);
        bars.setMarker(SeriesMarkers.NONE);
        bars.setLineColor(color(0));
        bars.setLineStyle(solid(1.5f));
        bars.setFillColor(translucent(color(0), 110));
        XYSeries diagonal = chart.addSeries("perfect calibration", new double[] {0, 1}, new double[] {0, 1});
        diagonal.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        diagonal.setMarker(SeriesMarkers.NONE);
        diagonal.setLineColor(color(3));
        diagonal.setLineStyle(new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        return chart;
    }

    private static BasicStroke solid(float width) {
        return new BasicStroke(width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    }

    /** A histogram of the test features' norms. */
    static XYChart normHistogram(RunResult run, int width, int height) {
        double[] norms = run.metrics().featureNorms().clone();
        Arrays.sort(norms);
        double top = norms.length == 0 ? 1 : norms[Math.min(norms.length - 1, (int) Math.ceil(0.995 * norms.length) - 1)];
        top = top > 0 ? top * 1.05 : 1;
        int bins = 30;
        double[] x = new double[bins + 1];
        double[] y = new double[bins + 1];
        for (double v : norms) {
            int b = (int) Math.min(bins - 1, Math.floor(v / top * bins));
            y[b]++;
        }
        for (int b = 0; b <= bins; b++) {
            x[b] = b * top / bins;
        }
        y[bins] = y[bins - 1];
        XYChart chart = chart(String.format(Locale.ROOT, "Feature norms (mean %.2f)", run.metrics().meanFeatureNorm()),
                "norm of the test feature", "samples", width, height);
        XYStyler s = chart.getStyler();
        s.setLegendVisible(false);
        s.setXAxisMin(0.0);
        s.setXAxisMax(top);
        s.setYAxisMin(0.0);
        s.setXAxisDecimalPattern("0.#");
        s.setYAxisDecimalPattern("0");
        XYSeries series = chart.addSeries("norms", x, y);
        series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.StepArea);
        series.setMarker(SeriesMarkers.NONE);
        series.setLineColor(color(0));
        series.setLineStyle(solid(1.5f));
        series.setFillColor(translucent(color(0), 120));
        return chart;
    }
}
