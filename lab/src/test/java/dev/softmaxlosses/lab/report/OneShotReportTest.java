package dev.softmaxlosses.lab.report;

import dev.softmaxlosses.lab.data.Dataset;
import dev.softmaxlosses.lab.data.IdxDatasets;
import dev.softmaxlosses.lab.data.OpenSet;
import dev.softmaxlosses.lab.data.SyntheticData;
import dev.softmaxlosses.lab.data.TrainTestSplit;
import dev.softmaxlosses.lab.metrics.OneShot;
import dev.softmaxlosses.lab.metrics.RunMetrics;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.run.RunResult;
import dev.softmaxlosses.lab.train.Activation;
import dev.softmaxlosses.lab.train.MlpModel;
import dev.softmaxlosses.lab.train.Schedule;
import dev.softmaxlosses.lab.train.Trainer;
import dev.softmaxlosses.lab.train.TrainingSettings;
import dev.softmaxlosses.spec.LossRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one-shot error on held-out classes reaches the console table, {@code metrics.json} and the page
 * only where it was measured (image-folder data); elsewhere they stay as they were.
 */
class OneShotReportTest {

    @TempDir
    Path dir;

    @Test
    void theOneShotErrorIsShownOnlyWhereMeasured() throws IOException {
        TrainTestSplit raw = IdxDatasets.load(SyntheticData.writeIdxFolder(Files.createDirectory(dir.resolve("d")), 7, 12, 6,
                false, 2), "folders");
        List<String> names = List.of("x/0", "x/1", "x/2", "x/3", "y/0", "y/1", "y/2");
        TrainTestSplit split = new TrainTestSplit("folders", rename(raw.train(), names), rename(raw.test(), names));
        OpenSet data = OpenSet.of(split, new int[] {4, 5, 6});
        TrainingSettings s = new TrainingSettings(new int[] {8}, 3, Activation.PRELU, true, 1, 16, 0.05, Schedule.COSINE,
                0.9, 5e-3, 1);
        MlpModel model = Trainer.train(LossRegistry.create("softmax_cross_entropy"), data.train(), data.knownTest(), s,
                (done, total) -> {});
        RunMetrics with = RunMetrics.of(model, data, new OneShot.Protocol(3, 1, 50, 1));
        RunMetrics without = RunMetrics.of(model, data);
        assertNotNull(with.oneShot());
        assertNull(without.oneShot());
        assertEquals(1, with.oneShot().groups(), "the held-out classes are y's");
        assertNull(RunMetrics.of(model, data, OneShot.Protocol.REPORT).oneShot(), "too few held-out classes for 20-way");

        ReportContext context = new ReportContext("train", "softmax-lab train", data, s, Backend.JAVA_MLP, 1, 1);
        List<RunResult> measured = List.of(new RunResult("softmax_cross_entropy", LossRegistry.create("softmax_cross_entropy"),
                model, with));
        List<RunResult> plain = List.of(new RunResult("softmax_cross_entropy", LossRegistry.create("softmax_cross_entropy"),
                model, without));

        String table = SummaryTable.of(measured);
        assertTrue(table.lines().findFirst().orElseThrow().endsWith("   1-shot   seconds"), table);
        assertTrue(table.contains(String.format(java.util.Locale.ROOT, "  %8.3f  ", with.oneShot().meanError())), table);
        assertTrue(table.contains("(1-shot: error of 3-way 1-shot episodes on the held-out classes, 50 episodes"), table);
        String plainTable = SummaryTable.of(plain);
        assertFalse(plainTable.contains("1-shot"), plainTable);
        assertEquals(table.lines().count() - 1, plainTable.lines().count());

        assertTrue(MetricsJson.of(context, measured).contains("\"one_shot_error\" : " + with.oneShot().meanError()));
        assertFalse(MetricsJson.of(context, plain).contains("one_shot"));

        Path a = Files.createDirectory(dir.resolve("a"));
        Report.write(a, context, measured);
        String html = Files.readString(a.resolve("report.html"));
        assertTrue(html.contains(">1-shot error</th>") && html.contains(" 1-shot error: in each of 50 episodes"), "page");
        Path b = Files.createDirectory(dir.resolve("b"));
        Report.write(b, context, plain);
        assertFalse(Files.readString(b.resolve("report.html")).contains("1-shot"));
    }

    private static Dataset rename(Dataset d, List<String> names) {
        return new Dataset(d.name(), d.features(), d.size(), d.dim(), d.labels(), names, d.width());
    }
}
