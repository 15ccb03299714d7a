package dev.softmaxlosses.lab.report;

import dev.softmaxlosses.lab.metrics.OneShot;
import dev.softmaxlosses.lab.metrics.RunMetrics;
import dev.softmaxlosses.lab.run.RunResult;

import java.util.List;
import java.util.Locale;

/** The table the terminal shows at the end: one line per loss, the report's main numbers. */
public final class SummaryTable {

    private static final String[] HEADERS = {"test acc", "TAR@1e-2", "TAR@1e-3", "EER", "ECE", "|f|", "intra", "inter", "seconds"};

    /** The headers of the verification columns, left out when no class was held out. */
    private static final List<String> VERIFICATION = List.of("TAR@1e-2", "TAR@1e-3", "EER");

    private SummaryTable() {}

    /**
     * The table as text, lines ending in {@code \n}: test accuracy, open-set TAR at two FARs and EER,
     * ECE, the mean feature norm, the mean intra-class angle and the smallest inter-class angle (in
     * degrees: written "deg" in the last line, not with a degree sign, which a terminal without UTF-8
     * would garble), and the training time. Without held-out classes ({@code --held-out none}) the
     * verification columns are left out.
     */
    public static String of(List<RunResult> runs) {
        boolean oneShot = runs.stream().anyMatch(r -> r.metrics().oneShot() != null);
        int width = "loss".length();
        for (RunResult r : runs) {
            width = Math.max(width, r.spec().length());
        }
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-" + width + "s", "loss"));
        boolean verified = runs.stream().allMatch(r -> r.metrics().hasVerification());
        for (String h : HEADERS) {
            if (oneShot && h.equals("seconds")) {
                b.append(String.format(Locale.ROOT, "  %8s", "1-shot"));
            }
            if (verified || !VERIFICATION.contains(h)) {
                b.append(String.format(Locale.ROOT, "  %8s", h));
            }
        }
        b.append('\n');
        for (RunResult r : runs) {
            RunMetrics m = r.metrics();
            b.append(String.format(Locale.ROOT, "%-" + width + "s  %8.3f", r.spec(), m.testAccuracy()));
            if (verified) {
                b.append(String.format(Locale.ROOT, "  %8.3f  %8.3f  %8.3f", m.verification().tarAtFar1e2(),
                        m.verification().tarAtFar1e3(), m.verification().eer()));
            }
            b.append(String.format(Locale.ROOT, "  %8.3f  %8.2f  %8.1f  %8.1f", m.calibration().ece(), m.meanFeatureNorm(),
                    m.angles().meanIntra(), m.angles().minInter()));
            if (oneShot) {
                b.append(m.oneShot() == null ? String.format(Locale.ROOT, "  %8s", "-")
                        : String.format(Locale.ROOT, "  %8.3f", m.oneShot().meanError()));
            }
            b.append(String.format(Locale.ROOT, "  %8.1f%n", r.model().seconds()));
        }
        b.append("(intra: mean angle of a test feature to its class centre; inter: smallest angle between two class"
                + " centres; both in degrees)\n");
        if (oneShot) {
            OneShot.Protocol p = runs.stream().filter(r -> r.metrics().oneShot() != null).findFirst().orElseThrow()
                    .metrics().oneShot().protocol();
            b.append(String.format(Locale.ROOT, "(1-shot: error of %d-way %d-shot episodes on the held-out classes, %d"
                    + " episodes, classes drawn within a top-level folder)%n", p.way(), p.shot(), p.episodes()));
        }
        return b.toString();
    }
}
