package dev.softmaxlosses.lab;

import dev.softmaxlosses.lab.data.GreyImages;
import dev.softmaxlosses.lab.data.OpenSet;
import dev.softmaxlosses.lab.report.ReportFolder;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.run.RunExtras;
import dev.softmaxlosses.lab.saved.ModelInfo;
import dev.softmaxlosses.lab.saved.SavedModel;
import dev.softmaxlosses.lab.train.TrainingSettings;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code train --save DIR}: the model goes into a {@link ReportFolder.Kind#MODEL} folder, under the rule
 * of {@code --out} (a new or empty folder, or a model the lab saved, replaced whole only when the run
 * succeeds), written while the trained network can still embed and moved into place with the report.
 */
final class SaveOption {

    private SaveOption() {}

    /**
     * Refuses a {@code --save} folder that is the report's folder, holds it or lies in it: each would
     * hold files the other did not write.
     *
     * @throws BadInputException saying which holds which
     */
    static void refuseOverlap(Path save, Path report) {
        Path s = save.toAbsolutePath().normalize();
        Path r = report.toAbsolutePath().normalize();
        if (s.startsWith(r) || r.startsWith(s)) {
            throw new BadInputException("--save " + Messages.quote(save.toString()) + (s.equals(r) ? " is" : s.startsWith(r)
                    ? " lies in" : " holds") + " the report's folder " + Messages.quote(report.toString())
                    + "; give the model a folder of its own, for example --save lab-models/mine");
        }
    }

    /** What writes the trained model of the one loss into {@code folder}'s hidden folder. */
    static RunExtras.ModelSink sink(ReportFolder folder, List<String> specs, Backend backend, TrainingSettings settings,
                                    OpenSet data, GreyImages images) {
        return (index, model) -> {
            ModelInfo info = new ModelInfo(specs.get(index), backend, settings, data.train().dim(), data.train().width(),
                    images, data.train().classNames());
            try {
                SavedModel.write(folder.path(), info, model);
            } catch (IOException e) {
                throw new BadInputException("cannot write the model into " + Messages.quote(folder.target().toString())
                        + ": " + Messages.reason(e));
            }
        };
    }

    /**
     * Moves the saved model into place.
     *
     * @throws BadInputException when it cannot be moved, or the folder changed during the run
     */
    static void commit(ReportFolder folder) {
        try {
            folder.commit();
        } catch (IOException e) {
            throw new BadInputException("cannot write the model into " + Messages.quote(folder.target().toString()) + ": "
                    + Messages.reason(e));
        }
    }
}
