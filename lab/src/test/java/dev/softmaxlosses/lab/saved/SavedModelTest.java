package dev.softmaxlosses.lab.saved;

import dev.softmaxlosses.Loss;
import dev.softmaxlosses.lab.BadInputException;
import dev.softmaxlosses.lab.data.Dataset;
import dev.softmaxlosses.lab.data.GreyImages;
import dev.softmaxlosses.lab.data.IdxDatasets;
import dev.softmaxlosses.lab.data.SyntheticData;
import dev.softmaxlosses.lab.data.TrainTestSplit;
import dev.softmaxlosses.lab.djl.DjlNetworkFile;
import dev.softmaxlosses.lab.djl.DjlTrainer;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.train.Activation;
import dev.softmaxlosses.lab.train.MlpWeights;
import dev.softmaxlosses.lab.train.Schedule;
import dev.softmaxlosses.lab.train.TrainedModel;
import dev.softmaxlosses.lab.train.Trainer;
import dev.softmaxlosses.lab.train.TrainingSettings;
import dev.softmaxlosses.spec.LossRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A saved model embeds as the trained one did, bit for bit, for each engine and network; damaged,
 * missing or foreign files are one message naming the file. Small generated 8x8 images, one epoch.
 */
class SavedModelTest {

    @TempDir
    static Path shared;

    static TrainTestSplit data;

    @TempDir
    Path dir;

    @BeforeAll
    static void syntheticData() throws IOException {
        Path folder = SyntheticData.writeIdxFolder(Files.createDirectory(shared.resolve("images8")), 4, 10, 6, false, 3, 8);
        data = IdxDatasets.load(folder, "images8");
    }

    static TrainingSettings settings(Activation activation) {
        return new TrainingSettings(new int[] {8}, 3, activation, true, 1, 16, 0.05, Schedule.COSINE, 0.9, 5e-3, 7);
    }

    static TrainedModel train(Backend backend, Loss loss, TrainingSettings s) {
        Trainer.Listener quiet = (done, total) -> {};
        if (backend.engine() == Backend.Engine.JAVA) {
            return Trainer.train(loss, data.train(), data.test(), s, quiet);
        }
        DjlTrainer.start(s.seed());
        return DjlTrainer.train(loss, data.train(), data.test(), s, backend.model(), quiet);
    }

    static ModelInfo info(String spec, Backend backend, TrainingSettings s, GreyImages images) {
        return new ModelInfo(spec, backend, s, data.train().dim(), data.train().width(), images, data.train().classNames());
    }

    @ParameterizedTest
    @CsvSource({"java, mlp, prelu, arcface:s=8,m=0.2", "java, mlp, relu, softmax_cross_entropy",
            "djl, mlp, prelu, cosface:s=8,m=0.1", "djl, cnn, prelu, softmax_cross_entropy"})
    void embedsTheTestSetBitForBitAfterLoading(String engine, String network, String activation, String spec)
            throws IOException {
        Backend backend = new Backend(Backend.Engine.valueOf(engine.toUpperCase()), Backend.Model.valueOf(network.toUpperCase()));
        TrainingSettings s = settings(Activation.valueOf(activation.toUpperCase()));
        TrainedModel model = train(backend, LossRegistry.create(spec), s);
        float[] before;
        try {
            before = model.embed(data.test());
            SavedModel.write(dir, info(spec, backend, s, new GreyImages(8, true)), model);
        } finally {
            model.release();
        }
        assertTrue(Files.exists(dir.resolve(engine.equals("java") ? MlpWeights.FILE : DjlNetworkFile.FILE)));
        try (SavedModel loaded = SavedModel.load(dir)) {
            assertArrayEquals(before, loaded.embed(data.test()), "the same embeddings, bit for bit");
            ModelInfo info = loaded.info();
            assertEquals(spec, info.loss());
            assertEquals(backend, info.backend());
            assertEquals(s, info.settings());
            assertEquals(new GreyImages(8, true), info.images());
            assertEquals(data.train().classNames(), info.classNames());
            assertEquals(64, info.dim());
            assertEquals(8, info.width());
            assertEquals(3, loaded.embeddingSize());
        }
    }

    @Test
    void dataOfAnotherShapeIsRefused() throws IOException {
        saveJava(null);
        try (SavedModel loaded = SavedModel.load(dir)) {
            assertNull(loaded.info().images());
            Dataset other = new Dataset("other", new float[10], 1, 10, new int[] {0}, java.util.List.of("a"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> loaded.embed(other));
            assertTrue(e.getMessage().contains("the model reads 64 (8 wide)"), e.getMessage());
        }
    }

    private void saveJava(GreyImages images) throws IOException {
        TrainingSettings s = settings(Activation.PRELU);
        Backend backend = Backend.JAVA_MLP;
        SavedModel.write(dir, info("softmax_cross_entropy", backend, s, images),
                train(backend, LossRegistry.create("softmax_cross_entropy"), s));
    }

    private String loadError() {
        return assertThrows(BadInputException.class, () -> SavedModel.load(dir).close()).getMessage();
    }

    @Test
    void aMissingFolderOrFileIsNamed() throws IOException {
        assertEquals("--model '" + dir.resolve("none") + "': no such folder; give the folder that softmax-lab train --save wrote",
                assertThrows(BadInputException.class, () -> SavedModel.load(dir.resolve("none"))).getMessage()
                        .replace("--model " + dir.resolve("none"), "--model '" + dir.resolve("none") + "'"));
        assertTrue(loadError().matches("saved model file .*model\\.json: no such file or folder.*"), loadError());
        saveJava(null);
        Files.delete(dir.resolve(MlpWeights.FILE));
        assertEquals("saved model file " + dir.resolve(MlpWeights.FILE) + ": no such file", loadError());
    }

    @Test
    void damagedWeightsAreNamed() throws IOException {
        saveJava(null);
        Path weights = dir.resolve(MlpWeights.FILE);
        byte[] good = Files.readAllBytes(weights);
        String prefix = "saved model file " + weights + ": ";

        Files.write(weights, Arrays.copyOf(good, good.length - 9));
        assertEquals(prefix + "it ends early (the file is truncated)", loadError());

        byte[] flipped = good.clone();
        flipped[good.length - 8] ^= 1; // in the last value, before the checksum
        Files.write(weights, flipped);
        assertEquals(prefix + "its checksum does not match its content (the file is damaged)", loadError());

        byte[] longer = Arrays.copyOf(good, good.length + 1);
        Files.write(weights, longer);
        assertEquals(prefix + "it has bytes after its end", loadError());

        byte[] version = good.clone();
        version[7] = 2;
        Files.write(weights, version);
        assertEquals(prefix + "it has version 2 of the format; this lab reads version 1", loadError());

        Files.writeString(weights, "hello");
        assertEquals(prefix + "it is not a weights file of the lab (it does not start with SLMW)", loadError());
    }

    @Test
    void weightsThatDoNotFitTheSettingsAreRefused() throws IOException {
        saveJava(null);
        Path json = dir.resolve(ModelInfo.FILE);
        Files.writeString(json, Files.readString(json).replace("\"hidden\" : [ 8 ]", "\"hidden\" : [ 9 ]"));
        assertEquals("saved model file " + dir.resolve(MlpWeights.FILE) + ": found 'hidden1.weight' (512 float32 values)"
                + " where the saved settings need 'hidden1.weight' (576 float32 values)", loadError());
    }

    @Test
    void aDamagedDescriptionIsNamed() throws IOException {
        saveJava(new GreyImages(8, false));
        Path json = dir.resolve(ModelInfo.FILE);
        String good = Files.readString(json);
        String prefix = "saved model file " + json;

        Files.writeString(json, good.replace("\"version\" : 1", "\"version\" : 2"));
        assertEquals(prefix + " has version 2 of the format; this lab reads version 1 (save the model again with this lab)",
                loadError());
        Files.writeString(json, good.substring(0, good.length() / 2));
        assertTrue(loadError().startsWith(prefix + ": it is not valid JSON ("), loadError());
        Files.writeString(json, good.replace("\"softmax-lab model\"", "\"something\""));
        assertTrue(loadError().startsWith(prefix + " is not a model of softmax-lab"), loadError());
        Files.writeString(json, good.replace("\"epochs\" : 1", "\"epochs\" : \"one\""));
        assertEquals(prefix + " is damaged: \"epochs\" is not a whole number", loadError());
        Files.writeString(json, good.replace("\"epochs\" : 1,", ""));
        assertEquals(prefix + " is damaged: it has no \"epochs\"", loadError());
        Files.writeString(json, good.replace("\"epochs\" : 1", "\"epochs\" : 0"));
        assertEquals(prefix + " is damaged: --epochs must be at least 1, got 0", loadError());
        Files.writeString(json, good.replace("\"network\" : \"mlp\"", "\"network\" : \"transformer\""));
        assertEquals(prefix + " is damaged: \"network\" is 'transformer', which this lab does not know", loadError());
        Files.writeString(json, good.replace("\"network\" : \"mlp\"", "\"network\" : \"cnn\""));
        assertTrue(loadError().startsWith(prefix + " is damaged: --model cnn needs --engine djl"), loadError());
        Files.writeString(json, good.replace("\"size\" : 8", "\"size\" : 7"));
        assertEquals(prefix + " is damaged: images of 7x7 pixels are no rows of 64 values 8 wide", loadError());
        Files.writeString(json, good.replace("\"weights.bin\"", "\"other.bin\""));
        assertEquals(prefix + " is damaged: \"weights\" is not weights.bin, the file of the java engine", loadError());
        Files.write(json, new byte[] {(byte) 0xff, (byte) 0xfe, 0});
        assertTrue(loadError().startsWith(prefix + ": "), loadError());
    }

    @Test
    void damagedDjlParametersAreNamed() throws IOException {
        TrainingSettings s = settings(Activation.PRELU);
        Backend backend = new Backend(Backend.Engine.DJL, Backend.Model.MLP);
        TrainedModel model = train(backend, LossRegistry.create("softmax_cross_entropy"), s);
        try {
            SavedModel.write(dir, info("softmax_cross_entropy", backend, s, null), model);
        } finally {
            model.release();
        }
        Path params = dir.resolve(DjlNetworkFile.FILE);
        byte[] good = Files.readAllBytes(params);
        String prefix = "saved model file " + params + ": ";
        Files.write(params, Arrays.copyOf(good, good.length / 2));
        assertTrue(loadError().startsWith(prefix), loadError());
        Files.writeString(params, "not DJL", StandardCharsets.UTF_8);
        assertEquals(prefix + "it is not a parameter file of DJL (it does not start with DJL@)", loadError());
        Files.write(params, good);
        Path json = dir.resolve(ModelInfo.FILE);
        Files.writeString(json, Files.readString(json).replace("\"hidden\" : [ 8 ]", "\"hidden\" : [ 8, 8 ]"));
        assertTrue(loadError().startsWith(prefix), loadError());
        Files.delete(params);
        assertEquals(prefix + "no such file", loadError());
    }
}
