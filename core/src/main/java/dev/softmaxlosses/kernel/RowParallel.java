package dev.softmaxlosses.kernel;

import java.util.stream.IntStream;

/**
 * Runs a per-row computation over a batch, in parallel above a size threshold, and sums the rows'
 * values in a fixed order, so that the result has the same bits whatever the number of threads.
 *
 * <p>Rows are cut into chunks of {@value #CHUNK_ROWS}; each chunk's rows are summed in order, then the
 * chunk sums in order. The partition depends only on the number of rows, never on the threads.
 * A row that throws stops its chunk; the error of the earliest failing chunk is rethrown, so the
 * message is the one the serial order gives. {@code -Dsoftmaxlosses.parallel=false} keeps everything
 * on the calling thread.
 */
public final class RowParallel {

    /** Rows per chunk of the fixed reduction tree. */
    public static final int CHUNK_ROWS = 16;

    /** Below this many values a batch is not worth a hand-off to the pool (tens of microseconds). */
    public static final long PARALLEL_THRESHOLD = 1L << 17;

    private static final boolean ENABLED =
            !"false".equalsIgnoreCase(System.getProperty("softmaxlosses.parallel", "true"));

    /** The value of one row. */
    @FunctionalInterface
    public interface RowFunction {
        double apply(int row);
    }

    private RowParallel() {}

    /** Whether a batch of this size is split across threads. */
    public static boolean parallel(int rows, int valuesPerRow) {
        return ENABLED && rows > CHUNK_ROWS && (long) rows * valuesPerRow >= PARALLEL_THRESHOLD;
    }

    /** The summed value of the rows {@code start} (inclusive) to {@code end} (exclusive) of one chunk. */
    @FunctionalInterface
    public interface ChunkFunction {
        double apply(int start, int end);
    }

    /** Sums {@code f} over the rows, forcing the choice: the same bits either way. */
    public static double sum(int rows, RowFunction f, boolean inParallel) {
        return sumChunks(rows, (start, end) -> {
            double part = 0;
            for (int n = start; n < end; n++) {
                part += f.apply(n);
            }
            return part;
        }, inParallel);
    }

    /**
     * Sums {@code f} over the chunks, in order, forcing the choice: for a computation that does a chunk's
     * rows together. Each chunk runs on one thread.
     */
    public static double sumChunks(int rows, ChunkFunction f, boolean inParallel) {
        int chunks = (rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
        if (!inParallel) {
            double total = 0;
            for (int k = 0; k < chunks; k++) {
                total += chunk(k, rows, f);
            }
            return total;
        }
        double[] partial = new double[chunks];
        RuntimeException[] errors = new RuntimeException[chunks];
        IntStream.range(0, chunks).parallel().forEach(k -> {
            try {
                partial[k] = chunk(k, rows, f);
            } catch (RuntimeException e) {
                errors[k] = e;
            }
        });
        // The error of the earliest row, as the serial order would report it, whatever finished first.
        for (RuntimeException e : errors) {
            if (e != null) {
                throw e;
            }
        }
        double total = 0;
        for (double p : partial) {
            total += p;
        }
        return total;
    }

    private static double chunk(int k, int rows, ChunkFunction f) {
        int start = k * CHUNK_ROWS;
        return f.apply(start, Math.min(rows, start + CHUNK_ROWS));
    }
}
