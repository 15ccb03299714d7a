package dev.softmaxlosses.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;

/**
 * Every output of a {@link Compute.Result} compared with a reference's, at the tolerances of the
 * contract tests; each mismatch is one line naming the field, the entry, the value expected and the
 * value got. Shared by core's contract tests and the lab's (which read the result from eval's JSON).
 */
public final class Mismatches {

    private Mismatches() {}

    /** Fails naming how many values are off and the first five, if any are. */
    public static void assertNone(String what, List<String> errors) {
        if (!errors.isEmpty()) {
            fail(what + ": " + errors.size() + " values off, first: " + String.join("; ", errors.subList(0, Math.min(5, errors.size()))));
        }
    }

    // ---------------------------------------------------------------- losses on logits

    /** Each field of a loss on logits within {@code abs + rel |expected|} (or equal). */
    public static List<String> logits(Expected want, Compute.Result got, double abs, double rel) {
        List<String> errors = new ArrayList<>();
        if (want.loss() == null) {
            if (got.loss() != null) {
                errors.add("loss: expected null, got " + got.loss());
            }
        } else if (got.loss() == null) {
            errors.add("loss: expected " + want.loss() + ", got null");
        } else {
            compare(errors, "loss", want.loss(), got.loss(), abs, rel);
        }
        compare(errors, "losses", want.losses(), got.losses(), abs, rel);
        compare(errors, "logits", want.logits(), got.logits(), abs, rel);
        compare(errors, "probabilities", want.probabilities(), got.probabilities(), abs, rel);
        compare(errors, "logsumexp", want.logSumExp(), got.logSumExp(), abs, rel);
        compare(errors, "grad_logits", want.gradLogits(), got.gradLogits(), abs, rel);
        return errors;
    }

    // ---------------------------------------------------------------- the margin family

    /**
     * The margin family's tolerances, float32's scaled by what the float32 computation can keep: the
     * loss, the logits and the log-sum-exps within {@code 1e-5 max(1, max |f|) + 1e-4 |expected|} (the
     * loss's first term times the sample count for {@code reduction=sum}); the probabilities within
     * {@code 1e-5 + 1e-4 |expected|}; each gradient within {@code 1e-5 max |gradient| + 1e-9 + 1e-4 |expected|}
     * over its array. Every value must be finite.
     */
    public static List<String> margin(String spec, int samples, ReferenceMargin.Result want, Compute.Result got,
                                      boolean gradients) {
        Expected ce = want.ce();
        List<String> errors = new ArrayList<>(nonFinite(got));
        double logitScale = 1;
        for (double[] row : ce.logits()) {
            for (double v : row) {
                logitScale = Math.max(logitScale, Math.abs(v));
            }
        }
        double abs = 1e-5 * logitScale;
        if (ce.loss() == null) {
            if (got.loss() != null) {
                errors.add("loss: expected null, got " + got.loss());
            }
        } else if (got.loss() == null) {
            errors.add("loss: expected " + ce.loss() + ", got null");
        } else {
            double sumScale = spec.contains("reduction=sum") ? Math.max(1, samples) : 1;
            compare(errors, "loss", ce.loss(), got.loss(), abs * sumScale, 1e-4);
        }
        compare(errors, "losses", ce.losses(), got.losses(), abs, 1e-4);
        if (got.logits() != null) {
            compare(errors, "logits", ce.logits(), got.logits(), abs, 1e-4);
            compare(errors, "probabilities", ce.probabilities(), got.probabilities(), 1e-5, 1e-4);
        }
        compare(errors, "logsumexp", ce.logSumExp(), got.logSumExp(), abs, 1e-4);
        if (gradients) {
            compare(errors, "grad_features", want.gradFeatures(), got.gradFeatures(), 1e-5 * maxAbs(want.gradFeatures()) + 1e-9, 1e-4);
            compare(errors, "grad_weights", want.gradWeights(), got.gradWeights(), 1e-5 * maxAbs(want.gradWeights()) + 1e-9, 1e-4);
        }
        return errors;
    }

    /**
     * The margin family's outputs that are missing or hold a value that is not finite (the first of
     * each); logits and probabilities may both be absent (a streaming head's result).
     */
    public static List<String> nonFinite(Compute.Result got) {
        List<String> errors = new ArrayList<>();
        finite(errors, "losses", got.losses() == null ? null : new double[][] {got.losses()});
        if (got.logits() != null || got.probabilities() != null) {
            // Both absent: a streaming head's result, which holds no N x C outputs.
            finite(errors, "logits", got.logits());
            finite(errors, "probabilities", got.probabilities());
        }
        finite(errors, "logsumexp", got.logSumExp() == null ? null : new double[][] {got.logSumExp()});
        finite(errors, "grad_features", got.gradFeatures());
        finite(errors, "grad_weights", got.gradWeights());
        if (got.loss() != null && !Double.isFinite(got.loss())) {
            errors.add("loss is " + got.loss());
        }
        return errors;
    }

    private static void finite(List<String> errors, String field, double[][] values) {
        if (values == null) {
            errors.add(field + " is missing");
            return;
        }
        for (double[] row : values) {
            for (double v : row) {
                if (!Double.isFinite(v)) {
                    errors.add(field + " holds " + v);
                    return;
                }
            }
        }
    }

    public static double maxAbs(double[][] m) {
        double max = 0;
        for (double[] row : m) {
            for (double v : row) {
                max = Math.max(max, Math.abs(v));
            }
        }
        return max;
    }

    // ---------------------------------------------------------------- one value, a vector, a matrix

    public static void compare(List<String> errors, String where, double want, double got, double abs, double rel) {
        boolean same = want == got || Math.abs(got - want) <= abs + rel * Math.abs(want);
        if (!same) {
            errors.add(where + ": expected " + want + ", got " + got);
        }
    }

    public static void compare(List<String> errors, String name, double[] want, double[] got, double abs, double rel) {
        if (got == null) {
            errors.add(name + " is missing");
            return;
        }
        if (want.length != got.length) {
            errors.add(name + ": expected " + want.length + " values, got " + got.length);
            return;
        }
        for (int i = 0; i < want.length; i++) {
            compare(errors, name + "[" + i + "]", want[i], got[i], abs, rel);
        }
    }

    public static void compare(List<String> errors, String name, double[][] want, double[][] got, double abs, double rel) {
        if (got == null) {
            errors.add(name + " is missing");
            return;
        }
        if (want.length != got.length) {
            errors.add(name + ": expected " + want.length + " rows, got " + got.length);
            return;
        }
        for (int i = 0; i < want.length; i++) {
            compare(errors, name + "[" + i + "]", want[i], got[i], abs, rel);
        }
    }
}
