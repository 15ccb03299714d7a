package dev.softmaxlosses.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ludovic.netlib.blas.BLAS;
import dev.softmaxlosses.Loss;

import java.lang.module.Configuration;
import java.lang.module.ModuleFinder;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * The modules as a module path gives them (the suite itself runs on the class path): core and simd
 * in a layer of their own, resolved from core alone, find the SIMD kernels through the service simd
 * provides, and keep the kernel and internal packages to themselves.
 */
class ModulePathTest {

    private static Path locationOf(Class<?> type) throws URISyntaxException {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    @Test
    void onTheModulePathCoreFindsTheSimdKernelsAsAService() throws Exception {
        ModuleFinder finder = ModuleFinder.of(locationOf(Loss.class), locationOf(PanamaKernels.class), locationOf(BLAS.class));
        Configuration configuration = ModuleLayer.boot().configuration()
                .resolveAndBind(finder, ModuleFinder.of(), Set.of("dev.softmaxlosses.core"));
        assertTrue(configuration.findModule("dev.softmaxlosses.simd").isPresent(), "simd is bound as core's kernel provider");
        ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(configuration, ClassLoader.getPlatformClassLoader());
        Module core = layer.findModule("dev.softmaxlosses.core").orElseThrow();
        Module simd = layer.findModule("dev.softmaxlosses.simd").orElseThrow();
        assertTrue(core.isExported("dev.softmaxlosses.spec"));
        assertFalse(core.isExported("dev.softmaxlosses.kernel"), "the kernel package is not exported to all");
        assertTrue(core.isExported("dev.softmaxlosses.kernel", simd), "the kernel package is exported to simd");
        assertFalse(core.isExported("dev.softmaxlosses.internal"));

        Class<?> vectorization = layer.findLoader("dev.softmaxlosses.core").loadClass("dev.softmaxlosses.Vectorization");
        assertEquals(core, vectorization.getModule());
        String kernels = (String) vectorization.getMethod("kernels").invoke(null);
        assertTrue(kernels.startsWith("simd"), kernels);
    }
}
