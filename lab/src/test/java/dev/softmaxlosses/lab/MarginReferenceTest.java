package dev.softmaxlosses.lab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.softmaxlosses.lab.MarginReference.Common;
import dev.softmaxlosses.lab.MarginReference.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checks {@link MarginReference} itself where the new losses reduce to losses the library already has
 * (arcface, combined_margin, cosface through eval): its finite-difference gradients, its cross-entropy with
 * class weights, label smoothing, ignored rows and reductions, and the identities of docs/LOSSES.md. The
 * parts no older loss has (adaface's and curricularface's {@code gradient=full}, magface's norm) are
 * checked against their derivatives as LOSSES.md writes them.
 */
class MarginReferenceTest {

    @TempDir
    Path dir;

    private record Batch(float[][] x, float[][] w, int[] y, float[] cw, Common common, String spec) {
        double[][] xd() {
            return d(x);
        }

        double[][] wd() {
            return d(w);
        }
    }

    private static double[][] d(float[][] m) {
        double[][] out = new double[m.length][m[0].length];
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m[i].length; j++) {
                out[i][j] = m[i][j];
            }
        }
        return out;
    }

    /** Rows near their class's weight, so that no clamp of the new losses acts. */
    private static Batch batch(Random r, String reduction, double lo, double hi) {
        int n = 6;
        int c = 4;
        int dim = 5;
        float[][] w = new float[c][dim];
        for (float[] row : w) {
            for (int k = 0; k < dim; k++) {
                row[k] = (float) r.nextGaussian();
            }
        }
        int[] y = {0, 3, 1, -100, 2, 1};
        float[][] x = new float[n][dim];
        for (int i = 0; i < n; i++) {
            int t = Math.max(y[i], 0);
            double[] v = new double[dim];
            double norm = 0;
            for (int k = 0; k < dim; k++) {
                v[k] = w[t][k] + 0.9 * r.nextGaussian();
                norm += v[k] * v[k];
            }
            double length = lo + r.nextDouble() * (hi - lo);
            for (int k = 0; k < dim; k++) {
                x[i][k] = (float) (v[k] / Math.sqrt(norm) * length);
            }
        }
        float[] cw = {1f, 2f, 0.5f, 1.5f};
        double[] cwd = {1, 2, 0.5, 1.5};
        String spec = ",label_smoothing=0.1" + (reduction.equals("mean") ? "" : ",reduction=" + reduction);
        return new Batch(x, w, y, cw, new Common(cwd, (float) 0.1, -100, reduction), spec);
    }

    private JsonNode eval(String spec, Batch b) {
        Path in = Cli.write(dir, "input.json", "{\"features\": " + Cli.json(b.x()) + ", \"weights\": " + Cli.json(b.w())
                + ", \"labels\": " + Cli.json(b.y()) + ", \"class_weights\": " + Cli.json(b.cw()) + "}");
        Cli.Run r = Cli.run("eval", "--loss", spec, "--input", in.toString());
        assertEquals(0, r.status(), r::err);
        return r.json();
    }

    private static void close(String what, Result want, JsonNode got) {
        List<String> errors = new ArrayList<>();
        close(errors, "logits", want.logits(), Cli.matrix(got.get("logits")), 1e-4);
        close(errors, "losses", new double[][] {want.losses()}, new double[][] {Cli.doubles(got.get("losses"))}, 1e-4);
        if (want.loss() != null) {
            close(errors, "loss", new double[][] {{want.loss()}}, new double[][] {{got.get("loss").doubleValue()}}, 1e-4);
        }
        close(errors, "grad_features", want.gradFeatures(), Cli.matrix(got.get("grad_features")), 1e-3);
        close(errors, "grad_weights", want.gradWeights(), Cli.matrix(got.get("grad_weights")), 1e-3);
        if (!errors.isEmpty()) {
            fail(what + ": " + errors.subList(0, Math.min(5, errors.size())));
        }
    }

    private static void close(List<String> errors, String field, double[][] want, double[][] got, double tol) {
        for (int i = 0; i < want.length; i++) {
            for (int j = 0; j < want[i].length; j++) {
                if (Math.abs(want[i][j] - got[i][j]) > tol * (1 + Math.abs(want[i][j]))) {
                    errors.add(field + "[" + i + "][" + j + "] " + want[i][j] + " vs " + got[i][j]);
                }
            }
        }
    }

    @Test
    void theReferenceReducesToTheLibrarysOlderLosses() {
        Random r = new Random(77);
        for (String reduction : List.of("mean", "sum", "none")) {
            Batch b = batch(r, reduction, 0.5, 4);
            JsonNode arc = eval("arcface:s=32,m=0.5" + b.spec(), b);
            JsonNode combined = eval("combined_margin:s=32,m1=1,m2=0.4,m3=0" + b.spec(), b);
            JsonNode cosface = eval("cosface:s=32,m=0.35" + b.spec(), b);
            float m04 = 0.4f;
            for (boolean full : List.of(false, true)) {
                close("adaface q = -1 " + full, MarginReference.adaface(b.xd(), b.wd(), b.y(), b.common(), 32, m04,
                        (float) 0.333, 0, 1000, 0, full), combined);
                close("adaface h = 0 " + full, MarginReference.adaface(b.xd(), b.wd(), b.y(), b.common(), 32, 0.35f, 0,
                        (float) 0.01, 20, 100, full), cosface);
            }
            close("elasticface arc std = 0", MarginReference.elasticface(b.xd(), b.wd(), b.y(), b.common(), false, 32,
                    m04, 0, 0, 0, null), combined);
            close("elasticface cos std = 0", MarginReference.elasticface(b.xd(), b.wd(), b.y(), b.common(), true, 32,
                    0.35f, 0, 0, 0, null), cosface);
            close("subcenter k = 1", MarginReference.subcenterArcface(b.xd(), b.wd(), b.y(), b.common(), 32, 0.5f, 1,
                    false), arc);
            // subcenter with k = 2, each class's second sub-centre a copy of its first: the tie goes to the first
            float[][] w2 = new float[b.w().length * 2][];
            for (int c = 0; c < b.w().length; c++) {
                w2[2 * c] = b.w()[c];
                w2[2 * c + 1] = b.w()[c].clone();
            }
            Result sub = MarginReference.subcenterArcface(b.xd(), d(w2), b.y(), b.common(), 32, 0.5f, 2, false);
            int[][] chosen = MarginReference.chosenSubcentres(b.xd(), d(w2), 2);
            boolean allFirst = true;
            for (int[] row : chosen) {
                for (int j : row) {
                    allFirst &= j == 0;
                }
            }
            assertTrue(allFirst, "the first sub-centre of every class is chosen");
            {
                double[][] gw = new double[b.w().length][];
                for (int c = 0; c < gw.length; c++) {
                    gw[c] = sub.gradWeights()[2 * c];
                    assertArrayEquals(new double[gw[c].length], sub.gradWeights()[2 * c + 1], 0.0,
                            "nothing reaches an unchosen sub-centre");
                }
                close("subcenter k = 2", new Result(sub.logits(), sub.losses(), sub.loss(), sub.gradFeatures(), gw,
                        sub.state()), arc);
            }
            // curricularface with t' = 0 held and no mask is arcface: checked where the batch has no hard negatives
            boolean none = true;
            for (boolean[] row : MarginReference.hardNegatives(b.xd(), b.wd(), b.y(), -100, 0.5f)) {
                for (boolean h : row) {
                    none &= !h;
                }
            }
            if (none) {
                close("curricularface", MarginReference.curricularface(b.xd(), b.wd(), b.y(), b.common(), 32, 0.5f, 0.3,
                        true), arc);
            }
        }
    }

    @Test
    void magfaceWithEqualNormsIsArcFacePlusTheRegulariser() {
        Random r = new Random(78);
        Batch b = batch(r, "mean", 40, 40);
        double margin = MarginReference.magfaceMargin(40, 10, 110, 0.45f, 0.8f);
        JsonNode arc = eval("arcface:s=32,m=" + (float) margin + b.spec(), b);
        Result mag = MarginReference.magface(b.xd(), b.wd(), b.y(), b.common(), 32, 10, 110, 0.45f, 0.8f, 35, false);
        double reg = 35 * MarginReference.magfaceG(40, 10, 110);
        double[] losses = Cli.doubles(arc.get("losses"));
        double shift = 0;
        double normaliser = 0;
        for (int i = 0; i < losses.length; i++) {
            if (b.y()[i] != -100) {
                losses[i] += b.cw()[b.y()[i]] * reg;
                shift += b.cw()[b.y()[i]] * reg;
                normaliser += b.cw()[b.y()[i]];
            }
        }
        assertArrayEquals(losses, mag.losses(), 1e-4);
        assertEquals(arc.get("loss").doubleValue() + shift / normaliser, mag.loss(), 1e-4);
        // the radial part of each feature gradient: d l / d a through m(a) and g(a) (LOSSES.md's derivatives)
        double[][] cos = MarginReference.cosines(b.xd(), b.wd());
        double[][] p = Cli.matrix(arc.get("probabilities"));
        double dm = (0.8f - 0.45f) / 100.0;
        for (int i = 0; i < losses.length; i++) {
            int y = b.y()[i];
            double radial = 0;
            double nx = MarginReference.norm(b.xd()[i]);
            for (int k = 0; k < b.x()[i].length; k++) {
                radial += mag.gradFeatures()[i][k] * b.x()[i][k] / nx;
            }
            if (y == -100) {
                assertEquals(0, radial, 0.0);
                continue;
            }
            // dCE/df_y for smoothed, weighted cross-entropy: p_y sum_k w_k q_k - w_y q_y
            double sumWq = 0;
            for (int c = 0; c < p[i].length; c++) {
                sumWq += b.cw()[c] * ((c == y ? 0.9 : 0) + 0.1 / p[i].length);
            }
            double dfy = p[i][y] * sumWq - b.cw()[y] * (0.9 + 0.1 / p[i].length);
            double c = cos[i][y];
            double dT = c > Math.cos(Math.PI - margin) ? -Math.sin(Math.acos(c) + margin)
                    : -(Math.sin(margin) + margin * Math.cos(margin));
            double dg = 1 / (110.0 * 110.0) - 1 / (40.0 * 40.0);
            double expected = (dfy * 32 * dT * dm + b.cw()[y] * 35 * dg) / normaliser;
            assertEquals(expected, radial, 1e-5 + 1e-4 * Math.abs(expected), "radial gradient of row " + i);
        }
    }

    /** curricularface's full gradient adds (0.01 / k) sum_{hard (i, j)} (dL/df_ij) s cos_ij to each counted c_n. */
    @Test
    void curricularfaceFullAddsTheTermOfLossesMd() {
        Random r = new Random(79);
        double[][] x = new double[5][3];
        double[][] w = new double[4][3];
        for (double[] row : x) {
            for (int k = 0; k < 3; k++) {
                row[k] = r.nextGaussian();
            }
        }
        for (double[] row : w) {
            for (int k = 0; k < 3; k++) {
                row[k] = r.nextGaussian();
            }
        }
        int[] y = {0, 1, 2, 3, 1};
        Common common = new Common(null, 0, -100, "sum");
        Result exact = MarginReference.curricularface(x, w, y, common, 8, 0.5, 0.2, false);
        Result full = MarginReference.curricularface(x, w, y, common, 8, 0.5, 0.2, true);
        boolean[][] hard = MarginReference.hardNegatives(x, w, y, -100, 0.5);
        double[][] cos = MarginReference.cosines(x, w);
        double sum = 0;
        int count = 0;
        for (int i = 0; i < x.length; i++) {
            double lse = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (double f : full.logits()[i]) {
                max = Math.max(max, f);
            }
            for (double f : full.logits()[i]) {
                lse += Math.exp(f - max);
            }
            for (int j = 0; j < w.length; j++) {
                if (hard[i][j]) {
                    count++;
                    double pij = Math.exp(full.logits()[i][j] - max) / lse;
                    sum += pij * 8 * cos[i][j];
                }
            }
        }
        assertTrue(count > 0, "the batch has hard negatives");
        double dtdc = 0.01 / x.length * sum;
        // the extra gradient of row n is dtdc * d c_n / d x_n = dtdc (w_hat_y - c x_hat) / ||x||
        for (int n = 0; n < x.length; n++) {
            double nx = MarginReference.norm(x[n]);
            double nw = MarginReference.norm(w[y[n]]);
            for (int k = 0; k < 3; k++) {
                double dc = (w[y[n]][k] / nw - cos[n][y[n]] * x[n][k] / nx) / nx;
                assertEquals(exact.gradFeatures()[n][k] + dtdc * dc, full.gradFeatures()[n][k], 1e-6,
                        "row " + n + " entry " + k);
            }
        }
        assertEquals(0.01 * (cos[0][0] + cos[1][1] + cos[2][2] + cos[3][3] + cos[4][1]) / 5 + 0.99 * 0.2,
                full.state().get("t"), 1e-12);
    }
}
