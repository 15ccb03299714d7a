package dev.softmaxlosses.lab.train;

/**
 * How the learning rate falls during training.
 * <ul>
 *   <li>{@code STEP}: the base rate, divided by 10 after half the epochs and again after three quarters
 *       (the schedule of the face-recognition papers, on an epoch count of our choosing);</li>
 *   <li>{@code COSINE}: {@code base (1 + cos(pi t / T)) / 2} over the {@code T} steps of training, step
 *       by step (Loshchilov and Hutter 2017, without restarts).</li>
 * </ul>
 */
public enum Schedule {
    STEP, COSINE;

    /** The rate for step {@code step} (from 0) of {@code stepsPerEpoch * epochs}. */
    public double rate(double base, int step, int stepsPerEpoch, int epochs) {
        return switch (this) {
            case STEP -> {
                int epoch = step / stepsPerEpoch;
                double rate = base;
                if (epoch >= epochs / 2 && epochs >= 2) {
                    rate /= 10;
                }
                if (epoch >= (3 * epochs) / 4 && epochs >= 4) {
                    rate /= 10;
                }
                yield rate;
            }
            case COSINE -> {
                long total = (long) stepsPerEpoch * epochs;
                yield base * 0.5 * (1 + Math.cos(Math.PI * step / total));
            }
        };
    }
}
