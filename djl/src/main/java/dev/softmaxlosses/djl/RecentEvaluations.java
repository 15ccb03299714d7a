package dev.softmaxlosses.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

import java.util.function.Supplier;

/**
 * The last evaluations of an adapter, so that evaluating the same predictions and labels again costs
 * one dot product per input instead of the loss.
 *
 * <p>DJL's {@code EasyTrain} evaluates a training batch's loss twice: once for the gradient, then once
 * more, with the same {@code NDList}s, for the loss metric. A hit needs the same prediction and label
 * arrays (by identity, every one of both lists: a teacher's logits and the hard labels alike) and the
 * first evaluation's gradient arrays still open (they belong to the batch,
 * so a closed batch never hits); the value returned is again the loss with the same gradient. There
 * are {@value #SIZE} entries (several devices may evaluate at once), each holding its arrays' Java
 * objects until replaced, not their memory, which their batch frees; concurrent evaluations are safe.
 */
final class RecentEvaluations {

    /** An evaluation: its loss values and the bridge's terms (inputs with their gradients). */
    record Evaluation(float[] values, boolean scalar, GradientBridge.Term[] terms) {
        /** The loss as its reduction gives it (a scalar, or the per-sample losses for {@code none}) with these terms. */
        static Evaluation of(dev.softmaxlosses.LossResult result, GradientBridge.Term... terms) {
            boolean scalar = result.reduction() != dev.softmaxlosses.Reduction.NONE;
            return new Evaluation(scalar ? new float[] {(float) result.loss()} : result.losses().clone(), scalar, terms);
        }

        boolean open() {
            for (GradientBridge.Term t : terms) {
                if (t.grad().isReleased() || t.input().isReleased()) {
                    return false;
                }
            }
            return true;
        }
    }

    private record Entry(NDArray[] predictions, NDArray[] labels, Evaluation evaluation) {
        boolean matches(NDList p, NDList l) {
            return same(predictions, p) && same(labels, l) && evaluation.open();
        }
    }

    private static final int SIZE = 8;
    private final Entry[] entries = new Entry[SIZE];
    private int next;

    /** The evaluation of these arrays: a recent one while its arrays are open, else {@code compute}'s, remembered. */
    Evaluation evaluate(NDList labels, NDList predictions, Supplier<Evaluation> compute) {
        Evaluation recent = find(predictions, labels);
        if (recent != null) {
            return recent;
        }
        Evaluation made = compute.get();
        remember(predictions, labels, made);
        return made;
    }

    private synchronized Evaluation find(NDList p, NDList l) {
        for (Entry e : entries) {
            if (e != null && e.matches(p, l)) {
                return e.evaluation;
            }
        }
        return null;
    }

    private synchronized void remember(NDList p, NDList l, Evaluation made) {
        entries[next] = new Entry(p.toArray(new NDArray[0]), l.toArray(new NDArray[0]), made);
        next = (next + 1) % SIZE;
    }

    /** Whether {@code list} holds exactly the arrays {@code kept}, in order (by identity). */
    private static boolean same(NDArray[] kept, NDList list) {
        if (kept.length != list.size()) {
            return false;
        }
        for (int i = 0; i < kept.length; i++) {
            if (kept[i] != list.get(i)) {
                return false;
            }
        }
        return true;
    }
}
