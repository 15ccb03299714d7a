package dev.softmaxlosses.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * How a gradient computed outside DJL enters its autograd, which has no custom backward in Java.
 *
 * <p>For the loss value {@code L} (a constant array), inputs {@code z_k} and the gradients {@code g_k}
 * of {@code L} with respect to them, the array returned is
 * <pre>{@code   L + (s - stopGradient(s)),   s = sum_k sum(g_k * z_k)   (one dot product per input) }</pre>
 * Its value is exactly {@code L} ({@code s - s} is 0), and its gradient with respect to each
 * {@code z_k} is exactly {@code g_k}: the term's derivative is {@code g_k}, the constants' 0.
 *
 * <p>Per-sample values ({@code reduction=none}, a vector of {@code N}) keep the contract of DJL's
 * {@code backward} of a vector, the gradient of their sum: a {@linkplain Term#perRow per-row} input
 * adds {@code s_n = sum_j g_nj z_nj} to value {@code n}; any other input adds its whole dot product to
 * value 0 alone (times a constant one-hot vector), so each value is unchanged and the sum's gradient
 * is {@code g_k}.
 *
 * <p>An input of another floating type (float16) enters the products as it is: the engine promotes
 * {@code g * z} to float32 (float64 for a float64 input, whose value is then float64) and its backward
 * casts {@code g} to the input's type. No cast of the input is taken: DJL's {@code toType} is not
 * differentiable (PyTorch's engine runs it under {@code NoGradGuard}), so a cast input would get no
 * gradient at all. Every operation puts the gradient first, so its result belongs to the gradient's
 * manager (the batch's), never to a parameter's.
 */
final class GradientBridge {

    /**
     * An input and the gradient of the loss with respect to it (float32, the input's shape, on its device).
     *
     * @param perRow whether the input's rows are the samples of per-sample values
     */
    record Term(NDArray input, NDArray grad, boolean perRow) {
    }

    private GradientBridge() {
    }

    /** {@code value + (s - stopGradient(s))}, as the class describes. */
    static NDArray attach(NDArray value, Term... terms) {
        boolean scalar = value.getShape().dimension() == 0;
        NDArray rows = null;
        NDArray whole = null;
        for (Term t : terms) {
            NDArray product = t.grad.mul(t.input);
            if (!scalar && t.perRow) {
                NDArray s = product.sum(new int[] {1});
                rows = rows == null ? s : rows.add(s);
            } else {
                NDArray s = product.sum();
                whole = whole == null ? s : whole.add(s);
            }
        }
        NDArray sum = rows;
        if (whole != null) {
            if (scalar) {
                sum = whole;
            } else {
                NDArray first = value.getManager().zeros(value.getShape(), DataType.FLOAT32);
                first.set(new ai.djl.ndarray.index.NDIndex(0), 1);
                NDArray atFirst = first.mul(whole);
                sum = sum == null ? atFirst : sum.add(atFirst);
            }
        }
        return value.add(sum.sub(sum.stopGradient()));
    }
}
