package dev.softmaxlosses.scale;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Phaser;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BinaryOperator;
import java.util.function.Function;

/**
 * {@link Collectives} between threads of one JVM: one endpoint per rank, the endpoints of a group
 * sharing one rendezvous (a {@link Phaser} of {@code size} parties and one slot per rank). Each call
 * puts this rank's value, in its bytes, in its slot, waits for every rank, reads every slot, waits
 * again (so that the slots may be reused), then folds the values in rank order by itself: every rank
 * computes the same bits, and none shares an object with another. {@link #bytesSent()} counts the
 * bytes this rank has put in its slot: what an MPI binding's rank would send.
 *
 * <p><b>Failures.</b> {@link #abort} (or a body of {@link #run} that throws) terminates the group's
 * phaser: every rank waiting in a call, and every later call, throws an {@link IllegalStateException}
 * whose cause is the first failure, instead of waiting forever. A thread interrupted while it waits
 * aborts the group too.
 */
public final class InProcessCollectives implements Collectives {

    /** What the endpoints of one group share. */
    private static final class Rendezvous {
        final int size;
        final Phaser phaser;
        final AtomicReferenceArray<byte[]> slots;
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Rendezvous(int size) {
            this.size = size;
            this.phaser = new Phaser(size);
            this.slots = new AtomicReferenceArray<>(size);
        }
    }

    private final Rendezvous group;
    private final int rank;
    private long bytesSent;

    private InProcessCollectives(Rendezvous group, int rank) {
        this.group = group;
        this.rank = rank;
    }

    /**
     * The {@code size} endpoints of a new group, endpoint {@code i} of rank {@code i}; each is used by
     * one thread at a time.
     *
     * @throws IllegalArgumentException for a size below 1
     */
    public static List<InProcessCollectives> group(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("a group needs at least 1 rank, got size = " + size);
        }
        Rendezvous shared = new Rendezvous(size);
        List<InProcessCollectives> endpoints = new ArrayList<>(size);
        for (int r = 0; r < size; r++) {
            endpoints.add(new InProcessCollectives(shared, r));
        }
        return Collections.unmodifiableList(endpoints);
    }

    /**
     * Runs {@code body} once per rank of a new group of {@code size}, each on a thread of its own, and
     * returns their results in rank order. When a body throws, the group is aborted (the others' calls
     * throw) and, once every thread has ended, the first failure is thrown: as it is when it is a
     * {@link RuntimeException} or an {@link Error}, else in an {@link IllegalStateException}.
     *
     * @throws IllegalArgumentException for a size below 1
     */
    public static <T> List<T> run(int size, Function<? super InProcessCollectives, ? extends T> body) {
        Objects.requireNonNull(body, "body");
        List<InProcessCollectives> endpoints = group(size);
        List<T> results = new ArrayList<>(Collections.nCopies(size, null));
        Thread[] threads = new Thread[size];
        for (int r = 0; r < size; r++) {
            InProcessCollectives endpoint = endpoints.get(r);
            int at = r;
            threads[r] = new Thread(() -> {
                try {
                    T result = body.apply(endpoint);
                    synchronized (results) {
                        results.set(at, result);
                    }
                } catch (Throwable t) {
                    endpoint.abort(t);
                }
            }, "collectives-rank-" + r);
            threads[r].start();
        }
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                    endpoints.get(0).abort(e);
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable failure = endpoints.get(0).group.failure.get();
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException("a rank failed: " + failure, failure);
        }
        synchronized (results) {
            return new ArrayList<>(results);
        }
    }

    /**
     * Aborts the group: the first cause is kept, and every rank's pending and later calls throw an
     * {@link IllegalStateException} with it as their cause.
     */
    public void abort(Throwable cause) {
        group.failure.compareAndSet(null, Objects.requireNonNull(cause, "cause"));
        group.phaser.forceTermination();
    }

    /** The bytes this rank has sent so far: the sum of its values' sizes in their codecs. */
    public long bytesSent() {
        return bytesSent;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return group.size;
    }

    @Override
    public float[] allGather(float[] local) {
        Objects.requireNonNull(local, "local");
        byte[][] all = exchange(floatBytes(local, 0, local.length));
        int total = 0;
        for (byte[] b : all) {
            total = Math.addExact(total, b.length / 4);
        }
        float[] out = new float[total];
        int at = 0;
        for (byte[] b : all) {
            ByteBuffer.wrap(b).asFloatBuffer().get(out, at, b.length / 4);
            at += b.length / 4;
        }
        return out;
    }

    @Override
    public int[] allGather(int[] local) {
        Objects.requireNonNull(local, "local");
        ByteBuffer mine = ByteBuffer.allocate(Math.multiplyExact(4, local.length));
        mine.asIntBuffer().put(local);
        byte[][] all = exchange(mine.array());
        int total = 0;
        for (byte[] b : all) {
            total = Math.addExact(total, b.length / 4);
        }
        int[] out = new int[total];
        int at = 0;
        for (byte[] b : all) {
            ByteBuffer.wrap(b).asIntBuffer().get(out, at, b.length / 4);
            at += b.length / 4;
        }
        return out;
    }

    @Override
    public <T> T allReduce(T local, BinaryOperator<T> merge, Codec<T> codec) {
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(merge, "merge");
        Objects.requireNonNull(codec, "codec");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            codec.write(local, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[][] all = exchange(bytes.toByteArray());
        T acc = null;
        for (byte[] b : all) {
            T value;
            try {
                value = codec.read(new DataInputStream(new ByteArrayInputStream(b)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            acc = acc == null ? value : merge.apply(acc, value);
        }
        return acc;
    }

    @Override
    public float[] reduceScatter(float[] local, int[] counts) {
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(counts, "counts");
        if (counts.length != size()) {
            throw new IllegalArgumentException("counts has " + counts.length + " entries, expected one per rank (" + size() + ")");
        }
        long sum = 0;
        int from = 0;
        for (int r = 0; r < counts.length; r++) {
            if (counts[r] < 0) {
                throw new IllegalArgumentException("counts[" + r + "] = " + counts[r] + " is negative");
            }
            if (r < rank) {
                from += counts[r];
            }
            sum += counts[r];
        }
        if (sum != local.length) {
            throw new IllegalArgumentException("counts sum to " + sum + ", expected the length of local (" + local.length + ")");
        }
        // Every rank's whole array travels; an MPI binding would send each rank only its slice.
        byte[][] all = exchange(floatBytes(local, 0, local.length));
        int count = counts[rank];
        float[] out = new float[count];
        float[] part = new float[count];
        for (int r = 0; r < all.length; r++) {
            if (all[r].length != 4L * local.length) {
                throw new IllegalArgumentException("rank " + r + " reduces " + all[r].length / 4 + " values, this rank "
                        + local.length);
            }
            ByteBuffer.wrap(all[r], 4 * from, 4 * count).asFloatBuffer().get(part);
            for (int i = 0; i < count; i++) {
                out[i] = r == 0 ? part[i] : out[i] + part[i];
            }
        }
        return out;
    }

    @Override
    public void barrier() {
        exchange(new byte[0]);
    }

    private static byte[] floatBytes(float[] values, int from, int count) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(4, count));
        b.asFloatBuffer().put(values, from, count);
        return b.array();
    }

    /** Puts this rank's bytes in its slot and returns every rank's, in rank order. */
    private byte[][] exchange(byte[] mine) {
        requireAlive();
        bytesSent += mine.length;
        group.slots.set(rank, mine);
        await();
        byte[][] all = new byte[group.size][];
        for (int r = 0; r < all.length; r++) {
            all[r] = group.slots.get(r);
        }
        await();
        return all;
    }

    private void await() {
        Phaser phaser = group.phaser;
        int phase = phaser.arrive();
        if (phase >= 0) {
            try {
                phase = phaser.awaitAdvanceInterruptibly(phase);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                abort(e);
            }
        }
        requireAlive();
    }

    private void requireAlive() {
        Throwable failure = group.failure.get();
        if (failure != null || group.phaser.isTerminated()) {
            throw new IllegalStateException("rank " + rank + " of " + group.size + ": the group was aborted"
                    + (failure == null ? "" : " (" + failure + ")"), failure);
        }
    }
}
