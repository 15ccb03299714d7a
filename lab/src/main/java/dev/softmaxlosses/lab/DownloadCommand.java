package dev.softmaxlosses.lab;

import dev.softmaxlosses.lab.data.Downloader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code softmax-lab download mnist}: fetches an official data set into the cache and verifies it. */
@Command(name = "download", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Downloads MNIST or Fashion-MNIST into the cache and checks their published MD5s.",
                "Files already cached and verified are not fetched again; a cached file that",
                "does not match is left alone and reported. A mirror that is silent, stalls or",
                "trickles is given up for the next. Prints the folder.",
                "Exit status: 0 done; 2 no network, no mirror serving the files in time, a bad",
                "checksum, a bad name or option (one error: line)."})
final class DownloadCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NAME", description = "mnist or fashion-mnist.")
    String name;

    @Option(names = "--cache", paramLabel = "FOLDER",
            description = "Where to keep the files (default: $SOFTMAX_LAB_CACHE or ~/.cache/softmax-lab).")
    Path cache;

    @Option(names = "--mirror", paramLabel = "URL", description = "Download from this http or https base URL instead of the official ones (repeatable).")
    List<String> mirrors;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            Downloader.Source source = Downloader.source(name);
            if (source == null) {
                throw new BadInputException("unknown data set '" + name + "': expected mnist or fashion-mnist");
            }
            Path folder = new Downloader(err).fetch(source, cache == null ? Downloader.defaultCache() : cache, mirrors);
            out.println(folder);
            out.flush();
            return 0;
        } catch (BadInputException e) {
            return SoftmaxLab.badInput(err, e.getMessage());
        }
    }
}
