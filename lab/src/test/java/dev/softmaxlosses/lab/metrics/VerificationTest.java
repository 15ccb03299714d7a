package dev.softmaxlosses.lab.metrics;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** ROC, TAR at FAR, EER and AUC on scores made by hand, where every value can be worked out on paper. */
class VerificationTest {

    private static final double EPS = 1e-12;

    @Test
    void perfectSeparationAcceptsEveryGenuinePairAtAnyFar() {
        Verification.Result r = Verification.ofScores(new double[] {0.9, 0.8, 0.7}, new double[] {0.1, 0.2, 0.3, 0.4});
        assertEquals(1.0, r.tarAtFar1e2(), EPS);
        assertEquals(1.0, r.tarAtFar1e3(), EPS);
        assertEquals(0.0, r.eer(), EPS);
        assertEquals(1.0, r.auc(), EPS);
        assertEquals(3, r.genuinePairs());
        assertEquals(4, r.impostorPairs());
    }

    @Test
    void reversedScoresRejectEverything() {
        Verification.Result r = Verification.ofScores(new double[] {0.1, 0.2}, new double[] {0.8, 0.9});
        assertEquals(0.0, r.tarAtFar1e2(), EPS);
        assertEquals(1.0, r.eer(), EPS);
        assertEquals(0.0, r.auc(), EPS);
    }

    /**
     * 200 impostor scores 0.000, 0.005, ..., 0.995 and genuine scores at 0.9925, 0.9875, 0.5, 0.2. FAR 1e-2
     * lets 2 of 200 impostors through: the threshold lies just above the third largest impostor, 0.985,
     * so genuines above 0.985 are accepted: 2 of 4. FAR 1e-3 lets none through: only scores above the
     * largest impostor (0.995) count: none.
     */
    @Test
    void tarAtFarIsExactAtTheAllowedNumberOfImpostors() {
        double[] impostor = new double[200];
        for (int i = 0; i < 200; i++) {
            impostor[i] = i * 0.005;
        }
        double[] genuine = {0.9925, 0.9875, 0.5, 0.2};
        Verification.Result r = Verification.ofScores(genuine, impostor);
        assertEquals(0.5, r.tarAtFar1e2(), EPS);
        assertEquals(0.0, r.tarAtFar1e3(), EPS);
    }

    @Test
    void tiedScoresAreRejectedTogether() {
        // 100 impostors: 98 at 0 and 2 tied at 0.5; FAR 1e-2 allows 1, so both ties (and a genuine tied with them) are rejected
        double[] impostor = new double[100];
        impostor[98] = 0.5;
        impostor[99] = 0.5;
        Verification.Result r = Verification.ofScores(new double[] {0.5, 0.6}, impostor);
        assertEquals(0.5, r.tarAtFar1e2(), EPS);
    }

    /**
     * Genuine 0.6, 0.8; impostor 0.2, 0.7. Thresholds (accept >= t): at 0.6 FAR = 1/2, FRR = 0; at 0.7
     * FAR = 1/2, FRR = 1/2: they meet there, EER = 0.5. With impostors 0.2, 0.4, 0.7, 0.9 and genuines
     * 0.5, 0.8, 0.85, 0.95: at t = 0.8 FAR = 1/4, FRR = 1/4, so EER = 0.25.
     */
    @Test
    void equalErrorRateWhereFalseAcceptsMeetFalseRejects() {
        assertEquals(0.5, Verification.ofScores(new double[] {0.6, 0.8}, new double[] {0.2, 0.7}).eer(), EPS);
        assertEquals(0.25, Verification.ofScores(new double[] {0.5, 0.8, 0.85, 0.95},
                new double[] {0.2, 0.4, 0.7, 0.9}).eer(), EPS);
    }

    /**
     * Genuine 0.3, 0.9; impostor 0.1, 0.5, 0.6. Thresholds: t=0.3: FAR 2/3, FRR 0; t=0.5: FAR 2/3, FRR 1/2;
     * t=0.6: FAR 1/3, FRR 1/2. Between t=0.5 (FRR - FAR = -1/6) and t=0.6 (+1/6) the line crosses halfway:
     * EER = (2/3 + 1/3) / 2 = 1/2.
     */
    @Test
    void equalErrorRateInterpolatesBetweenThresholds() {
        assertEquals(0.5, Verification.ofScores(new double[] {0.3, 0.9}, new double[] {0.1, 0.5, 0.6}).eer(), EPS);
    }

    @Test
    void aucCountsWinsAndHalfTies() {
        // genuine 0.5 beats 0.1, ties 0.5, loses to 0.9: 1.5 of 3; genuine 0.95 beats all 3: 4.5 / 6
        assertEquals(0.75, Verification.ofScores(new double[] {0.5, 0.95}, new double[] {0.1, 0.5, 0.9}).auc(), EPS);
    }

    @Test
    void curveIsMonotone() {
        double[] impostor = new double[1000];
        double[] genuine = new double[300];
        java.util.Random random = new java.util.Random(3);
        for (int i = 0; i < impostor.length; i++) {
            impostor[i] = random.nextGaussian();
        }
        for (int i = 0; i < genuine.length; i++) {
            genuine[i] = random.nextGaussian() + 2;
        }
        Verification.Result r = Verification.ofScores(genuine, impostor);
        for (int i = 1; i < r.curveTar().length; i++) {
            assertEquals(true, r.curveFar()[i] > r.curveFar()[i - 1]);
            assertEquals(true, r.curveTar()[i] >= r.curveTar()[i - 1]);
        }
        assertEquals(1.0, r.curveTar()[r.curveTar().length - 1], EPS);
    }

    /** Cosine scores of features: classes along 0 and 90 degrees pair up perfectly, whatever the norms. */
    @Test
    void scoresPairsOfFeaturesByCosine() {
        float[] features = {1, 0.01f, 5, -0.02f, 0.3f, 0.001f, 0.01f, 2, -0.02f, 7};
        int[] labels = {0, 0, 0, 1, 1};
        Verification.Result r = Verification.ofFeatures(features, 5, 2, labels);
        assertEquals(4, r.genuinePairs());
        assertEquals(6, r.impostorPairs());
        assertEquals(1.0, r.tarAtFar1e3(), EPS);
        assertEquals(0.0, r.eer(), EPS);
    }

    @Test
    void needsBothKindsOfPairs() {
        assertThrows(IllegalArgumentException.class, () -> Verification.ofScores(new double[] {1}, new double[0]));
    }
}
