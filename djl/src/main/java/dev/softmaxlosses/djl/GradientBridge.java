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
 * <p>For an input of another floating type (float16, float64) the gradient is cast to the input's type
 * first (as autograd would cast it) and the term is computed in that type: no cast of the input is
 * taken, because DJL's {@code toType} is not differentiated (PyTorch's engine runs it under
 * {@code NoGradGuard}) and a cast input would get no gradient at all. The value is float32
 * ({@code L + 0}), float64 for a float64 input (the addition promotes). Every operation puts the
 * gradient first, so its result belongs to the gradient's manager (the batch's), never to a
 * parameter's.
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
            NDArray z = t.input;
            NDArray g = inTypeOf(z, t.grad);
            NDArray s;
            if (!scalar && t.perRow) {
                s = g.mul(z).sum(new int[] {1});
            } else {
                NDArray flat = z.reshape(-1);
                flat.attach(g.getManager());
                s = g.reshape(-1).dot(flat);
            }
            if (!scalar && t.perRow) {
                rows = rows == null ? s : rows.add(s);
            } else {
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

    /** The gradient in the input's type: itself, or rounded to float16 or bfloat16. */
    private static NDArray inTypeOf(NDArray input, NDArray grad) {
        return input.getDataType() == grad.getDataType() ? grad : grad.toType(input.getDataType(), false);
    }
}
