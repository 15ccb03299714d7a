package dev.softmaxlosses.bench;

import org.openjdk.jmh.annotations.Fork;

/** {@link DeepStackBench} with {@code -XX:MaxInlineLevel=30}: the flagged figure it is held to. */
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:MaxInlineLevel=30",
        "-Dsoftmaxlosses.parallel=false", "-Xmx4g"})
public class DeepStackFlaggedBench extends DeepStackBench {
}
