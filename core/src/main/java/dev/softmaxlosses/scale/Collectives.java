package dev.softmaxlosses.scale;

import dev.softmaxlosses.margin.RowState;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.function.BinaryOperator;

/**
 * The collective operations of one rank of a group of {@link #size()} ranks that run the same program
 * (SPMD, as MPI or {@code torch.distributed} run Partial FC): every rank calls the same operations in
 * the same order, and each call returns when every rank has made it. Every reduction is taken in rank
 * order {@code 0, 1, 2, ...} ({@code merge(merge(v0, v1), v2) ...}), so that its bits never depend on
 * which rank arrives first, nor on the number of threads or machines.
 *
 * <p>Bindings: {@link InProcessCollectives} (threads of one JVM, the reference and the tests); an MPI
 * or socket binding sends each value in its {@link Codec}'s bytes. {@link ShardRank} is a class-sharded
 * head written against this interface only; {@link ShardedHead} drives every shard from one place
 * instead (a driver sending each step to the owners of the shards, as a data grid with colocated
 * compute does). Both run the one step of {@link ShardWorker}.
 *
 * <p>A failure on one rank must reach every other: a binding makes the pending and later calls of the
 * other ranks throw (an {@link IllegalStateException} naming the failure) instead of waiting forever.
 */
public interface Collectives {

    /** This rank, in {@code [0, size())}. */
    int rank();

    /** The number of ranks, at least 1. */
    int size();

    /** Every rank's {@code local}, concatenated in rank order (the lengths may differ from rank to rank). */
    float[] allGather(float[] local);

    /** Every rank's {@code local}, concatenated in rank order (the lengths may differ from rank to rank). */
    int[] allGather(int[] local);

    /**
     * Every rank's {@code local} merged in rank order: {@code merge(...merge(merge(v0, v1), v2)..., v_{size-1})}.
     * {@code merge} may change and return its first argument; it must not keep or change its second.
     * Each rank gets its own copy of the result. {@code codec} is how a binding sends a value.
     */
    <T> T allReduce(T local, BinaryOperator<T> merge, Codec<T> codec);

    /**
     * The element-wise sum of every rank's {@code local} (each of length {@code sum(counts)}), taken in
     * rank order, of which this rank gets its slice: {@code counts[rank()]} values from
     * {@code counts[0] + ... + counts[rank() - 1]}.
     *
     * @throws IllegalArgumentException when {@code counts} has not {@link #size()} non-negative entries
     *                                  summing to {@code local.length}
     */
    float[] reduceScatter(float[] local, int[] counts);

    /** Returns when every rank has called it. */
    void barrier();

    /**
     * How a value travels between ranks: its bytes (big-endian, {@link DataOutput}'s), and back. A
     * binding that stays in one process may use it only to copy a value.
     */
    interface Codec<T> {
        void write(T value, DataOutput out) throws IOException;

        T read(DataInput in) throws IOException;

        /** The number of bytes {@link #write} writes for {@code value}. */
        long bytes(T value);

        /** {@code float[]}: its length, then its values ({@code 4 + 4 length} bytes). */
        Codec<float[]> FLOATS = new Codec<>() {
            @Override
            public void write(float[] value, DataOutput out) throws IOException {
                out.writeInt(value.length);
                for (float v : value) {
                    out.writeFloat(v);
                }
            }

            @Override
            public float[] read(DataInput in) throws IOException {
                float[] value = new float[requireLength(in.readInt())];
                for (int i = 0; i < value.length; i++) {
                    value[i] = in.readFloat();
                }
                return value;
            }

            @Override
            public long bytes(float[] value) {
                return 4 + 4L * value.length;
            }
        };

        /** {@code int[]}: its length, then its values ({@code 4 + 4 length} bytes). */
        Codec<int[]> INTS = new Codec<>() {
            @Override
            public void write(int[] value, DataOutput out) throws IOException {
                out.writeInt(value.length);
                for (int v : value) {
                    out.writeInt(v);
                }
            }

            @Override
            public int[] read(DataInput in) throws IOException {
                int[] value = new int[requireLength(in.readInt())];
                for (int i = 0; i < value.length; i++) {
                    value[i] = in.readInt();
                }
                return value;
            }

            @Override
            public long bytes(int[] value) {
                return 4 + 4L * value.length;
            }
        };

        /** {@code double[]}: its length, then its values ({@code 4 + 8 length} bytes). */
        Codec<double[]> DOUBLES = new Codec<>() {
            @Override
            public void write(double[] value, DataOutput out) throws IOException {
                out.writeInt(value.length);
                for (double v : value) {
                    out.writeDouble(v);
                }
            }

            @Override
            public double[] read(DataInput in) throws IOException {
                double[] value = new double[requireLength(in.readInt())];
                for (int i = 0; i < value.length; i++) {
                    value[i] = in.readDouble();
                }
                return value;
            }

            @Override
            public long bytes(double[] value) {
                return 4 + 8L * value.length;
            }
        };

        /** {@link RowState}'s portable form ({@code 4 + 32 N} bytes). */
        Codec<RowState> ROW_STATE = new Codec<>() {
            @Override
            public void write(RowState value, DataOutput out) throws IOException {
                value.writeTo(out);
            }

            @Override
            public RowState read(DataInput in) throws IOException {
                return RowState.readFrom(in);
            }

            @Override
            public long bytes(RowState value) {
                return 4 + 32L * value.rows();
            }
        };

        private static int requireLength(int length) throws IOException {
            if (length < 0) {
                throw new IOException("an array of " + length + " values");
            }
            return length;
        }
    }
}
