package dev.softmaxlosses.lab;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.logging.Level;
import java.util.logging.Logger;

/** The {@code softmax-lab} command line: {@code demo}, {@code train}, {@code compare}, {@code download} and {@code eval}. */
@Command(name = "softmax-lab", mixinStandardHelpOptions = true, version = "softmax-lab 0.1.0",
        description = "Computes, trains with and compares softmax-based losses.",
        subcommands = {DemoCommand.class, TrainCommand.class, CompareCommand.class, DownloadCommand.class,
                EvalCommand.class, CommandLine.HelpCommand.class})
public final class SoftmaxLab implements Runnable {

    /** Exit status for bad input: a clear {@code error:} line and no output written. */
    public static final int EXIT_BAD_INPUT = 2;
    /** Exit status for a bug: still one line, never a stack trace. */
    public static final int EXIT_INTERNAL_ERROR = 3;

    // Held so that the level set below is not lost when the logger is collected.
    private static final Logger LIBRARY_LOG = Logger.getLogger("dev.softmaxlosses");

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns the exit status. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        // Plots are drawn off screen; without this a machine with a display would start AWT's toolkit.
        System.setProperty("java.awt.headless", "true");
        quietLibraryLog();
        CommandLine cli = new CommandLine(new SoftmaxLab());
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println("error: " + oneLine(e.getMessage())
                    + " (see softmax-lab " + e.getCommandLine().getCommandName() + " --help)");
            e.getCommandLine().getErr().flush();
            return EXIT_BAD_INPUT;
        });
        cli.setExecutionExceptionHandler((e, c, parsed) -> {
            c.getErr().println("error: internal error, please report it: " + oneLine(String.valueOf(e)));
            c.getErr().flush();
            return EXIT_INTERNAL_ERROR;
        });
        return cli.execute(args);
    }

    /** An error message as one line: a line break in it (from a quoted value) would split the error in two. */
    static String oneLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        return message.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /** The kernel provider's one-line INFO message is for library users; the lab's stderr is for errors. */
    private static void quietLibraryLog() {
        if (System.getProperty("softmaxlab.verbose") == null) {
            LIBRARY_LOG.setLevel(Level.WARNING);
        }
    }
}
