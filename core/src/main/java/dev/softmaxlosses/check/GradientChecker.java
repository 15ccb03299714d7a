package dev.softmaxlosses.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.IntPredicate;
import java.util.function.ToDoubleFunction;

/**
 * Checks an analytic gradient against central differences, the way Caffe's
 * {@code GradientChecker} tests its layers: each input is moved by {@code +-h}, the function is
 * evaluated in {@code double}, and the estimate {@code (f(x + h) - f(x - h)) / (2h)} must agree with
 * the analytic value within {@code threshold * max(|analytic|, |estimate|, floor)}.
 *
 * <p>Inputs are {@code float}s, so the step actually taken is {@code (float) (x + h) - (float) (x - h)},
 * and each input is restored to its exact original bits after it is probed. Points where the function
 * is not differentiable (hinges, ReLU) can be skipped by a predicate or detected: with
 * {@link Builder#skipKinks(boolean)}, an input whose one-sided slopes disagree by more than ten times
 * the threshold is counted as skipped, not failed.
 *
 * <pre>{@code
 * GradientChecker.Report report = GradientChecker.builder().build()
 *         .check(x, (in, gradOut) -> myLoss(in, gradOut));
 * report.assertPassed("my loss");
 * }</pre>
 */
public final class GradientChecker {

    /** A function that returns its value at {@code x} and writes its gradient into {@code gradOut}. */
    @FunctionalInterface
    public interface Differentiable {
        double valueAndGradient(float[] x, float[] gradOut);
    }

    /** One input whose analytic and numeric derivatives disagree. */
    public record Failure(int index, double analytic, double numeric) {
        @Override
        public String toString() {
            return "[" + index + "] analytic " + analytic + " vs numeric " + numeric;
        }
    }

    /**
     * What a check found.
     *
     * @param checked    inputs compared
     * @param skipped    inputs skipped (by the predicate or as kinks)
     * @param worstError the largest {@code |analytic - numeric| / max(|analytic|, |numeric|, floor)}
     * @param failures   the inputs over the threshold
     */
    public record Report(int checked, int skipped, double worstError, List<Failure> failures) {
        public boolean passed() {
            return failures.isEmpty();
        }

        /** Throws an {@link AssertionError} listing the first failures, if any. */
        public void assertPassed(String what) {
            if (!passed()) {
                throw new AssertionError(what + ": " + failures.size() + " of " + checked
                        + " gradient entries disagree; first: " + failures.subList(0, Math.min(5, failures.size())));
            }
        }
    }

    private final double step;
    private final double threshold;
    private final double floor;
    private final boolean skipKinks;

    private GradientChecker(Builder b) {
        this.step = b.step;
        this.threshold = b.threshold;
        this.floor = b.floor;
        this.skipKinks = b.skipKinks;
    }

    /** Caffe's defaults: step 1e-2, threshold 1e-2, floor 1, kinks not skipped. */
    public static Builder builder() {
        return new Builder();
    }

    /** Computes the analytic gradient at {@code x} with {@code f}, then checks every entry. */
    public Report check(float[] x, Differentiable f) {
        return check(x, f, i -> false);
    }

    /** As {@link #check(float[], Differentiable)}, skipping the inputs {@code skip} accepts. */
    public Report check(float[] x, Differentiable f, IntPredicate skip) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(f, "f");
        float[] analytic = new float[x.length];
        f.valueAndGradient(x, analytic);
        float[] scratch = new float[x.length];
        return check(x, in -> f.valueAndGradient(in, scratch), analytic, skip);
    }

    /** Checks a gradient computed elsewhere against central differences of {@code f}. */
    public Report check(float[] x, ToDoubleFunction<float[]> f, float[] analytic, IntPredicate skip) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(f, "f");
        Objects.requireNonNull(analytic, "analytic");
        Objects.requireNonNull(skip, "skip");
        if (analytic.length != x.length) {
            throw new IllegalArgumentException("the gradient has " + analytic.length + " entries, the input " + x.length);
        }
        List<Failure> failures = new ArrayList<>();
        int checked = 0;
        int skipped = 0;
        double worst = 0;
        double center = skipKinks ? f.applyAsDouble(x) : Double.NaN;
        for (int i = 0; i < x.length; i++) {
            if (skip.test(i)) {
                skipped++;
                continue;
            }
            float original = x[i];
            float plus = (float) (original + step);
            float minus = (float) (original - step);
            x[i] = plus;
            double fPlus = f.applyAsDouble(x);
            x[i] = minus;
            double fMinus = f.applyAsDouble(x);
            x[i] = original;
            double numeric = (fPlus - fMinus) / ((double) plus - minus);
            if (skipKinks && isKink(fPlus, center, fMinus, (double) plus - original, (double) original - minus)) {
                skipped++;
                continue;
            }
            double a = analytic[i];
            double scale = Math.max(Math.max(Math.abs(a), Math.abs(numeric)), floor);
            double error = Math.abs(a - numeric) / scale;
            checked++;
            worst = Math.max(worst, error);
            if (!(error <= threshold)) {
                failures.add(new Failure(i, a, numeric));
            }
        }
        return new Report(checked, skipped, worst, List.copyOf(failures));
    }

    private boolean isKink(double fPlus, double center, double fMinus, double hPlus, double hMinus) {
        double right = (fPlus - center) / hPlus;
        double left = (center - fMinus) / hMinus;
        double scale = Math.max(Math.max(Math.abs(right), Math.abs(left)), floor);
        return Math.abs(right - left) > 10 * threshold * scale;
    }

    /** Settings of a {@link GradientChecker}. */
    public static final class Builder {
        private double step = 1e-2;
        private double threshold = 1e-2;
        private double floor = 1.0;
        private boolean skipKinks;

        private Builder() {}

        /** The finite-difference step h (default 1e-2). */
        public Builder step(double step) { this.step = step; return this; }

        /** The largest relative error allowed (default 1e-2). */
        public Builder threshold(double threshold) { this.threshold = threshold; return this; }

        /**
         * The smallest magnitude the error is relative to (default 1, as in Caffe): below it the
         * threshold is absolute.
         */
        public Builder floor(double floor) { this.floor = floor; return this; }

        /** Detects non-differentiable points and skips them (default false). */
        public Builder skipKinks(boolean skipKinks) { this.skipKinks = skipKinks; return this; }

        public GradientChecker build() {
            if (!(step > 0) || !(threshold > 0) || !(floor > 0)) {
                throw new IllegalArgumentException("step, threshold and floor must be > 0");
            }
            if (step == Double.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("step must be finite, got Infinity");
            }
            return new GradientChecker(this);
        }
    }
}
