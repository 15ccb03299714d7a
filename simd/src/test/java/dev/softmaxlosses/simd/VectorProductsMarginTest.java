package dev.softmaxlosses.simd;

import static dev.softmaxlosses.testing.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.Vectorization;
import dev.softmaxlosses.linalg.MatrixProducts;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.margin.StreamingMarginHead;
import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.testing.MarginBatches;

import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every registered margin loss, under every gradient option it offers, plain and with label smoothing
 * and class weights: the heads on {@link VectorProducts} give the results of the heads on
 * {@link MatrixProducts#fixedOrder()} to float32 rounding, in one block and in blocks that leave
 * partial micro-tiles; and {@link MatrixProducts#standard()} is {@link VectorProducts} when the SIMD
 * kernels are in use and netlib has no native BLAS.
 */
class VectorProductsMarginTest {

    private static final int N = 21;
    private static final int C = 150;
    private static final int D = 37;

    static Stream<String> specs() {
        return MarginBatches.specs();
    }

    @Test
    void everyMarginLossIsCovered() {
        assertTrue(specs().count() >= 16, specs().toList().toString());
    }

    @ParameterizedTest
    @MethodSource("specs")
    void vectorProductsGiveTheFixedOrderResults(String spec) {
        MarginLoss loss = (MarginLoss) LossRegistry.create(spec);
        FeatureBatch batch = MarginBatches.batch(new Random(spec.hashCode()), N, C, D, spec.contains("label_smoothing"),
                loss.subCentres());
        for (int block : new int[] {C, 64}) {
            LossResult expected = new StreamingMarginHead(loss, block, MatrixProducts.fixedOrder()).compute(batch);
            LossResult actual = new StreamingMarginHead(loss, block, VectorProducts.INSTANCE).compute(batch);
            MarginBatches.assertSameResults(expected, actual, spec + " block " + block);
        }
        // The materialised path on the default products (these, through MatrixProducts.standard()).
        MarginBatches.assertSameResults(new StreamingMarginHead(loss, C, MatrixProducts.fixedOrder()).compute(batch), loss.compute(batch),
                spec + " materialised, standard products");
    }

    /** The comparison is not vacuous: products off by one part in a thousand fail it. */
    @Test
    void slightlyWrongProductsFailTheComparison() {
        MarginLoss loss = (MarginLoss) LossRegistry.create("arcface");
        FeatureBatch batch = MarginBatches.batch(new Random(1), N, C, D, false);
        MatrixProducts skewed = new MatrixProducts() {
            @Override
            public String implementation() {
                return "skewed";
            }

            @Override
            public void timesTransposed(float[] a, int n, int k, float[] b, int bOff, int m, float[] out) {
                VectorProducts.INSTANCE.timesTransposed(a, n, k, b, bOff, m, out);
                for (int i = 0; i < n * m; i++) {
                    out[i] *= 1.001f;
                }
            }

            @Override
            public void times(float[] a, int n, int k, float[] b, int bOff, int m, float[] out, boolean accumulate) {
                VectorProducts.INSTANCE.times(a, n, k, b, bOff, m, out, accumulate);
            }

            @Override
            public void transposedTimes(float[] a, int n, int k, float[] b, int m, float[] out) {
                VectorProducts.INSTANCE.transposedTimes(a, n, k, b, m, out);
            }
        };
        LossResult expected = new StreamingMarginHead(loss, C, MatrixProducts.fixedOrder()).compute(batch);
        LossResult actual = new StreamingMarginHead(loss, C, skewed).compute(batch);
        assertThrows(AssertionError.class, () -> MarginBatches.assertSameResults(expected, actual, "skewed"));
    }

    /** Under this module's tests the SIMD kernels are forced; only a native BLAS comes first. */
    @Test
    void theStandardProductsAreTheseWithoutANativeBlas() {
        assertTrue(Vectorization.simd(), "the SIMD kernels are in use");
        String netlib = dev.ludovic.netlib.blas.BLAS.getInstance().getClass().getSimpleName();
        String expected = netlib.startsWith("JNI") ? netlib : VectorProducts.INSTANCE.implementation();
        assertEquals(expected, MatrixProducts.standard().implementation());
    }



}
