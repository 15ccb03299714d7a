/**
 * The Vector API ({@code jdk.incubator.vector}) twins of softmax-losses' kernels, provided to the core
 * module as a service: with this module on the module path (and the incubator module enabled) the
 * losses use them; {@code dev.softmaxlosses.Vectorization} says which kernels run.
 */
module dev.softmaxlosses.simd {
    requires dev.softmaxlosses.core;
    requires jdk.incubator.vector;

    exports dev.softmaxlosses.simd;

    provides dev.softmaxlosses.kernel.KernelSupport with dev.softmaxlosses.simd.PanamaKernels;
}
