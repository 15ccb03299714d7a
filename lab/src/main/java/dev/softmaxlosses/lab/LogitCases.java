package dev.softmaxlosses.lab;

import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LogitBatch;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.LossResult;

/**
 * An {@code eval} case's arrays as the typed batch of a loss on logits: the case says which arrays it
 * has, the loss which kinds of target it takes. A field the loss does not take, or one it needs and
 * the case lacks, is an error worded and ordered as the loss contract's messages have always been
 * (the fields a loss refuses first, then its own checks on the logits, then the missing target).
 */
final class LogitCases {

    private LogitCases() {}

    /** Computes a logit loss on a case, with the diagnostics {@code eval} prints. */
    static LossResult compute(LogitLoss loss, EvalInput in) {
        LogitBatch batch = batch(loss, in);
        LossResult result = LossResult.withDiagnostics(batch.rows(), batch.cols());
        loss.compute(batch, result);
        return result;
    }

    /** The case as the loss's batch. */
    static LogitBatch batch(LogitLoss loss, EvalInput in) {
        String name = loss.spec().name();
        FloatMatrix logits = EvalInput.require(name, "logits", in.logits());
        boolean soft = loss.takes(LogitBatch.SoftTargets.class);
        boolean teacher = loss.takes(LogitBatch.Teacher.class);
        if (soft) {
            EvalInput.forbid(name, "teacher_logits", in.teacherLogits());
            EvalInput.forbid(name, "features", in.features());
            EvalInput.forbid(name, "weights", in.weights());
        } else {
            EvalInput.forbid(name, "targets", in.targets());
            EvalInput.forbid(name, "features", in.features());
            EvalInput.forbid(name, "weights", in.weights());
            if (!teacher) {
                EvalInput.forbid(name, "teacher_logits", in.teacherLogits());
            }
            if (!loss.takesClassWeights()) {
                EvalInput.forbid(name, "class_weights", in.classWeights());
            }
        }
        int[] labels = in.labels();
        FloatMatrix targets = in.targets();
        if (teacher) {
            return LogitBatch.withTeacher(logits, EvalInput.require(name, "teacher_logits", in.teacherLogits()), labels);
        }
        if (labels != null && targets == null) {
            return LogitBatch.of(logits, labels).classWeights(in.classWeights());
        }
        if (labels == null && targets != null) {
            return LogitBatch.softTargets(logits, targets).classWeights(in.classWeights());
        }
        // No target, or both: the loss's checks of the logits' shape come before this one.
        if (!soft && logits.rows() > 0 && logits.cols() < loss.minClasses()) {
            throw new IllegalArgumentException(name + " needs at least " + loss.minClasses() + " classes, got "
                    + logits.cols());
        }
        if (logits.cols() == 0 && logits.rows() > 0) {
            throw new IllegalArgumentException("logits has rows of 0 values; there must be at least one class");
        }
        throw new IllegalArgumentException(!soft ? name + " needs labels"
                : labels == null ? name + " needs labels or targets" : name + " takes labels or targets, not both");
    }
}
