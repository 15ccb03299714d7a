package dev.softmaxlosses;

import static dev.softmaxlosses.testing.Assertions2.assertRejected;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxlosses.spec.LossRegistry;
import dev.softmaxlosses.text.Text;
import dev.softmaxlosses.logits.SoftmaxCrossEntropyLoss;

import java.util.Map;

import org.junit.jupiter.api.Test;

class LossSpecTest {

    @Test
    void parsesANameAndParameters() {
        LossSpec spec = LossRegistry.parse(" softmax_cross_entropy:label_smoothing=0.1, ignore_index=-1,reduction=sum ");
        assertEquals("softmax_cross_entropy", spec.name());
        assertEquals(Map.of("label_smoothing", "0.1", "ignore_index", "-1", "reduction", "sum"), spec.parameters());
        SoftmaxCrossEntropyLoss loss = (SoftmaxCrossEntropyLoss) LossRegistry.create(spec);
        assertEquals(0.1f, loss.labelSmoothing());
        assertEquals(-1, loss.ignoreIndex());
        assertEquals(Reduction.SUM, loss.reduction());
    }

    @Test
    void aBareNameGivesTheDefaults() {
        SoftmaxCrossEntropyLoss loss = (SoftmaxCrossEntropyLoss) LossRegistry.create("softmax_cross_entropy");
        assertEquals(1f, loss.temperature());
        assertEquals(-100, loss.ignoreIndex());
        assertEquals(Reduction.MEAN, loss.reduction());
    }

    @Test
    void aLossSpecReadsBackToAnEqualLoss() {
        Loss loss = LossRegistry.create("softmax_cross_entropy:temperature=2,class_balance=batch");
        assertEquals(loss.spec(), LossRegistry.create(loss.spec().toString()).spec());
    }

    @Test
    void rejectsAnUnknownLossListingTheValidOnes() {
        assertRejected(() -> LossRegistry.parse("softmax_entropy"), "unknown loss 'softmax_entropy'; valid losses: softmax_cross_entropy");
    }

    @Test
    void rejectsAnUnknownParameterListingTheValidOnes() {
        assertRejected(() -> LossRegistry.parse("softmax_cross_entropy:smoothing=0.1"),
                "unknown parameter 'smoothing' for softmax_cross_entropy; valid parameters: temperature, label_smoothing, "
                        + "class_balance, ignore_index, reduction");
    }

    @Test
    void rejectsMalformedParameters() {
        assertRejected(() -> LossRegistry.parse(""), "empty loss spec");
        assertRejected(() -> LossRegistry.parse("softmax_cross_entropy:temperature"), "parameter 'temperature' of softmax_cross_entropy has no value");
        assertRejected(() -> LossRegistry.parse("softmax_cross_entropy:temperature=1,temperature=2"), "is given twice");
        assertRejected(() -> LossRegistry.parse("softmax_cross_entropy:temperature=1,"), "empty parameter");
        assertRejected(() -> LossRegistry.parse("softmax_cross_entropy:temperature="), "has an empty value");
    }

    @Test
    void rejectsBadValuesNamingTheParameter() {
        assertRejected(() -> LossRegistry.create("softmax_cross_entropy:temperature=abc"),
                "parameter temperature of softmax_cross_entropy must be a number, got 'abc'");
        assertRejected(() -> LossRegistry.create("softmax_cross_entropy:reduction=avg"),
                "parameter reduction of softmax_cross_entropy must be one of mean, sum, none, got 'avg'");
        assertRejected(() -> LossRegistry.create("softmax_cross_entropy:ignore_index=1.5"),
                "parameter ignore_index of softmax_cross_entropy must be an integer, got '1.5'");
        assertRejected(() -> LossRegistry.create("softmax_cross_entropy:temperature=-2"),
                "temperature must be a finite number > 0, got -2.0");
    }

    @Test
    void rejectsControlCharactersShowingThemEscaped() {
        IllegalArgumentException e = assertRejected(() -> LossRegistry.parse("distillation:temperature=1\u001b"),
                "loss spec 'distillation:temperature=1\\u001b' has the control character \\u001b at index 26; "
                        + "a spec is one line of printable text");
        assertOneLine(e.getMessage());
        assertOneLine(assertRejected(() -> LossRegistry.parse("focal\n:gamma=1"), "\\u000a at index 5").getMessage());
        assertOneLine(assertRejected(() -> LossRegistry.parse("focal:gamma=\t1"), "\\u0009 at index 12").getMessage());
        assertOneLine(assertRejected(() -> LossRegistry.parse("focal:gamma=1\u2028"), "\\u2028 at index 13").getMessage());
    }

    @Test
    void shortensEchoedTextToItsFirstSixtyCharacters() {
        String name = "x".repeat(1 << 20);
        String message = assertRejected(() -> LossRegistry.parse(name),
                "unknown loss '" + "x".repeat(60) + "... (1048576 characters)'; valid losses: softmax_cross_entropy").getMessage();
        assertTrue(message.length() < 400, message.length() + " characters");
        String key = "k".repeat(100_000);
        assertTrue(assertRejected(() -> LossRegistry.parse("focal:" + key + "=1"),
                "unknown parameter '" + "k".repeat(60) + "... (100000 characters)' for focal").getMessage().length() < 400);
        assertTrue(assertRejected(() -> LossRegistry.parse("focal:" + key),
                "parameter '" + "k".repeat(60) + "... (100000 characters)' of focal has no value").getMessage().length() < 400);
        String value = "9".repeat(100_000) + "x";
        assertTrue(assertRejected(() -> LossRegistry.create("focal:gamma=" + value),
                "parameter gamma of focal must be a number, got '" + "9".repeat(60) + "... (100001 characters)'")
                .getMessage().length() < 400);
        assertTrue(assertRejected(() -> LossRegistry.parse("focal:gamma=1,," + key),
                "empty parameter in loss spec 'focal:gamma=1,,kkk").getMessage().length() < 400);
    }

    @Test
    void escapesInvisibleCharactersInEchoedText() {
        assertRejected(() -> LossRegistry.parse("foc\u202eal"), "unknown loss 'foc\\u202eal'");
        assertRejected(() -> LossRegistry.create(new LossSpec("a\nb", Map.of())), "unknown loss 'a\\u000ab'");
    }

    @Test
    void aNullNameOrParameterMapIsANullPointerExceptionNamingIt() {
        assertEquals("name", assertThrows(NullPointerException.class, () -> new LossSpec(null, Map.of())).getMessage());
        assertEquals("parameters", assertThrows(NullPointerException.class, () -> new LossSpec("focal", null)).getMessage());
    }

    private static void assertOneLine(String message) {
        assertTrue(Text.indexOfControl(message) < 0, message);
    }
}
