package dev.softmaxlosses.lab;

import dev.softmaxlosses.lab.data.GreyImages;
import dev.softmaxlosses.lab.data.ImageArchive;
import dev.softmaxlosses.lab.data.Dataset;
import dev.softmaxlosses.lab.data.ImageFolders;
import dev.softmaxlosses.lab.data.TrainTestSplit;
import dev.softmaxlosses.lab.data.OneShotRuns;
import dev.softmaxlosses.lab.metrics.OneShot;
import dev.softmaxlosses.lab.saved.SavedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code softmax-lab oneshot --model FOLDER}: one-shot classification of images a saved model never saw,
 * by the cosine similarity of its embeddings, the images read as its training images were (its saved
 * {@code GreyImages}): Omniglot's one-shot runs ({@code --runs}, {@link OneShotRuns}), or seeded N-way
 * K-shot episodes drawn within the top-level folders of image folders ({@code --data}, {@link OneShot}).
 */
@Command(name = "oneshot", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measures a saved model (train --save) on one-shot classification of images it never saw:"
                + " Omniglot's one-shot runs (--runs), or seeded N-way K-shot episodes drawn from image folders (--data).",
                "Images are read as the model's training images were (its saved image size and inversion); a test image"
                        + " goes to the class whose embedding is nearest by cosine similarity.",
                "Exit status: 0 done; 2 bad options, model or data (one error: line, nothing written)."},
        footer = {"", "Examples: softmax-lab oneshot --model lab-models/omniglot --runs all_runs.zip",
                "          softmax-lab oneshot --model lab-models/omniglot --data images_evaluation.zip --way 5 --shot 1"})
final class OneShotCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "FOLDER", order = 1,
            description = "The saved model: a folder that softmax-lab train --save wrote.")
    Path model;

    @Option(names = "--runs", paramLabel = "PATH", order = 2,
            description = "Omniglot's one-shot runs, a folder or zip archive (all_runs.zip) with runNN/class_labels.txt"
                    + " anywhere inside: lines 'runNN/test/ITEM runNN/training/CLASS'. Each test image is classified by its"
                    + " nearest training image of the run; one line per run, then the mean error.")
    Path runs;

    @Option(names = "--data", paramLabel = "PATH", order = 3,
            description = "Image folders or zip archives (repeatable, merged as train's --data), one folder per class"
                    + " (Alphabet/character01/*.png): seeded episodes of --way classes drawn within one top-level folder"
                    + " (as Omniglot's within an alphabet), --shot support images and one query image of each.")
    List<Path> data;

    @Option(names = "--way", paramLabel = "N", order = 4, defaultValue = "20",
            description = "Classes per episode (default: ${DEFAULT-VALUE}).")
    int way;

    @Option(names = "--shot", paramLabel = "K", order = 5, defaultValue = "1",
            description = "Support images per class; a query goes to the nearest class prototype, the mean of the"
                    + " normalised support embeddings (default: ${DEFAULT-VALUE}).")
    int shot;

    @Option(names = "--episodes", paramLabel = "E", order = 6, defaultValue = "400",
            description = "How many episodes (default: ${DEFAULT-VALUE}).")
    int episodes;

    @Option(names = "--seed", paramLabel = "S", order = 7, defaultValue = "1",
            description = "Seeds the episodes' draws (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--output", paramLabel = "FILE", order = 8,
            description = "Also write the results as JSON there, whole or not at all.")
    Path output;

    @Spec
    CommandSpec spec;

    @ParentCommand
    SoftmaxLab lab;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            OneShot.Protocol protocol = protocol();
            if (output != null) {
                OutputFile.check(output);
            }
            OneShotOutput result;
            try (SavedModel saved = SavedModel.load(model)) {
                GreyImages images = saved.info().images();
                if (images == null) {
                    throw new BadInputException("--model " + Messages.quote(model.toString()) + " keeps no image"
                            + " preprocessing (it was trained on data other than image folders, or on oblong images without"
                            + " --image-size); oneshot needs a model trained on image folders");
                }
                result = runs != null ? runs(saved, images) : episodes(saved, images, protocol);
            }
            if (output != null) {
                OutputFile.write(output, result.json());
            }
            out.print(result.text());
            out.flush();
            return 0;
        } catch (BadInputException | IllegalArgumentException e) {
            return SoftmaxLab.badInput(err, e.getMessage());
        }
    }

    /** The episodes of {@code --data}, or null for {@code --runs}; checks that exactly one was given. */
    private OneShot.Protocol protocol() {
        if ((runs == null) == (data == null)) {
            throw new BadInputException(runs == null ? "give --runs PATH (Omniglot's one-shot runs) or --data PATH (image"
                    + " folders for N-way K-shot episodes)" : "give --runs or --data, not both");
        }
        if (runs != null) {
            for (String option : List.of("--way", "--shot", "--episodes", "--seed")) {
                if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                    throw new BadInputException(option + " sets the episodes of --data; the runs of --runs are fixed");
                }
            }
            return null;
        }
        return new OneShot.Protocol(way, shot, episodes, seed);
    }

    private OneShotOutput runs(SavedModel saved, GreyImages images) {
        List<OneShotOutput.RunOutcome> outcomes = new ArrayList<>();
        try (ImageArchive archive = ImageArchive.open(runs, "--runs")) {
            List<OneShotRuns.Run> found = OneShotRuns.read(archive, "--runs");
            Set<String> names = new HashSet<>();
            Set<String> repeated = new HashSet<>();
            for (OneShotRuns.Run run : found) {
                if (!names.add(run.name())) {
                    repeated.add(run.name());
                }
            }
            for (OneShotRuns.Run run : found) {
                String name = repeated.contains(run.name())
                        ? run.labels().substring(0, run.labels().length() - "/class_labels.txt".length()) : run.name();
                outcomes.add(new OneShotOutput.RunOutcome(name, wrong(saved, images, archive, run), run.trials().size()));
            }
        }
        return OneShotOutput.ofRuns(outcomes);
    }

    /** How many test images of {@code run} are nearer a training image of another class than their own's. */
    private static int wrong(SavedModel saved, GreyImages images, ImageArchive archive, OneShotRuns.Run run) {
        List<String> files = new ArrayList<>(run.training());
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < files.size(); i++) {
            index.put(files.get(i), i);
        }
        for (OneShotRuns.Trial t : run.trials()) {
            index.computeIfAbsent(t.test(), f -> {
                files.add(f);
                return files.size() - 1;
            });
        }
        int dim = images.size() * images.size();
        float[] rows = new float[Math.multiplyExact(files.size(), dim)];
        for (int i = 0; i < files.size(); i++) {
            System.arraycopy(images.row(archive.read(files.get(i)), archive.describe(files.get(i))), 0, rows, i * dim, dim);
        }
        int d = saved.embeddingSize();
        double[][] unit = OneShot.unitRows(saved.embed(rows, files.size()), files.size(), d);
        double[][] candidates = java.util.Arrays.copyOf(unit, run.training().size());
        int wrong = 0;
        for (OneShotRuns.Trial t : run.trials()) {
            if (OneShot.nearest(unit[index.get(t.test())], candidates) != index.get(t.answer())) {
                wrong++;
            }
        }
        return wrong;
    }

    /** Every image of {@code --data} (the training and test split of {@link ImageFolders} together), embedded. */
    private OneShotOutput episodes(SavedModel saved, GreyImages images, OneShot.Protocol protocol) {
        TrainTestSplit split = ImageFolders.load(data, images.size(), images.invert(), "--data");
        Dataset train = split.train();
        Dataset test = split.test();
        float[] rows = new float[Math.addExact(train.features().length, test.features().length)];
        System.arraycopy(train.features(), 0, rows, 0, train.features().length);
        System.arraycopy(test.features(), 0, rows, train.features().length, test.features().length);
        int[] labels = new int[train.size() + test.size()];
        System.arraycopy(train.labels(), 0, labels, 0, train.size());
        System.arraycopy(test.labels(), 0, labels, train.size(), test.size());
        float[] embeddings = saved.embed(rows, labels.length);
        OneShot.Result result = OneShot.episodes(embeddings, saved.embeddingSize(), labels, train.classNames(), protocol);
        return OneShotOutput.ofEpisodes(result, labels.length, train.classes());
    }
}
