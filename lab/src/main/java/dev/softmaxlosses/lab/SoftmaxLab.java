package dev.softmaxlosses.lab;

import dev.softmaxlosses.Vectorization;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The {@code softmax-lab} command line: {@code demo}, {@code train}, {@code compare}, {@code download},
 * {@code eval}, {@code oneshot}, {@code summarize} and {@code scale}.
 *
 * <p>Whatever happens, the user gets one line: a mistake of theirs is an {@code error:} line and exit
 * status {@value #EXIT_BAD_INPUT}; running out of memory says how much the JVM may use and how to give
 * it more, also with status {@value #EXIT_BAD_INPUT}; a bug in the lab is one {@code error: internal
 * error} line and status {@value #EXIT_INTERNAL_ERROR}, with the stack trace only when
 * {@code SOFTMAX_LAB_DEBUG=1}. Standard output and error are UTF-8, and a failure to write standard
 * output is an error, not a silent loss.
 */
@Command(name = "softmax-lab", mixinStandardHelpOptions = true, version = "softmax-lab 0.1.0",
        description = "Computes, trains with and compares softmax-based losses.",
        subcommands = {DemoCommand.class, TrainCommand.class, CompareCommand.class, DownloadCommand.class,
                EvalCommand.class, OneShotCommand.class, SummarizeCommand.class, ScaleCommand.class,
                CommandLine.HelpCommand.class})
public final class SoftmaxLab implements Runnable {

    /** Exit status for bad input: a clear {@code error:} line and no output written. */
    public static final int EXIT_BAD_INPUT = 2;
    /** Exit status for a bug: still one line, never a stack trace. */
    public static final int EXIT_INTERNAL_ERROR = 3;

    /** The environment variable that adds stack traces to internal errors. */
    static final String DEBUG_VARIABLE = "SOFTMAX_LAB_DEBUG";

    // Held so that the level set below is not lost when the logger is collected.
    private static final Logger LIBRARY_LOG = Logger.getLogger("dev.softmaxlosses");

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /** Standard output as bytes, for the commands that write JSON. */
    private CheckedOutput stdout;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        PrintWriter err = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.err),
                StandardCharsets.UTF_8), true);
        System.exit(run(args, new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16), err));
    }

    /**
     * Runs the command line with the given streams and returns the exit status.
     *
     * @param stdout where results go, as UTF-8 bytes; it is flushed, not closed
     * @param err    where messages go
     */
    public static int run(String[] args, OutputStream stdout, PrintWriter err) {
        // Plots are drawn off screen; without this a machine with a display would start AWT's toolkit.
        System.setProperty("java.awt.headless", "true");
        quietLibraryLog();
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> reportCrash(err, e, "in thread " + thread.getName()));
        SoftmaxLab lab = new SoftmaxLab();
        lab.stdout = new CheckedOutput(stdout);
        PrintWriter out = new PrintWriter(new OutputStreamWriter(lab.stdout, StandardCharsets.UTF_8));
        int status;
        try {
            status = lab.execute(args, out, err);
        } catch (OutOfMemoryError e) {
            err.println("error: " + outOfMemory());
            status = EXIT_BAD_INPUT;
        } catch (RuntimeException | Error e) {
            status = reportCrash(err, e, null);
        }
        out.flush();
        IOException failure = lab.stdout.failure();
        if (failure != null && status != EXIT_INTERNAL_ERROR) {
            if (status != EXIT_BAD_INPUT) {
                err.println("error: " + cannotWriteStdout(failure));
            }
            status = EXIT_BAD_INPUT;
        }
        err.flush();
        return status;
    }

    private int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(this);
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, a) -> badInput(e.getCommandLine().getErr(), e.getMessage()
                + " (see " + e.getCommandLine().getCommandSpec().qualifiedName() + " --help)"));
        cli.setExecutionExceptionHandler((e, c, parsed) -> e instanceof BadInputException || e instanceof IllegalArgumentException
                ? badInput(c.getErr(), e.getMessage()) : reportCrash(c.getErr(), e, null));
        String kernels = kernelProblem();
        if (kernels != null) {
            return badInput(err, kernels);
        }
        return cli.execute(args);
    }

    /**
     * One line for what should not happen: an out-of-memory error, or a bug (exit status
     * {@value #EXIT_INTERNAL_ERROR}); the stack trace only when {@code SOFTMAX_LAB_DEBUG=1}.
     */
    static int reportCrash(PrintWriter err, Throwable e, String where) {
        synchronized (err) {
            if (e instanceof OutOfMemoryError) {
                err.println("error: " + outOfMemory());
                err.flush();
                return EXIT_BAD_INPUT;
            }
            err.println("error: internal error" + (where == null ? "" : " " + where) + ", please report it: "
                    + Messages.oneLine(String.valueOf(e)) + (debug() ? "" : " (" + DEBUG_VARIABLE + "=1 shows where)"));
            if (debug()) {
                StringWriter trace = new StringWriter();
                e.printStackTrace(new PrintWriter(trace));
                err.print(trace);
            }
            err.flush();
            return EXIT_INTERNAL_ERROR;
        }
    }

    /** What to say when the heap runs out: how much there was and how to get more. */
    static String outOfMemory() {
        return outOfMemory(null);
    }

    /** As {@link #outOfMemory()}, saying what the lab was doing ({@code "reading logits"}). */
    static String outOfMemory(String doing) {
        long mb = Runtime.getRuntime().maxMemory() >> 20;
        return String.format(Locale.ROOT, "out of memory%s: the input or the settings need more than the %d MB the JVM may"
                + " use; use smaller ones, or give it more memory with SOFTMAX_LAB_JAVA_OPTS=-Xmx%dg",
                doing == null ? "" : " " + doing, mb, Math.max(2, 2 * ((mb + 1023) >> 10)));
    }

    /**
     * Refuses work that needs more memory than the JVM has left, before it starts: {@code what} needs
     * about {@code bytes}; {@code smaller} says how to need less.
     */
    static void requireMemory(long bytes, String what, String smaller) {
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (bytes > available) {
            // What is in use may be garbage: count again after a collection before refusing.
            System.gc();
            available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        }
        if (bytes > available) {
            throw new BadInputException(String.format(Locale.ROOT, "%s needs about %d MB, more than the %d MB the JVM has"
                    + " left (of %d MB); %s, or give the JVM more memory with SOFTMAX_LAB_JAVA_OPTS=-Xmx%dg", what,
                    bytes >> 20, available >> 20, rt.maxMemory() >> 20, smaller, Math.max(2, 2 * ((bytes >> 30) + 1))));
        }
    }

    /** The error for a failed write to standard output. */
    static String cannotWriteStdout(IOException e) {
        return "cannot write to standard output: " + Messages.reason(e);
    }

    /** Standard output as bytes: for {@code eval}'s JSON. */
    CheckedOutput stdout() {
        return stdout;
    }

    /**
     * Fails when something written to standard output through {@code out} was lost: the lab checks
     * this after its first line, before any long work.
     */
    void requireWorkingStdout(PrintWriter out) {
        out.flush();
        IOException failure = stdout.failure();
        if (failure != null || out.checkError()) {
            throw new BadInputException(failure == null ? "cannot write to standard output"
                    : cannotWriteStdout(failure));
        }
    }

    /**
     * An invalid {@code -Dsoftmaxlosses.vectorization}, said before any work; null when it is unset
     * (the kernels then always load, falling back to the scalar ones) or the kernels load.
     */
    private static String kernelProblem() {
        if (System.getProperty(Vectorization.PROPERTY) == null) {
            return null;
        }
        try {
            Vectorization.kernels();
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    /** Says {@code error: MESSAGE} on one safe line ({@link Messages#oneLine}) and gives the bad-input status. */
    static int badInput(PrintWriter err, String message) {
        err.println("error: " + Messages.oneLine(message));
        err.flush();
        return EXIT_BAD_INPUT;
    }

    private static boolean debug() {
        String v = System.getenv(DEBUG_VARIABLE);
        return v != null && !v.isBlank() && !v.equals("0");
    }

    /** The kernel provider's one-line INFO message is for library users; the lab's stderr is for errors. */
    private static void quietLibraryLog() {
        if (System.getProperty("softmaxlab.verbose") == null) {
            LIBRARY_LOG.setLevel(Level.WARNING);
        }
    }
}
