package dev.softmaxlosses.lab;

import dev.softmaxlosses.Loss;
import dev.softmaxlosses.lab.data.GreyImages;
import dev.softmaxlosses.lab.data.ImageFolders;
import dev.softmaxlosses.lab.data.OpenSet;
import dev.softmaxlosses.lab.metrics.OneShot;
import dev.softmaxlosses.lab.report.Report;
import dev.softmaxlosses.lab.report.ReportContext;
import dev.softmaxlosses.lab.report.ReportFolder;
import dev.softmaxlosses.lab.report.SummaryTable;
import dev.softmaxlosses.lab.djl.DjlTrainer;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.run.Experiment;
import dev.softmaxlosses.lab.run.Progress;
import dev.softmaxlosses.lab.run.RunExtras;
import dev.softmaxlosses.lab.run.RunResult;
import dev.softmaxlosses.lab.train.Trainer;
import dev.softmaxlosses.lab.train.PartialFc;
import dev.softmaxlosses.lab.train.TrainingSettings;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.spec.LossRegistry;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * What {@code demo}, {@code train} and {@code compare} share: check everything that can be checked
 * before training (specs, options, the output folder, the data), train the losses, write the report
 * into a temporary folder and move it into place, print the summary. Every mistake of the user's is
 * one {@code error:} line and exit status 2, and leaves no report behind.
 */
abstract class LabCommand implements Callable<Integer> {

    /** The demo's losses: the survey's story from the softmax loss to the margins, in order. */
    static final List<String> DEFAULT_LOSSES = List.of(
            "softmax_cross_entropy",
            "softmax_cross_entropy:label_smoothing=0.1",
            "focal:gamma=2",
            "normface:s=8",
            "cosface:s=8,m=0.1",
            "arcface:s=8,m=0.2",
            "sphereface:m=4,lambda=5",
            "lsoftmax:m=2,lambda=5");

    @Mixin
    LabOptions options;

    @Spec
    CommandSpec spec;

    /** The command's name, for the default output folder and the report's title. */
    abstract String name();

    /** The loss specs to train with {@code backend}, as the user gave them. */
    abstract List<String> lossSpecs(Backend backend);

    /** Sets the defaults of a command that differ by backend (the options the user did not give); none here. */
    void defaults(Backend backend) {}

    @ParentCommand
    SoftmaxLab lab;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        try {
            Backend backend = options.backend();
            List<String> specs = lossSpecs(backend);
            List<Loss> losses = losses(specs);
            if (backend.model().convolutional()) {
                if (given("--hidden")) {
                    throw new BadInputException("--hidden sets the layers of the mlp; --model "
                            + backend.model().name().toLowerCase(Locale.ROOT) + " has its own (" + backend.model().title() + ")");
                }
                if (!given("--lr")) {
                    options.learningRate = LabOptions.CNN_LEARNING_RATE;
                }
            }
            defaults(backend);
            TrainingSettings settings = options.settings();
            if (settings.partialFc().on()) {
                requirePartialFc(losses);
            }
            int threads = options.threads();
            if (backend.engine() == Backend.Engine.DJL) {
                try {
                    DjlTrainer.start(settings.seed());
                } catch (IllegalStateException e) {
                    throw new BadInputException("--engine djl: " + e.getMessage());
                }
            }
            Path report = options.out(folderName(backend));
            Path save = saveTarget();
            if (save != null) {
                // Before the report's folder is touched: a refused --save leaves nothing behind.
                SaveOption.refuseOverlap(save, report);
                ReportFolder.checkTarget(save, ReportFolder.Kind.MODEL);
            }
            try (ReportFolder folder = ReportFolder.open(report);
                 ReportFolder saved = save == null ? null : ReportFolder.open(save, ReportFolder.Kind.MODEL)) {
                OpenSet data = options.openSet(err);
                GreyImages images = imagePreprocessing(data);
                Preflight.check(data, settings, backend, Math.min(threads, losses.size()));
                int atOnce = Math.min(threads, losses.size());
                out.printf(Locale.ROOT, "softmax-lab %s: %d loss%s on %s (%d training samples of %d classes; held out: %s), %d at a time%s%n",
                        name(), losses.size(), losses.size() == 1 ? "" : "es", Messages.escape(data.name()), data.train().size(),
                        data.knownCount(), heldOutNames(data), atOnce,
                        backend.equals(Backend.JAVA_MLP) ? "" : " (engine " + backend.engine().name().toLowerCase(Locale.ROOT)
                                + ", model " + backend.model().name().toLowerCase(Locale.ROOT) + ")");
                lab.requireWorkingStdout(out);
                Progress progress = options.quiet ? Progress.quiet()
                        : Progress.interactive() ? Progress.bars(specs.stream().mapToInt(String::length).max().orElse(10))
                        : Progress.lines(err);
                RunExtras extras = new RunExtras(imageFolders(data) ? OneShot.Protocol.REPORT : null,
                        saved == null ? null : SaveOption.sink(saved, specs, backend, settings, data, images));
                List<RunResult> runs = Experiment.run(data, specs, losses, settings, backend, threads, progress, extras);
                ReportContext context = new ReportContext(name(), commandLine(), data, settings, backend, atOnce,
                        (System.nanoTime() - start) / 1e9);
                Path written;
                try {
                    Report.write(folder.path(), context, runs);
                    if (saved != null) {
                        SaveOption.commit(saved);
                    }
                    written = folder.commit();
                } catch (IOException e) {
                    throw new BadInputException("cannot write the report into " + Messages.quote(folder.target().toString())
                            + ": " + Messages.reason(e));
                }
                out.println();
                out.print(SummaryTable.of(runs));
                if (saved != null) {
                    out.printf(Locale.ROOT, "%nmodel: %s", saved.target());
                }
                out.printf(Locale.ROOT, "%nreport: %s (%.0f s in all)%n", written.resolve("report.html"),
                        (System.nanoTime() - start) / 1e9);
                out.flush();
                return 0;
            }
        } catch (BadInputException | IllegalArgumentException | Trainer.DivergedException e) {
            String hint = e instanceof Trainer.DivergedException ? "; try a lower --lr or a smaller scale s" : "";
            return SoftmaxLab.badInput(err, e.getMessage() + hint);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return SoftmaxLab.badInput(err, "interrupted; no report was written");
        }
    }

    /** Builds every loss before any data is read, so that a typo costs nothing. */
    static List<Loss> losses(List<String> specs) {
        if (specs.isEmpty()) {
            throw new BadInputException("no loss given: pass --loss SPEC");
        }
        Set<String> seen = new HashSet<>();
        List<Loss> losses = new ArrayList<>();
        for (String s : specs) {
            if (!seen.add(s.strip())) {
                throw new BadInputException("--loss " + s + " is given twice");
            }
            Loss loss = LossRegistry.create(s);
            if (loss.spec().name().equals("distillation")) {
                throw new BadInputException("--loss " + s + ": distillation needs a teacher's logits, and the lab trains"
                        + " one network at a time; pick a loss on labels");
            }
            losses.add(loss);
        }
        return losses;
    }

    /** {@code --shards} and {@code --sample-rate} train the margin family's class weights. */
    private static void requirePartialFc(List<Loss> losses) {
        for (Loss loss : losses) {
            if (!(loss instanceof MarginLoss)) {
                throw new BadInputException(PartialFc.notMargin(loss.spec().name()));
            }
        }
    }

    /** The folder {@code train --save} writes the trained model into; null: none (the default, and other commands). */
    Path saveTarget() {
        return null;
    }

    /**
     * Whether {@code data} are image folders, on whose held-out classes the report measures one-shot
     * episodes: the data whose held-out classes give all their images (not the bundled, downloaded or IDX
     * data sets, nor the ORL faces, which give their test images), so the other reports stay as they were.
     */
    static boolean imageFolders(OpenSet data) {
        return data.heldOutWhole();
    }

    /**
     * How image files became the rows of {@code data} ({@code --image-size}, {@code --invert}), which a
     * saved model keeps; null when the data are not image folders, or images of their own oblong size
     * (no {@code --image-size}), which no square {@link GreyImages} reproduces.
     */
    GreyImages imagePreprocessing(OpenSet data) {
        if (!imageFolders(data) || data.train().width() != data.train().height()) {
            return null;
        }
        return new GreyImages(data.train().width(), options.invert);
    }

    /** The default output folder's name under {@code lab-out}: the command's. */
    String folderName(Backend backend) {
        return name();
    }

    /** Whether the user gave {@code option} on the command line (rather than its default). */
    boolean given(String option) {
        return spec.commandLine().getParseResult() != null && spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    private String commandLine() {
        List<String> args = spec.commandLine().getParseResult() == null ? List.of()
                : spec.commandLine().getParseResult().originalArgs();
        return "softmax-lab " + String.join(" ", args);
    }

    /**
     * The held-out classes for the first line: their names, a top-level folder held out whole as
     * {@code Greek (24 classes)}; {@code none} for none.
     */
    static String heldOutNames(OpenSet data) {
        if (!data.hasHeldOut()) {
            return "none";
        }
        List<String> all = data.allClassNames();
        Map<String, List<Integer>> groups = ImageFolders.classesByGroup(all);
        List<String> groupOf = ImageFolders.groups(all);
        Set<Integer> held = new HashSet<>();
        for (int c : data.heldOutClasses()) {
            held.add(c);
        }
        List<String> names = new ArrayList<>();
        Set<String> said = new HashSet<>();
        for (int c : data.heldOutClasses()) {
            String group = groupOf.get(c);
            List<Integer> members = groups.get(group);
            if (!group.isEmpty() && members.size() > 1 && held.containsAll(members)) {
                if (said.add(group)) {
                    names.add(group + " (" + members.size() + " classes)");
                }
            } else {
                names.add(all.get(c));
            }
        }
        return Messages.escape(String.join(", ", names));
    }
}
