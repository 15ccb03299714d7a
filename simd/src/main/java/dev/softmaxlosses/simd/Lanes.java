package dev.softmaxlosses.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shapes the SIMD kernels share: the species, the tail masks and the loads and stores of a
 * row's last partial vector, and the fixed-order folds of lanes into a scalar. A tail is loaded as a
 * whole vector when the array goes on past it (as it does for every row of a batch but the last) and
 * the lanes past the row are replaced in registers by the operation's identity: a masked load costs
 * several nanoseconds, which short rows (C = 10) cannot afford. Only at the very end of an array is
 * the load masked; stores of a tail are masked. Every helper here is a few lines, small enough to be
 * inlined wherever it is called (a vector passed to a method that is not inlined is boxed).
 */
final class Lanes {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Doubles in a vector of the same size: a float vector widens into two of them. */
    static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());
    static final FloatVector ZERO = FloatVector.zero(F);
    static final FloatVector NEG_INF = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
    /** Lane i holds i: compared with a label it marks the target's lane. */
    static final FloatVector IOTA = FloatVector.fromArray(F, iota(), 0);
    /** {@code TAIL[r]}: the first r lanes, made once rather than on every tail. */
    static final VectorMask<Float>[] TAIL = tailMasks();
    static final VectorShuffle<Double>[] FOLD = foldShuffles(D);
    static final VectorShuffle<Float>[] FOLD_FLOAT = foldShuffles(F);

    static float[] iota() {
        float[] lanes = new float[F.length()];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = i;
        }
        return lanes;
    }

    @SuppressWarnings("unchecked")
    static VectorMask<Float>[] tailMasks() {
        VectorMask<Float>[] masks = new VectorMask[F.length() + 1];
        for (int r = 0; r <= F.length(); r++) {
            masks[r] = F.indexInRange(0, r);
        }
        return masks;
    }

    private Lanes() {}

    /** The {@code r < F.length()} values at {@code a[idx..]}, the other lanes set to {@code identity}. */
    static FloatVector tail(float[] a, int idx, int r, FloatVector identity) {
        VectorMask<Float> m = TAIL[r];
        if (idx + F.length() <= a.length) {
            return identity.blend(FloatVector.fromArray(F, a, idx), m);
        }
        return FloatVector.fromArray(F, a, idx, m).blend(identity, m.not());
    }

    /** A row of {@code len <= F.length()} values, the lanes past it set to {@code identity}. */
    static FloatVector shortRow(float[] a, int off, int len, FloatVector identity) {
        return len == F.length() ? FloatVector.fromArray(F, a, off) : tail(a, off, len, identity);
    }

    static void storeShortRow(FloatVector v, float[] a, int off, int len) {
        if (len == F.length()) {
            v.intoArray(a, off);
        } else {
            v.intoArray(a, off, TAIL[len]);
        }
    }

    /**
     * Adds the lanes by a fixed tree (each step adds the lanes {@code i} and {@code i ^ step}), so that
     * the result does not depend on how a reduction is compiled, and without extracting lanes by a
     * variable index, which is slow. Small enough to be inlined wherever it is called (a vector
     * passed to a method that is not inlined is boxed).
     */
    static double foldLanes(DoubleVector lanes) {
        for (VectorShuffle<Double> swap : FOLD) {
            lanes = lanes.add(lanes.rearrange(swap));
        }
        return lanes.lane(0);
    }

    /** The float lanes added by a fixed tree, as {@link #foldLanes} does for doubles. */
    static float foldFloatLanes(FloatVector lanes) {
        for (VectorShuffle<Float> swap : FOLD_FLOAT) {
            lanes = lanes.add(lanes.rearrange(swap));
        }
        return lanes.lane(0);
    }

    /** The shuffles of a fold: step k swaps the lanes {@code i} and {@code i ^ (length / 2^(k + 1))}. */
    @SuppressWarnings("unchecked")
    static <E> VectorShuffle<E>[] foldShuffles(VectorSpecies<E> species) {
        int steps = Integer.numberOfTrailingZeros(species.length());
        VectorShuffle<E>[] shuffles = new VectorShuffle[steps];
        for (int k = 0, step = species.length() / 2; step >= 1; k++, step /= 2) {
            int distance = step;
            shuffles[k] = VectorShuffle.fromOp(species, i -> i ^ distance);
        }
        return shuffles;
    }
}
