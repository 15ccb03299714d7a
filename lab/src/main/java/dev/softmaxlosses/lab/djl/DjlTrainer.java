package dev.softmaxlosses.lab.djl;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.BatchSampler;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Sampler;
import ai.djl.translate.TranslateException;
import ai.djl.util.Pair;
import dev.softmaxlosses.FeatureBatch;
import dev.softmaxlosses.FloatMatrix;
import dev.softmaxlosses.LogitLoss;
import dev.softmaxlosses.Loss;
import dev.softmaxlosses.LossResult;
import dev.softmaxlosses.djl.LogitLossAdapter;
import dev.softmaxlosses.djl.MarginHead;
import dev.softmaxlosses.djl.PartialFcLoss;
import dev.softmaxlosses.lab.data.Dataset;
import dev.softmaxlosses.lab.run.Backend;
import dev.softmaxlosses.lab.train.Augmentation;
import dev.softmaxlosses.lab.train.EpochStats;
import dev.softmaxlosses.lab.train.Head;
import dev.softmaxlosses.lab.train.PartialFcHead;
import dev.softmaxlosses.lab.train.TrainedModel;
import dev.softmaxlosses.lab.train.Trainer;
import dev.softmaxlosses.lab.train.TrainingSettings;
import dev.softmaxlosses.logits.Softmax;
import dev.softmaxlosses.margin.MarginLoss;
import dev.softmaxlosses.scale.ShardedHead;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.function.Supplier;

/**
 * Trains a loss with DJL (PyTorch's CPU engine) as {@link Trainer} does with the lab's own network: the
 * same settings, schedule and SGD, the same batches in the same order (the lab's seeded shuffle feeds
 * DJL's {@link ArrayDataset}), the same statistics after every step and epoch, the same listener. A
 * loss on logits trains through {@link LogitLossAdapter} behind a dense layer to the logits; the margin
 * family through a {@link MarginHead} and its {@code loss()}.
 *
 * <p>The initial weights come from the lab's seeded {@link Random}, drawn in the order of the layers as
 * the lab's {@code Mlp} draws them (He's normal for dense layers and convolutions, Xavier's for the
 * margin head's class weights, biases at 0, PReLU slopes at 0.25): with {@code --model mlp} DJL starts
 * from exactly the lab's initial network. One run uses one thread ({@link DjlRuntime}), so its numbers do
 * not depend on how many go at once.
 */
public final class DjlTrainer {

    private DjlTrainer() {}

    /** Starts the engine (see {@link DjlRuntime#start}); a failure is an {@link IllegalStateException} with the reason. */
    public static void start(long seed) {
        DjlRuntime.start(seed);
    }

    /** Whether {@code model} can take the images of {@code data}; null when it can, else why not. */
    public static String unfit(Backend.Model model, Dataset data) {
        int side = Networks.minSide(model);
        if (data.width() < side || data.height() < side) {
            return "--model " + model.name().toLowerCase(java.util.Locale.ROOT) + " needs images of at least " + side
                    + "x" + side + " pixels (it halves them " + times(Integer.numberOfTrailingZeros(side)) + "); "
                    + data.name() + " has samples of " + data.width() + "x" + data.height();
        }
        return null;
    }

    private static String times(int n) {
        return switch (n) {
            case 3 -> "three times";
            case 4 -> "four times";
            default -> n + " times";
        };
    }

    /**
     * Trains on {@code train} and measures the test accuracy on {@code test} after each epoch.
     *
     * @throws Trainer.DivergedException when the loss or the features stop being finite
     */
    public static TrainedModel train(Loss loss, Dataset train, Dataset test, TrainingSettings s, Backend.Model kind,
                                     Trainer.Listener listener) {
        long start = System.nanoTime();
        DjlRuntime.startRunThread();
        Random init = new Random(s.seed());
        Random order = new Random(s.seed() * 0x9E3779B97F4A7C15L + 1);
        Random distortions = Trainer.augmentationRandom(s.seed());
        int classes = train.classes();
        boolean cnn = kind.convolutional();
        Block backbone = Networks.backbone(kind, s);
        HostHead host;
        Block head;
        ai.djl.training.loss.Loss objective;
        Parameter classWeights = null;
        ShardedHead sharded = null;
        if (loss instanceof MarginLoss margin && s.partialFc().on()) {
            // Drawn before the network's weights, which DJL draws when the trainer initialises: a stream of
            // its own keeps the network's initial weights those of the other heads.
            Random headWeights = new Random(s.seed() * 0x2545F4914F6CDD1DL + 3);
            ShardedHead partialFc = PartialFcHead.shardedHead(margin, s.embedding(), classes, headWeights, s);
            sharded = partialFc;
            head = null;
            objective = PartialFcLoss.of(partialFc);
            host = new HostHead.Margin(margin, partialFc::weights, classes, s.embedding());
        } else if (loss instanceof MarginLoss margin) {
            MarginHead marginHead = MarginHead.of(margin, classes);
            head = marginHead;
            objective = marginHead.loss();
            Parameter weights = marginHead.getParameters().get("weight");
            classWeights = weights;
            host = new HostHead.Margin(margin, () -> HostHead.read(weights), classes, s.embedding());
        } else if (loss instanceof LogitLoss logits) {
            Linear classifier = Linear.builder().setUnits(classes).build();
            head = Networks.logitHead(classifier);
            objective = new LogitLossAdapter(logits);
            host = new HostHead.Logits(classifier.getParameters().get("weight"), classifier.getParameters().get("bias"),
                    classes, s.embedding());
        } else {
            throw new IllegalArgumentException("the loss " + loss.spec().name() + " is neither on logits nor on features");
        }
        SequentialBlock net = head == null ? new SequentialBlock().add(backbone) : new SequentialBlock().add(backbone).add(head);
        Model model = Model.newInstance("softmax-lab", Device.cpu(), "PyTorch");
        boolean done = false;
        try {
            model.setBlock(net);
            Set<String> decayed = initializers(net, init, classes, s.embedding(), classWeights);
            LabSgd sgd = new LabSgd(s.momentum(), s.weightDecay(), decayed);
            DefaultTrainingConfig config = new DefaultTrainingConfig(objective).optOptimizer(sgd)
                    .optDevices(new Device[] {Device.cpu()});
            DjlModel result;
            try (ai.djl.training.Trainer trainer = model.newTrainer(config)) {
                int n = train.size();
                int batch = Math.min(s.batchSize(), n);
                trainer.initialize(inputShape(train, batch, cnn));
                // A last batch of one sample has no batch statistics; it is dropped (the next epoch reshuffles).
                int steps = n / batch + (n % batch >= 2 ? 1 : 0);
                long total = (long) steps * s.epochs();
                DjlModel snapshot = new DjlModel(model, backbone, host, cnn);
                try (NDManager data = model.getNDManager().newSubManager()) {
                    ArrayDataset dataset = new ArrayDataset.Builder()
                            .setData(data.create(train.features(), inputShape(train, n, cnn)))
                            .optLabels(data.create(train.labels()))
                            .setSampling(new BatchSampler(new LabOrder(order, batch), batch, false))
                            .build();
                    List<EpochStats> history = new ArrayList<>();
                    long step = 0;
                    for (int epoch = 1; epoch <= s.epochs(); epoch++) {
                        Totals t = new Totals();
                        double rate = 0;
                        for (Batch b : trainer.iterateDataset(dataset)) {
                            try (b) {
                                if (Thread.currentThread().isInterrupted()) {
                                    throw new CancellationException("training was interrupted");
                                }
                                NDList inputs = augmented(b.getData(), train, s.augment(), distortions);
                                trainStep(trainer, objective, host, inputs, b.getLabels(), t, loss, epoch);
                            }
                            rate = s.schedule().rate(s.learningRate(), (int) step, steps, s.epochs());
                            sgd.rate(rate);
                            trainer.step();
                            if (objective instanceof PartialFcLoss partialFc) {
                                partialFc.update(rate);
                            }
                            step++;
                            listener.stepDone(step, total);
                        }
                        double testAccuracy = snapshot.accuracy(test);
                        EpochStats stats = new EpochStats(epoch, rate, t.loss / t.seen, (double) t.correct / t.seen,
                                testAccuracy, t.target / t.seen, t.norms / t.seen);
                        history.add(stats);
                        listener.epochDone(stats);
                    }
                    result = snapshot.finished(host.frozen(), List.copyOf(history), (System.nanoTime() - start) / 1e9);
                }
            } catch (IOException | TranslateException e) {
                throw new IllegalStateException("DJL could not read the training batches: " + e.getMessage(), e);
            }
            done = true;
            return result;
        } finally {
            if (!done) {
                model.close();
            }
            if (sharded != null) {
                sharded.close();
            }
        }
    }

    /** The sums of one epoch. */
    private static final class Totals {
        double loss;
        double target;
        double norms;
        long correct;
        long seen;
    }

    /** The batch's images distorted by {@code augment} (on the host, as the Java engine does), or as they are. */
    private static NDList augmented(NDList data, Dataset train, Augmentation augment, Random random) {
        if (augment == Augmentation.NONE) {
            return data;
        }
        NDArray images = data.head();
        float[] x = images.toFloatArray();
        augment.apply(x, Math.toIntExact(images.getShape().get(0)), train.width(), train.height(), random);
        return new NDList(images.getManager().create(x, images.getShape()));
    }

    private static void trainStep(ai.djl.training.Trainer trainer, ai.djl.training.loss.Loss objective, HostHead host,
                                  NDList inputs, NDList labels, Totals t, Loss loss, int epoch) {
        NDList out;
        NDArray value;
        try (GradientCollector collector = DjlRuntime.collector()) {
            out = trainer.forward(inputs);
            try {
                value = objective.evaluate(labels, out);
            } catch (IllegalArgumentException e) {
                throw new Trainer.DivergedException(loss.spec() + " diverged in epoch " + epoch + ": " + e.getMessage());
            }
            collector.backward(value);
        }
        // reduction=none gives the per-sample losses, whose sum the backward pass took (as the Java engine counts it)
        float lossValue = value.getShape().dimension() == 0 ? value.getFloat() : value.sum().getFloat();
        if (!Float.isFinite(lossValue)) {
            throw new Trainer.DivergedException(loss.spec() + " diverged in epoch " + epoch + ": the loss became " + lossValue);
        }
        int size = Math.toIntExact(labels.head().getShape().get(0));
        int[] y = labels.head().toType(DataType.INT32, false).toIntArray();
        // The Partial FC head is off the network, whose output is the embeddings alone.
        boolean embeddingsOnly = out.size() == 1;
        float[] features = out.get(embeddingsOnly ? 0 : 1).toFloatArray();
        float[] logits = embeddingsOnly ? host.logits(features, size) : out.get(0).toFloatArray();
        int c = host.classes();
        int d = host.dim();
        t.loss += (double) lossValue * size;
        t.target += host.targetProbability(logits, features, size, y);
        for (int r = 0; r < size; r++) {
            if (argmax(logits, r * c, c) == y[r]) {
                t.correct++;
            }
            double sq = 0;
            for (int k = 0; k < d; k++) {
                sq += (double) features[r * d + k] * features[r * d + k];
            }
            t.norms += Math.sqrt(sq);
        }
        t.seen += size;
    }

    static int argmax(float[] values, int offset, int c) {
        int best = 0;
        for (int j = 1; j < c; j++) {
            if (values[offset + j] > values[offset + best]) {
                best = j;
            }
        }
        return best;
    }

    static Shape inputShape(Dataset data, long rows, boolean cnn) {
        return cnn ? new Shape(rows, 1, data.height(), data.width()) : new Shape(rows, data.dim());
    }

    /**
     * Gives every parameter an initialiser drawing from {@code random} in the order DJL initialises them
     * (the layers in order, as the lab's {@code Mlp}), and returns the ids of those that take weight decay.
     */
    private static Set<String> initializers(Block net, Random random, int classes, int dim, Parameter marginWeights) {
        Set<String> decayed = new HashSet<>();
        for (Pair<String, Parameter> p : net.getParameters()) {
            Parameter parameter = p.getValue();
            if (parameter.getType() != Parameter.Type.WEIGHT || !parameter.getName().equals("weight")) {
                continue;
            }
            decayed.add(parameter.getId());
            boolean classWeights = parameter == marginWeights;
            parameter.setInitializer((manager, shape, type) -> {
                long fanIn = shape.size() / shape.get(0);
                double std = classWeights ? Math.sqrt(2.0 / (classes + dim)) : Math.sqrt(2.0 / fanIn);
                float[] w = new float[Math.toIntExact(shape.size())];
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) (random.nextGaussian() * std);
                }
                return manager.create(w, shape).toType(type, false);
            });
        }
        return decayed;
    }

    /**
     * The lab's batch order for DJL's {@link BatchSampler}: each epoch, the permutation of the samples
     * shuffled again in place (Fisher-Yates with the run's own source, as {@link Trainer}), without a
     * last sample that would make a batch of one.
     */
    private static final class LabOrder implements Sampler.SubSampler {
        private final Random random;
        private final int batch;
        private int[] permutation;

        LabOrder(Random random, int batch) {
            this.random = random;
            this.batch = batch;
        }

        @Override
        public Iterator<Long> sample(RandomAccessDataset dataset) {
            int n = Math.toIntExact(dataset.size());
            if (permutation == null) {
                permutation = new int[n];
                for (int i = 0; i < n; i++) {
                    permutation[i] = i;
                }
            }
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = permutation[i];
                permutation[i] = permutation[j];
                permutation[j] = t;
            }
            int used = n % batch == 1 && n > 1 ? n - 1 : n;
            List<Long> indices = new ArrayList<>(used);
            for (int i = 0; i < used; i++) {
                indices.add((long) permutation[i]);
            }
            return indices.iterator();
        }
    }

    /** The head's arithmetic on the host: logits from embeddings, the target probability of a batch. */
    abstract static sealed class HostHead {
        final int classes;
        final int dim;

        HostHead(int classes, int dim) {
            this.classes = classes;
            this.dim = dim;
        }

        int classes() {
            return classes;
        }

        int dim() {
            return dim;
        }

        /** The inference logits of {@code n} embeddings. */
        abstract float[] logits(float[] embeddings, int n);

        /** The class weights the plots draw as rays, or null. */
        abstract float[] classWeights();

        /** The sum over the batch of the probability the loss gave each sample's class. */
        abstract double targetProbability(float[] logits, float[] features, int n, int[] labels);

        /** This head with its parameters copied as they are now (for after training). */
        abstract HostHead frozen();

        static float[] read(Parameter p) {
            return p.getArray().toFloatArray();
        }

        /** A dense layer to the logits, then a loss on logits. */
        static final class Logits extends HostHead {
            private final Parameter weight;
            private final Parameter bias;
            private final float[] w;
            private final float[] b;

            Logits(Parameter weight, Parameter bias, int classes, int dim) {
                this(weight, bias, null, null, classes, dim);
            }

            private Logits(Parameter weight, Parameter bias, float[] w, float[] b, int classes, int dim) {
                super(classes, dim);
                this.weight = weight;
                this.bias = bias;
                this.w = w;
                this.b = b;
            }

            @Override
            float[] logits(float[] e, int n) {
                float[] wv = w != null ? w : read(weight);
                float[] bv = b != null ? b : read(bias);
                float[] z = new float[Math.multiplyExact(n, classes)];
                for (int r = 0; r < n; r++) {
                    for (int j = 0; j < classes; j++) {
                        double sum = bv[j];
                        for (int k = 0; k < dim; k++) {
                            sum += (double) e[r * dim + k] * wv[j * dim + k];
                        }
                        z[r * classes + j] = (float) sum;
                    }
                }
                return z;
            }

            @Override
            float[] classWeights() {
                return null;
            }

            @Override
            double targetProbability(float[] logits, float[] features, int n, int[] labels) {
                double[] lse = Softmax.logSumExp(new FloatMatrix(logits, n, classes), 1.0);
                double sum = 0;
                for (int r = 0; r < n; r++) {
                    sum += Math.exp(logits[r * classes + labels[r]] - lse[r]);
                }
                return sum;
            }

            @Override
            HostHead frozen() {
                return new Logits(weight, bias, read(weight), read(bias), classes, dim);
            }
        }

        /** The margin family: the class weights belong to the loss (a DJL parameter, or the Partial FC head's). */
        static final class Margin extends HostHead {
            private final MarginLoss loss;
            private final Supplier<float[]> live;
            private final float[] w;

            Margin(MarginLoss loss, Supplier<float[]> live, int classes, int dim) {
                this(loss, live, null, classes, dim);
            }

            private Margin(MarginLoss loss, Supplier<float[]> live, float[] w, int classes, int dim) {
                super(classes, dim);
                this.loss = loss;
                this.live = live;
                this.w = w;
            }

            private float[] weights() {
                return w != null ? w : live.get();
            }

            /** The class weights as a matrix: {@code C k x D}, with {@code k} sub-centres per class. */
            private FloatMatrix weightMatrix() {
                float[] w = weights();
                return new FloatMatrix(w, w.length / dim, dim);
            }

            @Override
            float[] logits(float[] e, int n) {
                return loss.inferenceLogits(new FloatMatrix(e, n, dim), weightMatrix()).data();
            }

            @Override
            float[] classWeights() {
                return Head.firstSubCentres(weights(), classes, dim);
            }

            /** With the margin: what the loss saw (the library computes it again on the host; C and D are small). */
            @Override
            double targetProbability(float[] logits, float[] features, int n, int[] labels) {
                FloatMatrix w = weightMatrix();
                LossResult result = LossResult.forFeatures(n, classes, dim, w.rows());
                loss.compute(FeatureBatch.of(new FloatMatrix(features, n, dim), w, labels), result);
                float[] p = result.probabilities();
                double sum = 0;
                for (int r = 0; r < n; r++) {
                    sum += p[r * classes + labels[r]];
                }
                return sum;
            }

            @Override
            HostHead frozen() {
                return new Margin(loss, live, live.get(), classes, dim);
            }
        }
    }
}
