package dev.softmaxlosses.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The peer baseline of issue 13: softmax cross-entropy as one writes it on the Vector API in about
 * 30 lines, three passes per row (the maximum; the exponentials written into the gradient and
 * summed; the scaling to {@code (p - y) / N}), a scalar tail, nothing fused or unrolled. Mean loss,
 * the gradient of the mean. Needs {@code --add-modules jdk.incubator.vector} at run time.
 */
final class PlainVectorLoop {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private PlainVectorLoop() {}

    static double forwardBackward(float[] logits, int[] labels, int rows, int cols, float[] grad) {
        int bound = S.loopBound(cols);
        float invN = 1f / rows;
        double total = 0;
        for (int n = 0; n < rows; n++) {
            int off = n * cols;
            int c = 0;
            FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; c < bound; c += S.length()) {
                vmax = vmax.max(FloatVector.fromArray(S, logits, off + c));
            }
            float max = vmax.reduceLanes(VectorOperators.MAX);
            for (; c < cols; c++) {
                max = Math.max(max, logits[off + c]);
            }
            FloatVector vm = FloatVector.broadcast(S, max);
            FloatVector vsum = FloatVector.zero(S);
            for (c = 0; c < bound; c += S.length()) {
                FloatVector e = FloatVector.fromArray(S, logits, off + c).sub(vm).lanewise(VectorOperators.EXP);
                e.intoArray(grad, off + c);
                vsum = vsum.add(e);
            }
            float sum = vsum.reduceLanes(VectorOperators.ADD);
            for (; c < cols; c++) {
                float e = (float) Math.exp(logits[off + c] - max);
                grad[off + c] = e;
                sum += e;
            }
            float scale = invN / sum;
            FloatVector vs = FloatVector.broadcast(S, scale);
            for (c = 0; c < bound; c += S.length()) {
                FloatVector.fromArray(S, grad, off + c).mul(vs).intoArray(grad, off + c);
            }
            for (; c < cols; c++) {
                grad[off + c] *= scale;
            }
            grad[off + labels[n]] -= invN;
            total += Math.log(sum) + max - logits[off + labels[n]];
        }
        return total / rows;
    }
}
