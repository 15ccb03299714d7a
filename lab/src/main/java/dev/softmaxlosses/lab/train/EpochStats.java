package dev.softmaxlosses.lab.train;

/**
 * What one epoch of training looked like.
 *
 * @param epoch                 from 1
 * @param learningRate          the rate at the epoch's last step
 * @param trainLoss             the mean of the batch losses
 * @param trainAccuracy         the share of training samples the inference logits classified right,
 *                              while the weights were still moving
 * @param testAccuracy          the accuracy on the known classes' test samples after the epoch
 * @param meanTargetProbability the mean probability the loss gave each training sample's class (with
 *                              the margin, for the margin family: what the loss sees)
 * @param meanFeatureNorm       the mean norm of the training embeddings
 */
public record EpochStats(int epoch, double learningRate, double trainLoss, double trainAccuracy, double testAccuracy,
                         double meanTargetProbability, double meanFeatureNorm) {}
