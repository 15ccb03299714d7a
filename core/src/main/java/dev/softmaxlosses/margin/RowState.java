package dev.softmaxlosses.margin;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

/**
 * The online softmax state of each row of a batch over a range of classes: what a class shard sends
 * so that the softmax over all classes can be finished without any shard holding them all
 * (Milakov and Gimelshein 2018, "Online normalizer calculation for softmax"; Partial FC's
 * all-reduce of each row's maximum and sum of exponentials). For row {@code r} over the classes seen:
 *
 * <ul>
 *   <li>{@link #max(int)}: the largest final logit {@code m} ({@code -Infinity} when no class was seen);</li>
 *   <li>{@link #sumExp(int)}: {@code sum_j exp(f_j - m)};</li>
 *   <li>{@link #targetLogit(int)}: the target's final logit (with its margin) when the range holds the
 *       target, NaN otherwise (and for an ignored row);</li>
 *   <li>{@link #weightedLogitSum(int)}: {@code sum_j w_j f_j} (class weights {@code w}, all ones
 *       without them), which label smoothing needs; 0 without label smoothing.</li>
 * </ul>
 *
 * {@link #merge} combines the states of disjoint class ranges exactly as the online softmax folds
 * blocks: {@code m = max(m_a, m_b)}, {@code S = S_a exp(m_a - m) + S_b exp(m_b - m)}, the target from
 * whichever range holds it, the weighted sums added. Merging is commutative and associative up to
 * rounding; merge in a fixed order for the same bits every run. The state is plain data: it holds no
 * reference to the loss or the batch, and {@link #writeTo}/{@link #readFrom} give a portable binary
 * form ({@code 4 + 32 N} bytes: the row count, then per row the four values as IEEE doubles, big-endian).
 */
public final class RowState {

    private int rows;
    private double[] max = new double[0];
    private double[] sumExp = max;
    private double[] targetLogit = max;
    private double[] weightedLogitSum = max;

    /** The state of {@code rows} rows that have seen no class yet. */
    public RowState(int rows) {
        if (rows < 0) {
            throw new IllegalArgumentException("rows must be >= 0, got " + rows);
        }
        reset(rows);
    }

    /**
     * Makes this the state of {@code rows} rows that have seen no class yet, in the arrays it has when
     * they are long enough: the engine's workspace reuses one state from call to call.
     */
    void reset(int rows) {
        if (max.length < rows) {
            max = new double[rows];
            sumExp = new double[rows];
            targetLogit = new double[rows];
            weightedLogitSum = new double[rows];
        }
        this.rows = rows;
        Arrays.fill(max, 0, rows, Double.NEGATIVE_INFINITY);
        Arrays.fill(sumExp, 0, rows, 0);
        Arrays.fill(targetLogit, 0, rows, Double.NaN);
        Arrays.fill(weightedLogitSum, 0, rows, 0);
    }

    public int rows() { return rows; }
    public double max(int r) { return max[r]; }
    public double sumExp(int r) { return sumExp[r]; }
    public double targetLogit(int r) { return targetLogit[r]; }
    public double weightedLogitSum(int r) { return weightedLogitSum[r]; }

    /** {@code m + log(S)}: the row's log-sum-exp over the classes seen. */
    public double logSumExp(int r) {
        return max[r] + Math.log(sumExp[r]);
    }

    /** Folds a block of classes into row {@code r}: its largest logit and its exponentials' sum relative to {@code newMax}. */
    void fold(int r, double newMax, double blockSum, double blockWeightedLogitSum) {
        sumExp[r] = sumExp[r] * Math.exp(max[r] - newMax) + blockSum;
        max[r] = newMax;
        weightedLogitSum[r] += blockWeightedLogitSum;
    }

    void setTargetLogit(int r, double logit) {
        targetLogit[r] = logit;
    }

    /**
     * Folds {@code other}, the state of the same rows over a disjoint class range, into this one.
     *
     * @throws IllegalArgumentException when the row counts differ, or both states hold a row's target
     */
    public RowState merge(RowState other) {
        if (other.rows() != rows()) {
            throw new IllegalArgumentException("cannot merge the states of " + other.rows() + " and " + rows() + " rows");
        }
        for (int r = 0; r < rows(); r++) {
            if (!Double.isNaN(other.targetLogit[r])) {
                if (!Double.isNaN(targetLogit[r])) {
                    throw new IllegalArgumentException("both states hold the target of row " + r
                            + ": their class ranges overlap");
                }
                targetLogit[r] = other.targetLogit[r];
            }
            weightedLogitSum[r] += other.weightedLogitSum[r];
            if (other.max[r] == Double.NEGATIVE_INFINITY) {
                continue;
            }
            double newMax = Math.max(max[r], other.max[r]);
            sumExp[r] = (max[r] == Double.NEGATIVE_INFINITY ? 0 : sumExp[r] * Math.exp(max[r] - newMax))
                    + other.sumExp[r] * Math.exp(other.max[r] - newMax);
            max[r] = newMax;
        }
        return this;
    }

    /** Writes the state in its portable binary form. */
    public void writeTo(DataOutput out) throws IOException {
        out.writeInt(rows());
        for (int r = 0; r < rows(); r++) {
            out.writeDouble(max[r]);
            out.writeDouble(sumExp[r]);
            out.writeDouble(targetLogit[r]);
            out.writeDouble(weightedLogitSum[r]);
        }
    }

    /**
     * Reads a state written by {@link #writeTo}.
     *
     * @throws IOException for a negative row count or a truncated input
     */
    public static RowState readFrom(DataInput in) throws IOException {
        int rows = in.readInt();
        if (rows < 0) {
            throw new IOException("a row state of " + rows + " rows");
        }
        RowState state = new RowState(rows);
        for (int r = 0; r < rows; r++) {
            state.max[r] = in.readDouble();
            state.sumExp[r] = in.readDouble();
            state.targetLogit[r] = in.readDouble();
            state.weightedLogitSum[r] = in.readDouble();
        }
        return state;
    }
}
