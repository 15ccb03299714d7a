package dev.softmaxlosses.bench;

import dev.softmaxlosses.LogitLoss;

/**
 * Twenty nested frames above the hot path, as a training loop, a framework and an adapter put them:
 * twenty distinct small static methods, each calling the next. They are small, so C2 inlines them
 * all, and the kernel's own calls (the Vector API's deep methods) start twenty levels down the
 * inlining tree, which is where the default {@code -XX:MaxInlineLevel} (15) used to cut them off.
 */
final class DeepStack {

    /** The number of frames {@link #call} puts between its caller and the loss. */
    static final int DEPTH = 20;

    private DeepStack() {}

    /** {@code loss.forwardBackward(...)} through {@value #DEPTH} frames. */
    static double call(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d20(loss, logits, labels, rows, cols, grad);
    }

    static double d20(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d19(loss, logits, labels, rows, cols, grad);
    }

    static double d19(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d18(loss, logits, labels, rows, cols, grad);
    }

    static double d18(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d17(loss, logits, labels, rows, cols, grad);
    }

    static double d17(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d16(loss, logits, labels, rows, cols, grad);
    }

    static double d16(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d15(loss, logits, labels, rows, cols, grad);
    }

    static double d15(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d14(loss, logits, labels, rows, cols, grad);
    }

    static double d14(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d13(loss, logits, labels, rows, cols, grad);
    }

    static double d13(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d12(loss, logits, labels, rows, cols, grad);
    }

    static double d12(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d11(loss, logits, labels, rows, cols, grad);
    }

    static double d11(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d10(loss, logits, labels, rows, cols, grad);
    }

    static double d10(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d9(loss, logits, labels, rows, cols, grad);
    }

    static double d9(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d8(loss, logits, labels, rows, cols, grad);
    }

    static double d8(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d7(loss, logits, labels, rows, cols, grad);
    }

    static double d7(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d6(loss, logits, labels, rows, cols, grad);
    }

    static double d6(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d5(loss, logits, labels, rows, cols, grad);
    }

    static double d5(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d4(loss, logits, labels, rows, cols, grad);
    }

    static double d4(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d3(loss, logits, labels, rows, cols, grad);
    }

    static double d3(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d2(loss, logits, labels, rows, cols, grad);
    }

    static double d2(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return d1(loss, logits, labels, rows, cols, grad);
    }

    static double d1(LogitLoss loss, float[] logits, int[] labels, int rows, int cols, float[] grad) {
        return loss.forwardBackward(logits, labels, rows, cols, grad);
    }
}
