package dev.softmaxlosses.simd;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

import org.junit.jupiter.api.Test;

/** Core and simd together: only the simd package may import the Vector API. */
class ArchitectureTest {

    /** The main classes of both modules, wherever the build put them (core's as a directory or a jar). */
    private static final JavaClasses CORE_AND_SIMD = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(location -> !location.contains("-tests.jar"))
            .importPackages("dev.softmaxlosses");

    @Test
    void onlySimdImportsTheVectorApi() {
        if (CORE_AND_SIMD.stream().noneMatch(c -> c.getName().equals("dev.softmaxlosses.spec.LossRegistry"))
                || CORE_AND_SIMD.stream().noneMatch(c -> c.getName().equals(PanamaKernels.class.getName()))) {
            throw new AssertionError("core's or simd's classes were not imported");
        }
        noClasses().that().resideOutsideOfPackage("dev.softmaxlosses.simd..")
                .should().dependOnClassesThat().resideInAPackage("jdk.incubator.vector..").check(CORE_AND_SIMD);
    }
}
