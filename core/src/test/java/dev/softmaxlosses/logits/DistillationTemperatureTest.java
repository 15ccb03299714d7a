package dev.softmaxlosses.logits;

import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.LogitCases;

import static dev.softmaxlosses.testing.Assertions2.assertRejected;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LossInput;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.LossSpec;
import dev.softmaxlosses.Reduction;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Distillation at any temperature, against a reference in 160-digit decimal arithmetic: the plain
 * definitions {@code pt = softmax(t / T)}, {@code qs = softmax(s / T)},
 * {@code l = T^2 sum pt (log pt - log qs)}, {@code dl/ds = T (qs - pt)}, with {@code exp} and
 * {@code log} by their series. At {@code T = 3e38} the KL is about {@code 1e-77} and its terms
 * {@code 1e-39}: 160 digits leave it 80 of its own.
 */
class DistillationTemperatureTest {

    private static final MathContext MC = new MathContext(160, RoundingMode.HALF_EVEN);
    private static final BigDecimal TWO = BigDecimal.valueOf(2);
    private static final BigDecimal E = expSeries(BigDecimal.ONE);
    private static final BigDecimal LN2 = TWO.multiply(atanh(BigDecimal.ONE.divide(BigDecimal.valueOf(3), MC)), MC);

    private static final int ROWS = 5;
    private static final int COLS = 6;
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    @ParameterizedTest
    @ValueSource(doubles = {0.25, 1, 4, 1000, 1e5, 1e6, 1e10, 1e20, 3e38})
    void matchesAHighPrecisionReferenceAtEveryTemperature(double temperature) {
        Random random = new Random(Double.hashCode(temperature));
        float[] student = new float[ROWS * COLS];
        float[] teacher = new float[ROWS * COLS];
        for (int i = 0; i < student.length; i++) {
            student[i] = (float) (random.nextGaussian() * 3);
            teacher[i] = (float) (random.nextGaussian() * 3);
        }
        // Row 1 masks a class in both; row 2 has a class the teacher masks and the student does not
        // (then T^2 KL grows like T^2, past float32 beyond T = 1e19); row 3 is the teacher's but for one
        // class; row 4 has a spread of 60.
        student[COLS + 2] = NEG_INF;
        teacher[COLS + 2] = NEG_INF;
        if (temperature <= 1e10) {
            teacher[2 * COLS + 4] = NEG_INF;
        }
        System.arraycopy(teacher, 3 * COLS, student, 3 * COLS, COLS);
        student[3 * COLS + 1] += 0.5f;
        student[4 * COLS] = 30;
        teacher[4 * COLS + 5] = -30;
        DistillationLoss loss = (DistillationLoss) LossRegistry.create("distillation:alpha=1,reduction=none,temperature="
                + temperature);
        double t = loss.temperature();
        LossResult r = LogitCases.compute(loss, LossInput.builder().logits(new FloatMatrix(student, ROWS, COLS))
                .teacherLogits(new FloatMatrix(teacher, ROWS, COLS)).build());
        for (int n = 0; n < ROWS; n++) {
            double[] gradient = new double[COLS];
            double expected = reference(student, teacher, n, t, gradient);
            String what = "T = " + t + ", row " + n;
            assertRelative(expected, r.losses()[n], 1e-6, 0, what + " loss");
            double scale = 0;
            for (double g : gradient) {
                scale = Math.max(scale, Math.abs(g));
            }
            for (int c = 0; c < COLS; c++) {
                assertRelative(gradient[c], r.gradLogits()[n * COLS + c], 1e-6, 1e-7 * scale, what + " grad[" + c + "]");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.5, 1, 4, 1e5, 1e10, 3e38})
    void aStudentEqualToItsTeacherHasExactlyNoSoftLossOrGradient(double temperature) {
        float[] z = {3, -1, NEG_INF, 0.5f, 1e-30f, 80, -80, 0, 7, NEG_INF};
        LossResult r = LogitCases.compute(LossRegistry.create("distillation:alpha=1,reduction=sum,temperature=" + temperature), LossInput.builder().logits(new FloatMatrix(z, 2, 5)).teacherLogits(new FloatMatrix(z.clone(), 2, 5)).build());
        assertEquals(0.0, r.loss());
        for (float g : r.gradLogits()) {
            assertEquals(0f, g);
        }
    }

    @Test
    void aClassOnlyTheTeacherMasksMakesTheLossGrowLikeTSquared() {
        LossInput input = LossInput.builder().logits(new float[][] {{1, 2, 3}}).teacherLogits(new float[][] {{1, 2, NEG_INF}})
                .build();
        // As T grows qs becomes uniform over 3 classes and pt over 2: KL tends to log(3 / 2).
        LossResult r = LogitCases.compute(LossRegistry.create("distillation:alpha=1,temperature=1e15"), input);
        assertRelative(1e30 * Math.log(1.5), r.loss(), 1e-6, 0, "T^2 log(3/2)");
        assertRejected(() -> LogitCases.compute(LossRegistry.create("distillation:alpha=1,temperature=1e20"), input),
                "the loss of sample 0 is 4.0546512E39, beyond the float32 range (3.4028235E38): teacher_logits[0][2] "
                        + "masks a class that logits[0] does not, so KL stays away from 0 and the soft term alpha T^2 KL "
                        + "grows like T^2: lower temperature = 1.0E20 or mask the class in logits too");
        assertRejected(() -> LogitCases.compute(LossRegistry.create("distillation:alpha=1,temperature=1e30"), LossInput.builder()
                        .logits(new float[][] {{-1e20f, 2, 3}}).teacherLogits(new float[][] {{1, 2, 1e20f}}).build()),
                "beyond the float32 range (3.4028235E38): lower the spread of logits[0] (1.0E20, from -1.0E20 to 3.0), the "
                        + "spread of teacher_logits[0] (1.0E20, from 1.0 to 1.0E20) or temperature = 1.0E30 (the soft term is "
                        + "alpha T^2 KL)");
    }

    @ParameterizedTest
    @ValueSource(doubles = {1, 1e10})
    void theHardTermIsUnchanged(double temperature) {
        float[] z = {1, 2, 3, 0.5f, -1, 2};
        FloatMatrix logits = new FloatMatrix(z, 2, 3);
        LossResult d = LogitCases.compute(DistillationLoss.builder().alpha(0).temperature(temperature).reduction(Reduction.SUM).build(), LossInput.builder().logits(logits).teacherLogits(new FloatMatrix(new float[6], 2, 3)).labels(2, 0).build());
        LossResult ce = LogitCases.compute(SoftmaxCrossEntropyLoss.builder().reduction(Reduction.SUM).build(), LossInput.of(logits, new int[] {2, 0}));
        // To float32 rounding: the SIMD kernels take the softmax loss's short rows a block at a time.
        assertRelative(ce.loss(), d.loss(), 1e-6, 0, "loss");
        for (int i = 0; i < z.length; i++) {
            assertRelative(ce.gradLogits()[i], d.gradLogits()[i], 1e-6, 1e-7, "grad[" + i + "]");
        }
    }

    private static void assertRelative(double expected, double actual, double rel, double abs, String what) {
        assertTrue(Math.abs(expected - actual) <= Math.max(abs, rel * Math.abs(expected)),
                what + ": expected " + expected + " but got " + actual);
    }

    /** {@code T^2 KL(pt || qs)} of row n and {@code T (qs - pt)} into {@code gradient}, in 160 digits. */
    private static double reference(float[] student, float[] teacher, int n, double temperature, double[] gradient) {
        BigDecimal t = new BigDecimal(temperature);
        BigDecimal[] pt = softmax(teacher, n, t);
        BigDecimal[] qs = softmax(student, n, t);
        BigDecimal kl = BigDecimal.ZERO;
        for (int c = 0; c < COLS; c++) {
            if (pt[c].signum() > 0) {
                kl = kl.add(pt[c].multiply(log(pt[c]).subtract(log(qs[c]), MC), MC), MC);
            }
            gradient[c] = t.multiply(qs[c].subtract(pt[c], MC), MC).doubleValue();
        }
        return t.multiply(t, MC).multiply(kl, MC).doubleValue();
    }

    /** {@code softmax(v / T)} of row n; {@code -Infinity} is probability 0. */
    private static BigDecimal[] softmax(float[] v, int n, BigDecimal t) {
        float max = NEG_INF;
        for (int c = 0; c < COLS; c++) {
            max = Math.max(max, v[n * COLS + c]);
        }
        BigDecimal[] e = new BigDecimal[COLS];
        BigDecimal sum = BigDecimal.ZERO;
        for (int c = 0; c < COLS; c++) {
            float x = v[n * COLS + c];
            e[c] = x == NEG_INF ? BigDecimal.ZERO
                    : exp(new BigDecimal(x).subtract(new BigDecimal(max)).divide(t, MC));
            sum = sum.add(e[c], MC);
        }
        for (int c = 0; c < COLS; c++) {
            e[c] = e[c].divide(sum, MC);
        }
        return e;
    }

    /** {@code e^x} as {@code e^k e^f} with k the nearest integer and {@code |f| <= 1/2}. */
    private static BigDecimal exp(BigDecimal x) {
        BigInteger k = x.setScale(0, RoundingMode.HALF_EVEN).toBigIntegerExact();
        BigDecimal f = x.subtract(new BigDecimal(k), MC);
        BigDecimal ek = k.signum() >= 0 ? E.pow(k.intValueExact(), MC) : BigDecimal.ONE.divide(E.pow(-k.intValueExact(), MC), MC);
        return ek.multiply(expSeries(f), MC);
    }

    private static BigDecimal expSeries(BigDecimal x) {
        BigDecimal term = BigDecimal.ONE;
        BigDecimal sum = BigDecimal.ONE;
        for (int i = 1; term.abs().compareTo(BigDecimal.ONE.movePointLeft(170)) > 0; i++) {
            term = term.multiply(x, MC).divide(BigDecimal.valueOf(i), MC);
            sum = sum.add(term, MC);
        }
        return sum;
    }

    /** {@code log x = k log 2 + 2 atanh((m - 1) / (m + 1))} with {@code x = m 2^k}, m near 1. */
    private static BigDecimal log(BigDecimal x) {
        int k = (int) Math.round(Math.log(x.doubleValue()) / Math.log(2));
        BigDecimal m = k >= 0 ? x.divide(TWO.pow(k), MC) : x.multiply(TWO.pow(-k), MC);
        BigDecimal u = m.subtract(BigDecimal.ONE).divide(m.add(BigDecimal.ONE), MC);
        return LN2.multiply(BigDecimal.valueOf(k), MC).add(TWO.multiply(atanh(u), MC), MC);
    }

    /** {@code u + u^3 / 3 + u^5 / 5 + ...}, for {@code |u| <= 1/3}. */
    private static BigDecimal atanh(BigDecimal u) {
        BigDecimal square = u.multiply(u, MC);
        BigDecimal power = u;
        BigDecimal sum = u;
        for (int i = 3; power.abs().compareTo(BigDecimal.ONE.movePointLeft(170)) > 0; i += 2) {
            power = power.multiply(square, MC);
            sum = sum.add(power.divide(BigDecimal.valueOf(i), MC), MC);
        }
        return sum;
    }
}
