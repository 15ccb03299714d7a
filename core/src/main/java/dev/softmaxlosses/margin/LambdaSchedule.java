package dev.softmaxlosses.margin;

/**
 * The annealing of {@code lambda} in L-Softmax and SphereFace:
 * {@code lambda(t) = max(lambdaMin, base (1 + gamma t)^(-power))} at training step {@code t}. A large
 * lambda starts training near the plain softmax; the margin takes over as it decays.
 *
 * @param base      the value at step 0 (SphereFace: 1000)
 * @param gamma     the decay rate (SphereFace: 0.12)
 * @param power     the decay exponent (SphereFace: 1)
 * @param lambdaMin the floor (SphereFace: 5 for m = 4)
 */
public record LambdaSchedule(double base, double gamma, double power, double lambdaMin) {

    public LambdaSchedule {
        if (!(base >= 0) || !(gamma >= 0) || !(power >= 0) || !(lambdaMin >= 0)
                || Double.isInfinite(base) || Double.isInfinite(gamma) || Double.isInfinite(power) || Double.isInfinite(lambdaMin)) {
            throw new IllegalArgumentException("base, gamma, power and lambdaMin must be finite and >= 0");
        }
    }

    /** The schedule of the SphereFace paper's training: base 1000, gamma 0.12, power 1, floor 5. */
    public static LambdaSchedule sphereFace() {
        return new LambdaSchedule(1000, 0.12, 1, 5);
    }

    /** lambda at step {@code t >= 0}. */
    public double at(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        return Math.max(lambdaMin, base * Math.pow(1 + gamma * step, -power));
    }
}
