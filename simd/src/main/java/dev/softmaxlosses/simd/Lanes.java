package dev.softmaxlosses.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shapes and constants the SIMD kernels share. Only constants: a vector passed to or
 * returned from a method the JIT does not inline is boxed, so no method here takes or makes one.
 */
final class Lanes {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Doubles in a vector of the same size: a float vector widens into two of them. */
    static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());
    /** Ints in a vector of the same size: as many lanes as {@link #F}, for gather indices and labels. */
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Lane i holds i. */
    static final IntVector LANE_INDEX = IntVector.fromArray(I, laneIndices(), 0);
    /**
     * The shuffles that add a vector's double lanes by a fixed tree: step k adds lanes {@code i} and
     * {@code i ^ (length / 2^(k + 1))}, so that a sum does not depend on how a reduction is compiled.
     */
    static final VectorShuffle<Double>[] FOLD = foldShuffles(D);

    private Lanes() {}

    private static int[] laneIndices() {
        int[] lanes = new int[F.length()];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = i;
        }
        return lanes;
    }

    @SuppressWarnings("unchecked")
    private static <E> VectorShuffle<E>[] foldShuffles(VectorSpecies<E> species) {
        int steps = Integer.numberOfTrailingZeros(species.length());
        VectorShuffle<E>[] shuffles = new VectorShuffle[steps];
        for (int k = 0, step = species.length() / 2; step >= 1; k++, step /= 2) {
            int distance = step;
            shuffles[k] = VectorShuffle.fromOp(species, i -> i ^ distance);
        }
        return shuffles;
    }
}
