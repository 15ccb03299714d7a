package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code train --shards K --sample-rate R}: image folders train the margin family through the Partial FC head. */
class PartialFcTrainTest {

    @TempDir
    static Path shared;

    static Path glyphs;

    @TempDir
    Path dir;

    @BeforeAll
    static void writeGlyphs() {
        glyphs = ImageFoldersCommandTest.writeGlyphs(shared);
    }

    private Cli.Run train(String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--data", glyphs.toString(), "--image-size", "8",
                "--held-out", "B", "--epochs", "2", "--hidden", "8", "--embedding", "4", "--batch-size", "8", "--quiet",
                "--threads", "1"));
        args.addAll(Arrays.asList(more));
        if (!args.contains("--out")) {
            args.addAll(List.of("--out", dir.resolve("out").toString()));
        }
        return Cli.run(args.toArray(String[]::new));
    }

    @Test
    void imageFoldersTrainThroughTheShardedHeadWithSampling() throws IOException {
        for (String loss : List.of("arcface:s=8,m=0.2", "subcenter_arcface:s=8,m=0.2,k=2", "adaface:s=8",
                "curricularface:s=8,m=0.2,gradient=full")) {
            Path out = dir.resolve("report-" + loss.substring(0, loss.indexOf(':')));
            Cli.Run r = train("--loss", loss, "--shards", "3", "--sample-rate", "0.5", "--out", out.toString());
            assertEquals(0, r.status(), loss + ": " + r.err());
            JsonNode s = Cli.parse(Files.readString(out.resolve("metrics.json"))).get("settings");
            assertEquals(3, s.get("partial_fc").get("shards").asInt(), loss);
            assertEquals(0.5, s.get("partial_fc").get("sample_rate").asDouble(), loss);
            assertTrue(Files.readString(out.resolve("report.html")).contains(
                    "class weights in a Partial FC head of 3 shards, sample rate 0.5"), loss);
        }
    }

    @Test
    void theShardsAloneMeanEveryClassAndThePlainHeadWritesNoPartialFcSettings() throws IOException {
        Path sharded = dir.resolve("sharded");
        assertEquals(0, train("--loss", "cosface:s=8,m=0.2", "--shards", "2", "--out", sharded.toString()).status());
        JsonNode s = Cli.parse(Files.readString(sharded.resolve("metrics.json"))).get("settings");
        assertEquals(1.0, s.get("partial_fc").get("sample_rate").asDouble());
        Path plain = dir.resolve("plain");
        assertEquals(0, train("--loss", "cosface:s=8,m=0.2", "--out", plain.toString()).status());
        assertFalse(Cli.parse(Files.readString(plain.resolve("metrics.json"))).get("settings").has("partial_fc"));
    }

    @Test
    void badShardsAndRatesAndLossesAndEngines() throws IOException {
        Cli.assertRejected(dir, train("--loss", "arcface", "--shards", "0"), "--shards must be from 1 to 256, got 0");
        Cli.assertRejected(dir, train("--loss", "arcface", "--shards", "257"), "--shards must be from 1 to 256, got 257");
        Cli.assertRejected(dir, train("--loss", "arcface", "--sample-rate", "0"), "--sample-rate must lie in (0, 1], got 0.0");
        Cli.assertRejected(dir, train("--loss", "arcface", "--sample-rate", "1.5"), "--sample-rate must lie in (0, 1], got 1.5");
        Cli.assertRejected(dir, train("--loss", "arcface", "--sample-rate", "NaN"), "--sample-rate must lie in (0, 1]");
        Cli.assertRejected(dir, train("--loss", "softmax_cross_entropy", "--shards", "2"),
                "--shards and --sample-rate train the class weights of the margin family", "softmax_cross_entropy is a loss on logits");
        Cli.assertRejected(dir, train("--loss", "softmax_cross_entropy", "--shards", "2", "--engine", "djl"),
                "softmax_cross_entropy is a loss on logits");
    }
}
