package dev.softmaxlosses.lab.scale;

import java.util.SplittableRandom;

/**
 * Synthetic identities for training a margin head alone ({@code softmax-lab scale}): {@code C} class
 * centres drawn uniformly on the unit sphere of {@code D} dimensions, and samples around them.
 *
 * <p>Nothing is stored: class {@code c}'s centre is the normalised vector of {@code D} standard
 * Gaussians from a stream seeded by {@code (seed, c)}, made again each time a sample needs it, so a
 * million classes cost no memory. A sample of class {@code c} is {@code u + noise g / sqrt(D)} with
 * {@code u} the centre and {@code g} standard Gaussian ({@code ||g|| / sqrt(D)} is about 1, so the
 * sample lies about {@code atan(noise)} from its centre: 0.5 is about 27 degrees), normalised, then
 * scaled to a norm drawn uniformly from {@code norm (1 +- normSpread)}: the losses that read the
 * feature's norm (AdaFace, MagFace) see varying norms when {@code normSpread > 0}.
 *
 * <p>The batch of step {@code t} depends only on {@code (seed, t)}: a run resumed from a checkpoint at
 * step {@code t} draws the batches an uninterrupted run would have drawn. The held-out batch comes
 * from a stream of its own.
 */
public final class SyntheticIdentities {

    private static final long BATCH_SALT = 0x5bd1e995_6a09e667L;
    private static final long HELD_OUT_SALT = 0x3c6ef372_a54ff53aL;

    private final int classes;
    private final int dim;
    private final long seed;
    private final double noise;
    private final double norm;
    private final double normSpread;

    /**
     * @throws IllegalArgumentException for classes or dim below 1, a negative or non-finite noise, a
     *                                  norm not positive, a norm spread outside [0, 1)
     */
    public SyntheticIdentities(int classes, int dim, long seed, double noise, double norm, double normSpread) {
        if (classes < 1 || dim < 1) {
            throw new IllegalArgumentException("classes and dim must be >= 1, got " + classes + " and " + dim);
        }
        if (!(noise >= 0) || Double.isInfinite(noise)) {
            throw new IllegalArgumentException("--noise must be finite and >= 0, got " + noise);
        }
        if (!(norm > 0) || Double.isInfinite(norm)) {
            throw new IllegalArgumentException("--feature-norm must be finite and > 0, got " + norm);
        }
        if (!(normSpread >= 0 && normSpread < 1)) {
            throw new IllegalArgumentException("--norm-spread must be in [0, 1), got " + normSpread);
        }
        this.classes = classes;
        this.dim = dim;
        this.seed = seed;
        this.noise = noise;
        this.norm = norm;
        this.normSpread = normSpread;
    }

    public int classes() { return classes; }
    public int dim() { return dim; }

    /** Class {@code c}'s centre (unit norm) into {@code out} at {@code offset}. */
    public void centre(int c, float[] out, int offset) {
        SplittableRandom r = new SplittableRandom(mix(seed, c));
        double sum = 0;
        for (int k = 0; k < dim; k++) {
            double g = r.nextGaussian();
            out[offset + k] = (float) g;
            sum += g * g;
        }
        float inv = (float) (1 / Math.sqrt(Math.max(sum, 1e-300)));
        for (int k = 0; k < dim; k++) {
            out[offset + k] *= inv;
        }
    }

    /** The training batch of step {@code step}: {@code labels.length} samples into {@code features} ({@code N x D}). */
    public void batch(long step, float[] features, int[] labels) {
        draw(new SplittableRandom(mix(seed ^ BATCH_SALT, step)), features, labels);
    }

    /** The held-out batch, from a stream no training step uses. */
    public void heldOut(float[] features, int[] labels) {
        draw(new SplittableRandom(mix(seed ^ HELD_OUT_SALT, 0)), features, labels);
    }

    private void draw(SplittableRandom r, float[] features, int[] labels) {
        int n = labels.length;
        if (features.length != (long) n * dim) {
            throw new IllegalArgumentException("features has " + features.length + " values, expected " + (long) n * dim);
        }
        double spread = noise / Math.sqrt(dim);
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(classes);
            labels[i] = c;
            int off = i * dim;
            centre(c, features, off);
            double sum = 0;
            for (int k = 0; k < dim; k++) {
                double v = features[off + k] + spread * r.nextGaussian();
                features[off + k] = (float) v;
                sum += v * v;
            }
            double length = norm * (1 + normSpread * (2 * r.nextDouble() - 1));
            double scale = length / Math.sqrt(Math.max(sum, 1e-300));
            for (int k = 0; k < dim; k++) {
                features[off + k] = (float) (features[off + k] * scale);
            }
        }
    }

    /** SplitMix64's finaliser of {@code a} and {@code b}: a seed per (seed, index). */
    static long mix(long a, long b) {
        long z = a + 0x9e3779b97f4a7c15L * (b + 1);
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
