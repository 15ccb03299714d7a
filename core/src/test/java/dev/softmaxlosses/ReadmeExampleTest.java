package dev.softmaxlosses;

import dev.softmaxlosses.spec.LossRegistry;
import static dev.softmaxlosses.testing.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.softmaxlosses.logits.SoftmaxCrossEntropyLoss;
import dev.softmaxlosses.testing.Expected;
import dev.softmaxlosses.testing.ReferenceCrossEntropy;

import java.io.IOException;

import dev.softmaxlosses.testing.ReadmeExamples;
import org.junit.jupiter.api.Test;

/** The README's Java example is this test's code, word for word: the test runs it and checks both match. */
class ReadmeExampleTest {

    @Test
    void theReadmeExampleRunsAndGivesTheReferenceValues() {
        // example:start
        SoftmaxCrossEntropyLoss loss = SoftmaxCrossEntropyLoss.builder()
                .labelSmoothing(0.1)
                .build();
        float[] logits = {2.0f, 0.5f, -1.0f,
                          0.1f, 0.2f, 3.0f};          // 2 samples x 3 classes, row-major
        int[] labels = {0, 2};
        float[] grad = new float[logits.length];
        double value = loss.forwardBackward(logits, labels, 2, 3, grad);   // mean loss, grad = d value / d logits

        LogitBatch batch = LogitBatch.of(new FloatMatrix(logits, 2, 3), labels);
        LossResult lean = loss.compute(batch);          // gradLogits(), losses(), logSumExp(): one fused pass
        LossResult all = LossResult.withDiagnostics(2, 3);
        loss.compute(batch, all);                       // also the final logits() and probabilities()
        float[] probabilities = all.probabilities();

        LogitLoss fromSpec = (LogitLoss) LossRegistry.create("softmax_cross_entropy:label_smoothing=0.1");
        // example:end

        Expected ref = ReferenceCrossEntropy.compute(new double[][] {{2, 0.5, -1}, {0.1, 0.2, 3}},
                labels, null, null, 1, 0.1f, false, -100, "mean");
        assertClose(ref.loss(), value, "loss");
        assertClose(ref.probabilities()[1][2], probabilities[5], "p[1][2]");
        assertClose(ref.gradLogits()[0][0], grad[0], "grad[0][0]");
        assertEquals(value, fromSpec.compute(batch).loss());
        assertEquals(value, lean.loss());
    }

    @Test
    void theReadmeShowsExactlyThisCode() throws IOException {
        ReadmeExamples.assertReadmeShows("example", "core/src/test/java/dev/softmaxlosses/ReadmeExampleTest.java");
    }

}
