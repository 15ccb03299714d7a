package dev.softmaxlosses.contract;

import dev.softmaxlosses.testing.Compute;
import dev.softmaxlosses.testing.Expected;
import dev.softmaxlosses.testing.Mismatches;
import dev.softmaxlosses.testing.ReferenceCrossEntropy;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import static dev.softmaxlosses.testing.ContractData.logits;
import static dev.softmaxlosses.testing.ContractData.toDouble;

/**
 * The contract of {@code softmax_cross_entropy} ({@code LOSSES.md}) on hard labels and soft targets:
 * every output compared with {@link ReferenceCrossEntropy} (double precision, straight from the spec)
 * at a float32 tolerance {@code |got - expected| <= 1e-6 + 1e-5 |expected|}. Core's suite runs on the
 * scalar kernels and again on the SIMD ones, so this does too. Every call into the library goes
 * through {@link Compute}.
 */
class SoftmaxCrossEntropyContractTest {

    private static final String SCE = "softmax_cross_entropy";
    private static final double ABS = 1e-6;
    private static final double REL = 1e-5;

    /** Runs one case and compares every output field with the reference. */
    private static void check(String spec, float[][] z, int[] labels, float[][] targets, float[] classWeights,
                              ReferenceCrossEntropy.Options options) {
        if (classWeights != null) {
            options.classWeights(toDouble(classWeights));
        }
        Compute.Result got = targets == null ? Compute.logits(spec, z, labels, classWeights)
                : Compute.softTargets(spec, z, targets, classWeights);
        Expected want = ReferenceCrossEntropy.compute(toDouble(z), labels, toDouble(targets), options);
        Mismatches.assertNone(spec, Mismatches.logits(want, got, ABS, REL));
    }

    private static int[] labels(Random random, int n, int c) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextInt(c);
        }
        return y;
    }

    private static ReferenceCrossEntropy.Options options() {
        return new ReferenceCrossEntropy.Options();
    }

    // ---------------------------------------------------------------- every option against the reference

    @Test
    void plainLossMatchesTheReference() {
        Random random = new Random(1);
        float[][] z = logits(random, 8, 5, 3);
        check(SCE, z, labels(random, 8, 5), null, null, options());
    }

    @Test
    void temperatureMatchesTheReference() {
        Random random = new Random(2);
        float[][] z = logits(random, 6, 7, 4);
        check(SCE + ":temperature=2.5", z, labels(random, 6, 7), null, null, options().temperature(2.5));
        check(SCE + ":temperature=0.25", z, labels(random, 6, 7), null, null, options().temperature(0.25));
    }

    @Test
    void labelSmoothingMatchesTheReference() {
        Random random = new Random(3);
        float[][] z = logits(random, 5, 9, 2);
        int[] y = labels(random, 5, 9);
        check(SCE + ":label_smoothing=0.1", z, y, null, null, options().labelSmoothing(0.1));
        check(SCE + ":label_smoothing=0.75,reduction=sum", z, y, null, null, options().labelSmoothing(0.75).reduction("sum"));
    }

    @Test
    void classWeightsMatchTheReferenceWithTheWeightedMean() {
        Random random = new Random(4);
        float[][] z = logits(random, 10, 4, 2);
        float[] w = {0.5f, 2f, 0f, 1.25f};
        check(SCE, z, labels(random, 10, 4), null, w, options());
    }

    @Test
    void classWeightsWithLabelSmoothingAndTemperatureMatchTheReference() {
        Random random = new Random(5);
        float[][] z = logits(random, 7, 6, 3);
        float[] w = {1f, 0.3f, 2.5f, 0f, 1f, 4f};
        check(SCE + ":label_smoothing=0.2,temperature=1.7", z, labels(random, 7, 6), null, w,
                options().labelSmoothing(0.2).temperature(1.7));
    }

    @Test
    void batchClassBalanceMatchesTheReference() {
        Random random = new Random(6);
        float[][] z = logits(random, 12, 3, 2);
        int[] y = {0, 0, 0, 0, 0, 0, 1, 1, 1, 2, -100, 0};
        check(SCE + ":class_balance=batch", z, y, null, null, options().balanceBatch());
        check(SCE + ":class_balance=batch,reduction=sum", z, y, null, new float[] {1f, 2f, 0.5f},
                options().balanceBatch().reduction("sum"));
    }

    @Test
    void softTargetsMatchTheReferenceWithMeanOverN() {
        Random random = new Random(7);
        float[][] z = logits(random, 6, 5, 2);
        float[][] t = new float[6][5];
        for (float[] row : t) {
            for (int k = 0; k < 5; k++) {
                row[k] = random.nextBoolean() ? random.nextFloat() : 0f; // need not sum to 1
            }
        }
        check(SCE, z, null, t, null, options());
        check(SCE + ":label_smoothing=0.3,temperature=0.5", z, null, t, new float[] {1f, 2f, 0f, 0.5f, 1f},
                options().labelSmoothing(0.3).temperature(0.5));
    }

    @Test
    void softTargetsWithMaskedUntargetedClassMatchTheReference() {
        float[][] z = {{1f, Float.NEGATIVE_INFINITY, 2f}, {0.5f, -1f, Float.NEGATIVE_INFINITY}};
        float[][] t = {{0.25f, 0f, 0.75f}, {1f, 0f, 0f}};
        check(SCE + ":reduction=sum", z, null, t, null, options().reduction("sum"));
    }

    @Test
    void ignoredSamplesMatchTheReference() {
        Random random = new Random(8);
        float[][] z = logits(random, 9, 4, 3);
        int[] y = {0, -100, 3, 2, -100, 1, 1, -100, 0};
        check(SCE, z, y, null, null, options());
        int[] y3 = {0, 3, 3, 2, 3, 1, 1, 3, 0};
        check(SCE + ":ignore_index=3,label_smoothing=0.1", z, y3, null, new float[] {1f, 2f, 3f, 4f},
                options().ignoreIndex(3).labelSmoothing(0.1));
    }

    @Test
    void everyReductionMatchesTheReference() {
        Random random = new Random(9);
        float[][] z = logits(random, 5, 6, 2);
        int[] y = labels(random, 5, 6);
        for (String reduction : List.of("mean", "sum", "none")) {
            check(SCE + ":reduction=" + reduction, z, y, null, new float[] {1f, 1f, 2f, 1f, 0.5f, 1f},
                    options().reduction(reduction));
        }
    }

    @Test
    void maskedLogitsMatchTheReference() {
        float[][] z = {{1f, Float.NEGATIVE_INFINITY, 3f, 0.5f}, {Float.NEGATIVE_INFINITY, 2f, -1f, Float.NEGATIVE_INFINITY}};
        check(SCE, z, new int[] {0, 2}, null, null, options());
        check(SCE + ":temperature=3", z, new int[] {2, 1}, null, new float[] {1f, 2f, 3f, 4f}, options().temperature(3));
    }

    @Test
    void oneClassGivesLossZeroAndGradientZero() {
        check(SCE, new float[][] {{5f}, {-3f}}, new int[] {0, 0}, null, null, options());
    }

    @Test
    void largeLogitsMatchTheReferenceWithoutOverflow() {
        Random random = new Random(10);
        float[][] z = logits(random, 6, 20, 1000);
        z[0][3] = 30000f;
        z[1][0] = -30000f;
        check(SCE, z, labels(random, 6, 20), null, null, options());
        check(SCE + ":reduction=none", z, labels(random, 6, 20), null, new float[20], options().reduction("none"));
    }

    @Test
    void wideRowsMatchTheReference() {
        Random random = new Random(11);
        float[][] z = logits(random, 3, 1000, 5);
        check(SCE + ":label_smoothing=0.1", z, labels(random, 3, 1000), null, null, options().labelSmoothing(0.1));
    }

    @Test
    void manyRowsMatchTheReference() {
        Random random = new Random(12);
        float[][] z = logits(random, 3000, 10, 2);
        int[] y = labels(random, 3000, 10);
        y[17] = -100;
        check(SCE, z, y, null, null, options());
    }

    /**
     * Label smoothing on logits far from 0: the smoothing term {@code sum_c w_c z'_c} cancels against
     * {@code C max}, so it must be accumulated in double, as {@code LOSSES.md} says. Float partial sums
     * (as the SIMD kernels once kept) put the first case at 2.3727736 instead of 2.3716750.
     */
    @Test
    void labelSmoothingOnLargeLogitsMatchesTheReference() {
        float[][] z = {{30000.1f, 29999.3f, 30000.7f, 29998.9f, 30001.3f, 29999.7f, 30000.3f, 29999.1f}};
        check(SCE + ":label_smoothing=0.9", z, new int[] {0}, null, null, options().labelSmoothing(0.9));
        Random random = new Random(13);
        float[][] big = logits(random, 4, 36, 1);
        for (float[] row : big) {
            for (int k = 0; k < row.length; k++) {
                row[k] += 24000f;
            }
        }
        check(SCE + ":label_smoothing=0.5", big, labels(random, 4, 36), null, null, options().labelSmoothing(0.5));
    }
}
