/**
 * softmax-losses for Deep Java Library: every loss of the library as a DJL {@code Loss}, and a margin
 * head {@code Block} for the margin family ({@code dev.softmaxlosses.djl}).
 */
@SuppressWarnings("requires-transitive-automatic")
module dev.softmaxlosses.djl {
    requires transitive dev.softmaxlosses.core;
    requires transitive ai.djl.api;

    exports dev.softmaxlosses.djl;
}
