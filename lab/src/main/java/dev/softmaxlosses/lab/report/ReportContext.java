package dev.softmaxlosses.lab.report;

import dev.softmaxlosses.lab.data.OpenSet;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.train.TrainingSettings;

/**
 * What a report says about how its runs were made.
 *
 * @param command     the command that made it ({@code demo}, {@code train}, {@code compare})
 * @param commandLine the command line as typed, for the report's footer
 * @param data        the data and its open-set split
 * @param settings    the training settings shared by every run
 * @param backend     the engine and network that trained the runs
 * @param threads     how many runs went at once
 * @param seconds     wall-clock time of the whole command so far
 */
public record ReportContext(String command, String commandLine, OpenSet data, TrainingSettings settings, Backend backend,
                            int threads,
                            double seconds) {}
