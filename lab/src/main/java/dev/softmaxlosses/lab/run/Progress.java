package dev.softmaxlosses.lab.run;

import dev.softmaxlosses.lab.train.EpochStats;
import dev.softmaxlosses.lab.train.Trainer;
import me.tongfei.progressbar.InteractiveConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * How a command shows its runs going. On a terminal: a progress bar per run (me.tongfei's, which
 * stacks the bars of runs going at once), with the epoch and the latest test accuracy. Elsewhere
 * (a log file, CI, a pipe): one line per finished run, since redrawn bars would fill a log with
 * carriage returns. Or nothing at all ({@code --quiet}).
 */
public interface Progress {

    /** The display of one run. */
    interface Run extends Trainer.Listener, AutoCloseable {
        /** The run finished and was measured. */
        void finished(RunResult result);

        @Override
        void close();
    }

    /** A run starts: {@code index} (from 0) of {@code count}, {@code steps} SGD steps in all. */
    Run start(int index, int count, String spec, long steps, int epochs);

    /** Says nothing. */
    static Progress quiet() {
        return (index, count, spec, steps, epochs) -> new Run() {
            @Override public void stepDone(long done, long total) {}
            @Override public void finished(RunResult result) {}
            @Override public void close() {}
        };
    }

    /** One line per finished run, to {@code out}. */
    static Progress lines(PrintWriter out) {
        return (index, count, spec, steps, epochs) -> new Run() {
            @Override public void stepDone(long done, long total) {}

            @Override
            public void finished(RunResult r) {
                synchronized (out) {
                    out.printf(Locale.ROOT, "[%d/%d] %s: %d epochs in %.1f s, test accuracy %.3f%n", index + 1, count, spec,
                            epochs, r.model().seconds(), r.metrics().testAccuracy());
                    out.flush();
                }
            }

            @Override public void close() {}
        };
    }

    /** A progress bar per run on the terminal's standard error. */
    static Progress bars(int labelWidth) {
        return (index, count, spec, steps, epochs) -> {
            String label = String.format(Locale.ROOT, "[%d/%d] %-" + labelWidth + "s", index + 1, count, spec);
            ProgressBar bar = new ProgressBarBuilder().setTaskName(label).setInitialMax(steps)
                    .setStyle(ProgressBarStyle.UNICODE_BLOCK).setUpdateIntervalMillis(250)
                    .setConsumer(new InteractiveConsoleProgressBarConsumer(System.err)).hideEta().build();
            bar.setExtraMessage("epoch 0/" + epochs);
            return new Run() {
                @Override
                public void stepDone(long done, long total) {
                    bar.stepTo(done);
                }

                @Override
                public void epochDone(EpochStats s) {
                    bar.setExtraMessage(String.format(Locale.ROOT, "epoch %d/%d, test acc %.3f", s.epoch(), epochs, s.testAccuracy()));
                }

                @Override
                public void finished(RunResult r) {
                    bar.setExtraMessage(String.format(Locale.ROOT, "%.1f s, test acc %.3f", r.model().seconds(),
                            r.metrics().testAccuracy()));
                }

                @Override
                public void close() {
                    bar.close();
                }
            };
        };
    }

    /**
     * Whether standard input and output are a terminal. On JDK 22 and later {@code System.console()}
     * exists even when they are redirected, and {@code Console.isTerminal()} (called reflectively,
     * as the lab is compiled for 21) tells; on 21 a console exists only on a terminal.
     */
    static boolean interactive() {
        java.io.Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }
}
