package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.softmaxlosses.lab.MarginReference.Common;
import dev.softmaxlosses.lab.MarginReference.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.StringJoiner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The five margin losses of issue 16 ({@code adaface}, {@code magface}, {@code curricularface},
 * {@code elasticface}, {@code subcenter_arcface}) through {@code softmax-lab eval}, compared with the
 * independent double-precision {@link MarginReference} (written from docs/LOSSES.md) on small seeded
 * random cases (ignored rows, class weights, label smoothing, every reduction, state fields given or
 * not): logits, losses and loss within {@code 1e-4} relative (plus float32's rounding of the logits'
 * scale), gradients within {@code 1e-3} relative plus {@code 1e-3} absolute, the updated state fields.
 * Then {@code "shards"} and {@code "block"}, and the identities with the older losses (eval against eval).
 */
class NewMarginLossEvalTest {

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- a case

    /** A batch as eval reads it (floats) with its common parameters. */
    private record Data(float[][] x, float[][] w, int[] y, float[] classWeights, String labelSmoothing, int ignoreIndex,
                        String reduction) {

        Common common() {
            return new Common(classWeights == null ? null : doubles(classWeights),
                    labelSmoothing == null ? 0 : p(labelSmoothing), ignoreIndex, reduction);
        }

        /** The common parameters as spec parameters, each only where it is not the default. */
        String spec() {
            StringBuilder s = new StringBuilder();
            if (labelSmoothing != null) {
                s.append(",label_smoothing=").append(labelSmoothing);
            }
            if (ignoreIndex != -100) {
                s.append(",ignore_index=").append(ignoreIndex);
            }
            if (!reduction.equals("mean")) {
                s.append(",reduction=").append(reduction);
            }
            return s.toString();
        }

        double[][] xd() {
            return doubles(x);
        }

        double[][] wd() {
            return doubles(w);
        }

        String json(String fields) {
            StringBuilder json = new StringBuilder("{");
            if (fields != null && !fields.isEmpty()) {
                json.append(fields).append(", ");
            }
            json.append("\"features\": ").append(Cli.json(x));
            json.append(", \"weights\": ").append(Cli.json(w));
            json.append(", \"labels\": ").append(Cli.json(y));
            if (classWeights != null) {
                json.append(", \"class_weights\": ").append(Cli.json(classWeights));
            }
            return json.append('}').toString();
        }
    }

    /** A spec parameter's value as the float32 number the library holds, in double. */
    private static double p(String value) {
        return (float) Double.parseDouble(value);
    }

    private static double[] doubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    private static double[][] doubles(float[][] m) {
        double[][] d = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            d[i] = doubles(m[i]);
        }
        return d;
    }

    private static <T> T pick(Random r, List<T> values) {
        return values.get(r.nextInt(values.size()));
    }

    /** Rows of dimension d with random directions and norms log-uniform in [lo, hi]. */
    private static float[][] vectors(Random r, int rows, int d, double lo, double hi) {
        float[][] v = new float[rows][d];
        for (float[] row : v) {
            double[] g = new double[d];
            double norm = 0;
            for (int k = 0; k < d; k++) {
                g[k] = r.nextGaussian();
                norm += g[k] * g[k];
            }
            norm = Math.sqrt(norm);
            double length = Math.exp(Math.log(lo) + r.nextDouble() * (Math.log(hi) - Math.log(lo)));
            for (int k = 0; k < d; k++) {
                row[k] = (float) (g[k] / norm * length);
            }
        }
        return v;
    }

    /**
     * A random batch: N in 3..8, C in 3..7, D in 2..6, {@code k} weight rows per class, feature norms in
     * [lo, hi], about a fifth of the rows ignored (never the first two), class weights half of the time, label
     * smoothing a third of the time, any reduction.
     */
    private static Data random(Random r, int k, double lo, double hi) {
        int n = 3 + r.nextInt(6);
        int c = 3 + r.nextInt(5);
        int d = 2 + r.nextInt(5);
        float[][] x = vectors(r, n, d, lo, hi);
        float[][] w = vectors(r, c * k, d, 0.5, 2);
        int ignore = r.nextBoolean() ? -100 : -1;
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i >= 2 && r.nextDouble() < 0.2 ? ignore : r.nextInt(c);
        }
        float[] cw = null;
        if (r.nextBoolean()) {
            cw = new float[c];
            for (int j = 0; j < c; j++) {
                cw[j] = pick(r, List.of(0.5f, 1f, 2f, 0f, 1.5f, 3f));
            }
            cw[y[0]] = 1.25f;
        }
        String smoothing = r.nextInt(3) == 0 ? pick(r, List.of("0.1", "0.25")) : null;
        return new Data(x, w, y, cw, smoothing, ignore, pick(r, List.of("mean", "sum", "none")));
    }

    // ---------------------------------------------------------------- running eval and comparing

    private JsonNode eval(String spec, Data data, String fields) {
        Path in = Cli.write(dir, "input.json", data.json(fields));
        Cli.Run r = Cli.run("eval", "--loss", spec, "--input", in.toString());
        assertEquals(0, r.status(), () -> spec + " " + fields + ": status 0; stderr: " + r.err());
        assertEquals("", r.err(), "nothing on stderr");
        return r.json();
    }

    /** eval's output as a reference result (its state fields left out). */
    private static Result result(JsonNode got) {
        JsonNode loss = got.get("loss");
        return new Result(got.has("logits") ? Cli.matrix(got.get("logits")) : null,
                got.has("losses") ? Cli.doubles(got.get("losses")) : null,
                loss == null || loss.isNull() ? null : loss.doubleValue(),
                got.has("grad_features") ? Cli.matrix(got.get("grad_features")) : null,
                got.has("grad_weights") ? Cli.matrix(got.get("grad_weights")) : null, Map.of());
    }

    /** Every field of {@code got} against {@code want}; logits only where {@code got} has them. */
    private static List<String> compare(Result want, Result got, int samples) {
        List<String> errors = new ArrayList<>();
        double scale = 1;
        for (double[] row : want.logits()) {
            for (double v : row) {
                scale = Math.max(scale, Math.abs(v));
            }
        }
        double abs = 1e-5 * scale;
        if (got.logits() != null) {
            compare(errors, "logits", want.logits(), got.logits(), 1e-4, abs);
        }
        compare(errors, "losses", new double[][] {want.losses()}, new double[][] {got.losses()}, 1e-4, abs);
        if (want.loss() == null || got.loss() == null) {
            if (want.loss() != got.loss()) {
                errors.add("loss: expected " + want.loss() + ", got " + got.loss());
            }
        } else {
            compare(errors, "loss", new double[][] {{want.loss()}}, new double[][] {{got.loss()}}, 1e-4,
                    abs * Math.max(1, samples));
        }
        compare(errors, "grad_features", want.gradFeatures(), got.gradFeatures(), 1e-3, 1e-3);
        compare(errors, "grad_weights", want.gradWeights(), got.gradWeights(), 1e-3, 1e-3);
        return errors;
    }

    private static void compare(List<String> errors, String field, double[][] want, double[][] got, double rel,
                                double abs) {
        if (got == null || got.length != want.length) {
            errors.add(field + ": expected " + want.length + " rows, got " + (got == null ? "none" : got.length));
            return;
        }
        for (int i = 0; i < want.length; i++) {
            if (got[i] == null || got[i].length != want[i].length) {
                errors.add(field + "[" + i + "]: expected " + want[i].length + " values, got "
                        + (got[i] == null ? "none" : got[i].length));
                continue;
            }
            for (int j = 0; j < want[i].length; j++) {
                double e = want[i][j];
                double g = got[i][j];
                if (!Double.isFinite(g) || Math.abs(g - e) > abs + rel * Math.abs(e)) {
                    errors.add(field + "[" + i + "][" + j + "]: expected " + e + ", got " + g);
                }
            }
        }
    }

    private static void assertNone(String what, List<String> errors) {
        if (!errors.isEmpty()) {
            fail(what + ": " + errors.size() + " values off, first: "
                    + String.join("; ", errors.subList(0, Math.min(5, errors.size()))));
        }
    }

    /** The output's state fields equal the reference's updated state. */
    private static void assertState(String what, Result want, JsonNode got) {
        for (Map.Entry<String, Double> e : want.state().entrySet()) {
            JsonNode field = got.get(e.getKey());
            assertNotNull(field, () -> what + ": the output has the state field " + e.getKey());
            double expected = e.getValue();
            if (e.getKey().equals("step")) {
                assertTrue(field.isIntegralNumber(), () -> what + ": step is an integer: " + field);
                assertEquals((long) expected, field.longValue(), what + ": step");
            } else {
                assertEquals(expected, field.doubleValue(), 1e-6 + 1e-5 * Math.abs(expected), what + ": " + e.getKey());
            }
        }
    }

    /** Runs the case, compares every field and the state with the reference; returns the output. */
    private JsonNode check(String spec, Data data, String fields, Result want) {
        JsonNode got = eval(spec, data, fields);
        String what = spec + " {" + fields + "} labels " + Cli.json(data.y());
        assertNone(what, compare(want, result(got), data.y().length));
        assertState(what, want, got);
        for (String name : List.of("batch_mean", "batch_std", "t", "step")) {
            if (!want.state().containsKey(name)) {
                assertFalse(got.has(name), () -> what + ": no state field " + name);
            }
        }
        return got;
    }

    // ---------------------------------------------------------------- each loss against the reference

    @Test
    void adafaceMatchesTheReference() {
        Random r = new Random(1601);
        for (int i = 0; i < 14; i++) {
            Data d = random(r, 1, 0.5, 6);
            String s = pick(r, List.of("16", "32", "64"));
            String m = pick(r, List.of("0.4", "0.2", "0.6"));
            String h = pick(r, List.of("0.333", "1", "2.5"));
            String tAlpha = pick(r, List.of("0.01", "0.5", "1"));
            boolean full = r.nextBoolean();
            boolean state = r.nextBoolean();
            float mean = state ? pick(r, List.of(2f, 3.5f, 1.25f)) : 20f;
            float std = state ? pick(r, List.of(0.5f, 1.5f, 0f)) : 100f;
            String spec = "adaface:s=" + s + ",m=" + m + ",h=" + h + ",t_alpha=" + tAlpha + (full ? ",gradient=full" : "")
                    + d.spec();
            String fields = state ? "\"batch_mean\": " + mean + ", \"batch_std\": " + std : "";
            Result want = MarginReference.adaface(d.xd(), d.wd(), d.y(), d.common(), p(s), p(m), p(h), p(tAlpha), mean,
                    std, full);
            check(spec, d, fields, want);
        }
        // the defaults
        Data d = random(new Random(1602), 1, 0.5, 30);
        check("adaface:s=64" + d.spec(), d, "", MarginReference.adaface(d.xd(), d.wd(), d.y(), d.common(), 64, p("0.4"),
                p("0.333"), p("0.01"), 20, 100, false));
    }

    @Test
    void adafaceStateUpdatesFromTheCountedRowsOnly() {
        // one counted row: batch_mean updates, batch_std keeps its value; none: both keep theirs
        Random r = new Random(1603);
        Data d = random(r, 1, 0.5, 4);
        int[] one = d.y().clone();
        for (int i = 1; i < one.length; i++) {
            one[i] = d.ignoreIndex();
        }
        Data single = new Data(d.x(), d.w(), one, null, null, d.ignoreIndex(), "mean");
        String spec = "adaface:t_alpha=0.5" + single.spec();
        Result want = MarginReference.adaface(single.xd(), single.wd(), one, single.common(), 64, p("0.4"), p("0.333"),
                0.5, 3, 1.5, false);
        JsonNode got = check(spec, single, "\"batch_mean\": 3.0, \"batch_std\": 1.5", want);
        assertEquals(1.5, got.get("batch_std").doubleValue(), 0.0, "one counted row keeps batch_std");
        int[] none = one.clone();
        none[0] = d.ignoreIndex();
        Data empty = new Data(d.x(), d.w(), none, null, null, d.ignoreIndex(), "mean");
        JsonNode zero = eval(spec, empty, "\"batch_mean\": 3.0, \"batch_std\": 1.5");
        assertEquals(3.0, zero.get("batch_mean").doubleValue(), 0.0, "no counted row keeps batch_mean");
        assertEquals(1.5, zero.get("batch_std").doubleValue(), 0.0, "no counted row keeps batch_std");
        assertEquals(0.0, zero.get("loss").doubleValue(), 0.0);
    }

    @Test
    void magfaceMatchesTheReference() {
        Random r = new Random(1611);
        List<String[]> params = List.of(new String[] {"64", "10", "110", "0.45", "0.8", "35", "false"},
                new String[] {"16", "10", "110", "0.45", "0.8", "35", "true"},
                new String[] {"30", "2", "50", "0.3", "0.7", "5", "false"},
                new String[] {"8", "20", "80", "0.6", "0.2", "1", "true"});
        for (int i = 0; i < 12; i++) {
            String[] q = params.get(i % params.size());
            Data d = random(r, 1, p(q[1]) * 0.6, p(q[2]) * 1.2);
            String spec = "magface:s=" + q[0] + ",l_a=" + q[1] + ",u_a=" + q[2] + ",l_m=" + q[3] + ",u_m=" + q[4]
                    + ",lambda_g=" + q[5] + ",easy_margin=" + q[6] + d.spec();
            Result want = MarginReference.magface(d.xd(), d.wd(), d.y(), d.common(), p(q[0]), p(q[1]), p(q[2]), p(q[3]),
                    p(q[4]), p(q[5]), Boolean.parseBoolean(q[6]));
            check(spec, d, "", want);
        }
        Data d = random(new Random(1612), 1, 8, 120);
        check("magface:s=64" + d.spec(), d, "", MarginReference.magface(d.xd(), d.wd(), d.y(), d.common(), 64, 10, 110,
                p("0.45"), p("0.8"), 35, false));
    }

    @Test
    void curricularfaceMatchesTheReference() {
        Random r = new Random(1621);
        int hard = 0;
        for (int i = 0; i < 14; i++) {
            Data d = random(r, 1, 0.5, 4);
            String s = pick(r, List.of("16", "64"));
            String m = pick(r, List.of("0.5", "0.3", "0.8"));
            boolean full = r.nextBoolean();
            Float t = r.nextInt(3) == 0 ? null : pick(r, List.of(0f, 0.3f, -0.2f, 0.75f));
            String spec = "curricularface:s=" + s + ",m=" + m + (full ? ",gradient=full" : "") + d.spec();
            Result want = MarginReference.curricularface(d.xd(), d.wd(), d.y(), d.common(), p(s), p(m),
                    t == null ? 0 : t, full);
            check(spec, d, t == null ? "" : "\"t\": " + t, want);
            for (boolean[] row : MarginReference.hardNegatives(d.xd(), d.wd(), d.y(), d.ignoreIndex(), p(m))) {
                for (boolean b : row) {
                    hard += b ? 1 : 0;
                }
            }
        }
        assertTrue(hard > 10, "the cases have hard negatives: " + hard);
        Data d = random(new Random(1622), 1, 0.5, 4);
        check("curricularface:s=64" + d.spec(), d, "", MarginReference.curricularface(d.xd(), d.wd(), d.y(), d.common(), 64,
                0.5, 0, false));
    }

    @Test
    void elasticfaceMatchesTheReference() {
        Random r = new Random(1631);
        for (int i = 0; i < 14; i++) {
            Data d = random(r, 1, 0.5, 4);
            boolean cos = r.nextBoolean();
            String s = pick(r, List.of("16", "64"));
            String m = cos ? pick(r, List.of("0.35", "0.2")) : pick(r, List.of("0.5", "0.3"));
            String std = pick(r, List.of("0.05", "0.2"));
            long seed = pick(r, List.of(0L, 7L, 123456789L));
            Long step = r.nextInt(3) == 0 ? null : pick(r, List.of(0L, 5L, 41L));
            float[] margins = null;
            if (r.nextInt(4) == 0) {
                margins = new float[d.y().length];
                for (int n = 0; n < margins.length; n++) {
                    margins[n] = (float) (0.1 + 0.5 * r.nextDouble());
                }
            }
            String spec = "elasticface:variant=" + (cos ? "cos" : "arc") + ",s=" + s + ",m=" + m + ",std=" + std
                    + ",seed=" + seed + d.spec();
            StringJoiner fields = new StringJoiner(", ");
            if (step != null) {
                fields.add("\"step\": " + step);
            }
            if (margins != null) {
                fields.add("\"margins\": " + Cli.json(margins));
            }
            Result want = MarginReference.elasticface(d.xd(), d.wd(), d.y(), d.common(), cos, p(s), p(m), p(std), seed,
                    step == null ? 0 : step, margins == null ? null : doubles(margins));
            check(spec, d, fields.toString(), want);
        }
        for (String variant : List.of("arc", "cos")) {
            Data d = random(new Random(1632), 1, 0.5, 4);
            check("elasticface:variant=" + variant + d.spec(), d, "", MarginReference.elasticface(d.xd(), d.wd(), d.y(),
                    d.common(), variant.equals("cos"), 64, p(variant.equals("cos") ? "0.35" : "0.5"), p("0.05"), 0, 0,
                    null));
        }
    }

    @Test
    void subcenterArcfaceMatchesTheReference() {
        Random r = new Random(1641);
        for (int i = 0; i < 12; i++) {
            int k = 1 + i % 3;
            Data d = random(r, k, 0.5, 4);
            String s = pick(r, List.of("16", "64"));
            String m = pick(r, List.of("0.5", "0.3"));
            boolean easy = r.nextBoolean();
            String spec = "subcenter_arcface:k=" + k + ",s=" + s + ",m=" + m + ",easy_margin=" + easy + d.spec();
            Result want = MarginReference.subcenterArcface(d.xd(), d.wd(), d.y(), d.common(), p(s), p(m), k, easy);
            JsonNode got = check(spec, d, "", want);
            assertEquals(d.w().length / k, got.get("logits").get(0).size(), "N x C logits");
            assertEquals(d.w().length, got.get("grad_weights").size(), "C*k x D weight gradients");
        }
        Data d = random(new Random(1642), 3, 0.5, 4);
        check("subcenter_arcface:s=64" + d.spec(), d, "", MarginReference.subcenterArcface(d.xd(), d.wd(), d.y(), d.common(),
                64, 0.5, 3, false));
    }

    /**
     * The harness itself (random cases, their JSON and spec, the reference's cross-entropy, reductions and
     * finite differences, the tolerances) on the older losses the new ones reduce to: subcenter_arcface with
     * k = 1 is arcface, elasticface with std = 0 combined_margin (arc) or cosface (cos). Passes without the
     * new losses.
     */
    @Test
    void theHarnessAgreesWithTheOlderLossesTheNewOnesReduceTo() {
        Random r = new Random(1599);
        for (int i = 0; i < 9; i++) {
            Data d = random(r, 1, 0.5, 4);
            String s = pick(r, List.of("16", "64"));
            String m = pick(r, List.of("0.5", "0.3"));
            boolean easy = i % 3 == 0;
            Result arc = MarginReference.subcenterArcface(d.xd(), d.wd(), d.y(), d.common(), p(s), p(m), 1, easy);
            check("arcface:s=" + s + ",m=" + m + ",easy_margin=" + easy + d.spec(), d, "", arc);
            Result combined = MarginReference.elasticface(d.xd(), d.wd(), d.y(), d.common(), false, p(s), p(m), 0, 0, 0,
                    null);
            check("combined_margin:m1=1,m3=0,s=" + s + ",m2=" + m + d.spec(), d, "", stateless(combined));
            Result cosface = MarginReference.elasticface(d.xd(), d.wd(), d.y(), d.common(), true, p(s), p(m), 0, 0, 0,
                    null);
            check("cosface:s=" + s + ",m=" + m + d.spec(), d, "", stateless(cosface));
        }
    }

    private static Result stateless(Result r) {
        return new Result(r.logits(), r.losses(), r.loss(), r.gradFeatures(), r.gradWeights(), Map.of());
    }

    // ---------------------------------------------------------------- "shards" and "block"

    /** One case of each loss, with its state given; every way of running it gives the reference's values. */
    @Test
    void shardsAndBlockGiveTheReferenceValues() {
        Random r = new Random(1651);
        List<String> options = new ArrayList<>();
        for (int k = 1; k <= 7; k++) {
            options.add("\"shards\": " + k);
        }
        options.add("\"block\": 2");
        options.add("\"shards\": 3, \"block\": 2");
        for (int loss = 0; loss < 7; loss++) {
            Data d;
            String spec;
            String fields;
            Result want;
            switch (loss) {
                case 0, 1 -> {
                    boolean full = loss == 1;
                    d = random(r, 1, 0.5, 6);
                    spec = "adaface:s=32,t_alpha=0.5" + (full ? ",gradient=full" : "") + d.spec();
                    fields = "\"batch_mean\": 2.5, \"batch_std\": 1.0";
                    want = MarginReference.adaface(d.xd(), d.wd(), d.y(), d.common(), 32, p("0.4"), p("0.333"), 0.5, 2.5,
                            1, full);
                }
                case 2 -> {
                    d = random(r, 1, 8, 120);
                    spec = "magface:s=16" + d.spec();
                    fields = "";
                    want = MarginReference.magface(d.xd(), d.wd(), d.y(), d.common(), 16, 10, 110, p("0.45"), p("0.8"),
                            35, false);
                }
                case 3, 4 -> {
                    boolean full = loss == 4;
                    d = random(r, 1, 0.5, 4);
                    spec = "curricularface:s=32" + (full ? ",gradient=full" : "") + d.spec();
                    fields = "\"t\": 0.25";
                    want = MarginReference.curricularface(d.xd(), d.wd(), d.y(), d.common(), 32, 0.5, 0.25, full);
                }
                case 5 -> {
                    d = random(r, 1, 0.5, 4);
                    spec = "elasticface:s=32,std=0.1,seed=3" + d.spec();
                    fields = "\"step\": 9";
                    want = MarginReference.elasticface(d.xd(), d.wd(), d.y(), d.common(), false, 32, 0.5, p("0.1"), 3, 9,
                            null);
                }
                default -> {
                    d = random(r, 2, 0.5, 4);
                    spec = "subcenter_arcface:k=2,s=32" + d.spec();
                    fields = "";
                    want = MarginReference.subcenterArcface(d.xd(), d.wd(), d.y(), d.common(), 32, 0.5, 2, false);
                }
            }
            JsonNode plain = check(spec, d, fields, want);
            for (String option : options) {
                String all = fields.isEmpty() ? option : option + ", " + fields;
                JsonNode got = check(spec, d, all, want);
                boolean block = option.contains("block");
                assertEquals(!block, got.has("logits"), spec + " " + option + ": logits only without a block");
                assertNone(spec + " " + option + " against the plain run",
                        compare(result(plain), result(got), d.y().length));
            }
        }
    }

    // ---------------------------------------------------------------- identities with the older losses

    /** Rows near their class's weight (target cosines well inside (-0.9, 0.999)), every |cosine| below 0.999. */
    private static Data near(Random r, int n, int c, int d, double noise, double lo, double hi, String reduction) {
        for (int attempt = 0; ; attempt++) {
            float[][] w = vectors(r, c, d, 0.5, 2);
            int ignore = -100;
            int[] y = new int[n];
            float[][] x = new float[n][d];
            for (int i = 0; i < n; i++) {
                y[i] = i >= 2 && r.nextDouble() < 0.2 ? ignore : r.nextInt(c);
                int target = y[i] == ignore ? r.nextInt(c) : y[i];
                double norm = 0;
                double[] v = new double[d];
                double wn = MarginReference.norm(doubles(w[target]));
                for (int k = 0; k < d; k++) {
                    v[k] = w[target][k] / wn + noise * r.nextGaussian();
                    norm += v[k] * v[k];
                }
                norm = Math.sqrt(norm);
                double length = lo + r.nextDouble() * (hi - lo);
                for (int k = 0; k < d; k++) {
                    x[i][k] = (float) (v[k] / norm * length);
                }
            }
            float[] cw = {1f, 2f, 0.5f, 1.5f, 1f, 3f, 0.25f};
            Data data = new Data(x, w, y, java.util.Arrays.copyOf(cw, c), r.nextBoolean() ? "0.1" : null, ignore,
                    reduction);
            if (inside(data) || attempt > 1000) {
                return data;
            }
        }
    }

    private static boolean inside(Data data) {
        double[][] cos = MarginReference.cosines(data.xd(), data.wd());
        for (int i = 0; i < cos.length; i++) {
            for (double c : cos[i]) {
                if (Math.abs(c) > 0.998) {
                    return false;
                }
            }
            if (data.y()[i] != data.ignoreIndex() && cos[i][data.y()[i]] < -0.85) {
                return false;
            }
        }
        return true;
    }

    private void assertSame(String what, JsonNode want, JsonNode got, int samples) {
        assertNone(what, compare(result(want), result(got), samples));
    }

    @Test
    void adafaceAtQMinusOneIsCombinedMarginAndAtQZeroCosFace() {
        Random r = new Random(1661);
        for (String reduction : List.of("mean", "sum", "none")) {
            Data d = near(r, 6, 5, 4, 0.8, 0.5, 5, reduction);
            for (String gradient : List.of("", ",gradient=full")) {
                // batch_mean far above every norm, batch_std 0, t_alpha 0: h (a' - mean') / (std' + eps) <= -1 for every row
                JsonNode ada = eval("adaface:s=32,m=0.4,t_alpha=0" + gradient + d.spec(), d,
                        "\"batch_mean\": 1000.0, \"batch_std\": 0.0");
                assertEquals(1000.0, ada.get("batch_mean").doubleValue(), 0.0, "t_alpha = 0 keeps batch_mean");
                assertEquals(0.0, ada.get("batch_std").doubleValue(), 0.0, "t_alpha = 0 keeps batch_std");
                JsonNode combined = eval("combined_margin:s=32,m1=1,m2=0.4,m3=0" + d.spec(), d, "");
                assertSame("adaface q = -1 " + reduction + gradient, combined, ada, d.y().length);
                // h = 0: q = 0 for every row
                JsonNode flat = eval("adaface:s=32,m=0.35,h=0" + gradient + d.spec(), d, "");
                JsonNode cosface = eval("cosface:s=32,m=0.35" + d.spec(), d, "");
                assertSame("adaface q = 0 " + reduction + gradient, cosface, flat, d.y().length);
            }
        }
    }

    @Test
    void curricularfaceWithoutHardNegativesIsArcFace() {
        Random r = new Random(1671);
        for (String reduction : List.of("mean", "sum", "none")) {
            int c = 5;
            int dim = 6;
            float[][] w = new float[c][dim];
            for (int j = 0; j < c; j++) {
                w[j][j] = (float) (1 + 0.5 * r.nextDouble());
                for (int k = 0; k < dim; k++) {
                    w[j][k] += (float) (0.05 * r.nextGaussian());
                }
            }
            int n = 7;
            int[] y = new int[n];
            float[][] x = new float[n][dim];
            for (int i = 0; i < n; i++) {
                y[i] = i == 4 ? -100 : r.nextInt(c);
                int target = Math.max(y[i], 0);
                for (int k = 0; k < dim; k++) {
                    x[i][k] = (float) (2 * w[target][k] + 0.15 * r.nextGaussian());
                }
            }
            Data d = new Data(x, w, y, new float[] {1f, 2f, 0.5f, 1f, 3f}, "0.1", -100, reduction);
            for (boolean[] row : MarginReference.hardNegatives(d.xd(), d.wd(), y, -100, 0.5)) {
                for (boolean b : row) {
                    assertFalse(b, "the case has no hard negatives");
                }
            }
            JsonNode arc = eval("arcface:s=32,m=0.5" + d.spec(), d, "");
            for (String gradient : List.of("", ",gradient=full")) {
                JsonNode curr = eval("curricularface:s=32,m=0.5" + gradient + d.spec(), d, "\"t\": 0.0");
                assertSame("curricularface without hard negatives " + reduction + gradient, arc, curr, n);
                assertEquals(MarginReference.curricularT(d.xd(), d.wd(), y, -100, 0), curr.get("t").doubleValue(), 1e-6,
                        "t' = 0.01 mean(c)");
            }
        }
    }

    @Test
    void elasticfaceWithoutSpreadIsCombinedMarginOrCosFace() {
        Random r = new Random(1681);
        for (String reduction : List.of("mean", "sum", "none")) {
            Data d = random(r, 1, 0.5, 4);
            d = new Data(d.x(), d.w(), d.y(), d.classWeights(), d.labelSmoothing(), d.ignoreIndex(), reduction);
            assertSame("elasticface arc, std = 0", eval("combined_margin:s=32,m1=1,m2=0.45,m3=0" + d.spec(), d, ""),
                    eval("elasticface:std=0,s=32,m=0.45" + d.spec(), d, "\"step\": 3"), d.y().length);
            assertSame("elasticface cos, std = 0", eval("cosface:s=32,m=0.3" + d.spec(), d, ""),
                    eval("elasticface:variant=cos,std=0,s=32,m=0.3" + d.spec(), d, ""), d.y().length);
            assertSame("elasticface cos's default m is 0.35", eval("cosface:s=64,m=0.35" + d.spec(), d, ""),
                    eval("elasticface:variant=cos,std=0" + d.spec(), d, ""), d.y().length);
            assertSame("elasticface arc's default m is 0.5", eval("combined_margin:s=64,m1=1,m2=0.5,m3=0" + d.spec(), d, ""),
                    eval("elasticface:std=0" + d.spec(), d, ""), d.y().length);
        }
    }

    @Test
    void subcenterArcfaceWithOneSubcentreIsArcFace() {
        Random r = new Random(1691);
        for (String reduction : List.of("mean", "sum", "none")) {
            Data d = random(r, 1, 0.5, 4);
            d = new Data(d.x(), d.w(), d.y(), d.classWeights(), d.labelSmoothing(), d.ignoreIndex(), reduction);
            for (String params : List.of("s=32,m=0.4", "s=16,m=0.5,easy_margin=true")) {
                assertSame("subcenter_arcface k = 1 " + params, eval("arcface:" + params + d.spec(), d, ""),
                        eval("subcenter_arcface:k=1," + params + d.spec(), d, ""), d.y().length);
            }
        }
    }

    @Test
    void magfaceWithEqualNormsIsArcFaceWithItsMarginPlusTheRegulariser() {
        Random r = new Random(1701);
        double a = 40;
        double margin = MarginReference.magfaceMargin(a, 10, 110, p("0.45"), p("0.8"));
        double reg = 35 * MarginReference.magfaceG(a, 10, 110);
        for (String reduction : List.of("mean", "sum", "none")) {
            Data d = random(r, 1, a, a);
            d = new Data(d.x(), d.w(), d.y(), d.classWeights(), d.labelSmoothing(), d.ignoreIndex(), reduction);
            JsonNode mag = eval("magface:s=32" + d.spec(), d, "");
            JsonNode arc = eval("arcface:s=32,m=" + margin + d.spec(), d, "");
            Result ma = result(mag);
            Result ar = result(arc);
            int n = d.y().length;
            double[] shifted = ar.losses().clone();
            double sum = 0;
            double normaliser = 0;
            for (int i = 0; i < n; i++) {
                if (d.y()[i] != d.ignoreIndex()) {
                    double wy = d.classWeights() == null ? 1 : d.classWeights()[d.y()[i]];
                    shifted[i] += wy * reg;
                    sum += wy * reg;
                    normaliser += wy;
                }
            }
            Double loss = ar.loss() == null ? null
                    : ar.loss() + (reduction.equals("sum") ? sum : normaliser == 0 ? 0 : sum / normaliser);
            // the feature gradients agree across the norm (arcface's has no radial part; magface's has)
            double[][] tangential = ma.gradFeatures();
            for (int i = 0; i < n; i++) {
                double[] xi = doubles(d.x()[i]);
                double nx = MarginReference.norm(xi);
                double radial = 0;
                for (int k = 0; k < xi.length; k++) {
                    radial += tangential[i][k] * xi[k] / nx;
                }
                for (int k = 0; k < xi.length; k++) {
                    tangential[i][k] -= radial * xi[k] / nx;
                }
            }
            Result want = new Result(ar.logits(), shifted, loss, ar.gradFeatures(), ar.gradWeights(), Map.of());
            Result got = new Result(ma.logits(), ma.losses(), ma.loss(), tangential, ma.gradWeights(), Map.of());
            assertNone("magface with every norm " + a + " " + reduction, compare(want, got, n));
        }
    }

    // ---------------------------------------------------------------- state fields on the wrong loss

    @Test
    void aStateFieldOnALossWithoutThatStateIsRefused() {
        String body = "\"features\": [[1, 0], [0.5, 0.5]], \"weights\": [[1, 0], [0, 1], [1, 1]], \"labels\": [0, 2]";
        List<String[]> cases = List.of(new String[] {"arcface", "\"batch_mean\": 1.0", "batch_mean"},
                new String[] {"curricularface", "\"batch_std\": 1.0", "batch_std"},
                new String[] {"adaface", "\"step\": 2", "step"},
                new String[] {"magface", "\"margins\": [0.5, 0.5]", "margins"},
                new String[] {"elasticface", "\"batch_mean\": 1.0", "batch_mean"},
                new String[] {"subcenter_arcface:k=1", "\"step\": 1", "step"});
        for (String[] c : cases) {
            Path in = Cli.write(dir, "input.json", "{" + c[1] + ", " + body + "}");
            Cli.Run run = Cli.run("eval", "--loss", c[0], "--input", in.toString());
            assertEquals(SoftmaxLab.EXIT_BAD_INPUT, run.status(), () -> c[0] + " " + c[1] + ": status 2; " + run.err());
            String line = run.err().strip();
            assertTrue(line.startsWith("error: ") && !line.contains("\n"), () -> "one error line: " + run.err());
            assertTrue(line.contains(c[2]), () -> "names " + c[2] + ": " + line);
        }
    }
}
