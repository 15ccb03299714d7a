/**
 * softmax-losses: softmax-based losses with fused, numerically stable forward and backward passes.
 *
 * <p>The public API: the capabilities and their inputs and results ({@code dev.softmaxlosses}), the
 * losses on logits ({@code .logits}) and on features and class weights ({@code .margin}), spec strings
 * and the registry ({@code .spec}), the matrix-products strategy ({@code .linalg}), the gradient
 * checker ({@code .check}) and the rule by which messages repeat user text ({@code .text}). The
 * kernel interface ({@code .kernel}) is exported only to the module of the Vector API kernels, which
 * provides them as a service; {@code .internal} (validation) is not exported.
 */
module dev.softmaxlosses.core {
    requires transitive dev.ludovic.netlib.blas;
    requires java.logging;

    exports dev.softmaxlosses;
    exports dev.softmaxlosses.check;
    exports dev.softmaxlosses.linalg;
    exports dev.softmaxlosses.logits;
    exports dev.softmaxlosses.margin;
    exports dev.softmaxlosses.scale;
    exports dev.softmaxlosses.spec;
    exports dev.softmaxlosses.text;
    exports dev.softmaxlosses.kernel to dev.softmaxlosses.simd;

    uses dev.softmaxlosses.kernel.KernelSupport;
}
