package dev.softmaxlosses.lab.train;

import java.util.Locale;

/**
 * Whether the margin family's class weights train in a Partial FC head ({@link PartialFcHead}) and how:
 * {@code --shards} and {@code --sample-rate}. {@link #OFF} is the plain head ({@link MarginHead}).
 *
 * @param shards     the class shards, from 1 to {@value #MAX_SHARDS}; 0 for {@link #OFF}
 * @param sampleRate the share of the negative class centres each step samples, in (0, 1]; positives are always kept
 */
public record PartialFc(int shards, double sampleRate) {

    /** The plain head: one weight matrix trained by the network's SGD. */
    public static final PartialFc OFF = new PartialFc(0, 1);

    /** The most shards the lab trains with: each runs on a thread, and a few cores are what the lab has. */
    public static final int MAX_SHARDS = 256;

    /**
     * @throws IllegalArgumentException naming {@code --shards} or {@code --sample-rate}
     */
    public PartialFc {
        if (shards < 0 || shards > MAX_SHARDS) {
            throw new IllegalArgumentException("--shards must be from 1 to " + MAX_SHARDS + ", got " + shards);
        }
        if (!(sampleRate > 0 && sampleRate <= 1)) {
            throw new IllegalArgumentException("--sample-rate must lie in (0, 1], got " + sampleRate);
        }
    }

    /** The options as given: {@link #OFF} when neither is, one shard or rate 1 for the one left out. */
    public static PartialFc of(Integer shards, Double sampleRate) {
        if (shards == null && sampleRate == null) {
            return OFF;
        }
        int k = shards == null ? 1 : shards;
        if (k < 1) {
            throw new IllegalArgumentException("--shards must be from 1 to " + MAX_SHARDS + ", got " + k);
        }
        return new PartialFc(k, sampleRate == null ? 1 : sampleRate);
    }

    /** The error for {@code --shards} or {@code --sample-rate} with the loss named {@code name}, not of the margin family. */
    public static String notMargin(String name) {
        return "--shards and --sample-rate train the class weights of the margin family in a Partial FC head; " + name
                + " is a loss on logits";
    }

    /** Whether the class weights train in a Partial FC head. */
    public boolean on() {
        return shards > 0;
    }

    @Override
    public String toString() {
        return on() ? String.format(Locale.ROOT, "%d shard%s, sample rate %s", shards, shards == 1 ? "" : "s",
                Double.toString(sampleRate).replaceAll("\\.0$", "")) : "off";
    }
}
