package dev.softmaxlosses;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;

import org.junit.jupiter.api.Test;

/**
 * The shape of core's main code: no cycle between any two of its packages (each package its own
 * slice, the root package included), and no use of the Vector API, which only the simd module may
 * import (simd's own ArchitectureTest checks both modules together).
 */
class ArchitectureTest {

    /** Core's main classes, from where {@link Loss} was loaded (so not simd's, when simd runs this suite). */
    private static final JavaClasses CORE = coreClasses();

    /** A directory in a reactor's test phase, core's jar after it is packaged (simd's run under {@code verify}). */
    private static JavaClasses coreClasses() {
        ClassFileImporter importer = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS);
        try {
            Path location = Path.of(Loss.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isRegularFile(location)) {
                try (JarFile jar = new JarFile(location.toFile())) {
                    return importer.importJar(jar);
                }
            }
            return importer.importPath(location);
        } catch (URISyntaxException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every package of the library is a slice of its own, nested ones included; other classes are left out. */
    static final SliceAssignment EACH_PACKAGE = new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass type) {
            String name = type.getPackageName();
            return name.equals("dev.softmaxlosses") || name.startsWith("dev.softmaxlosses.")
                    ? SliceIdentifier.of(name) : SliceIdentifier.ignore();
        }

        @Override
        public String getDescription() {
            return "each package of dev.softmaxlosses";
        }
    };

    @Test
    void noTwoPackagesDependOnEachOther() {
        org.junit.jupiter.api.Assertions.assertTrue(CORE.contain("dev.softmaxlosses.spec.LossRegistry"), "core's classes");
        slices().assignedFrom(EACH_PACKAGE).should().beFreeOfCycles().check(CORE);
    }

    @Test
    void coreDoesNotUseTheVectorApi() {
        noClasses().should().dependOnClassesThat().resideInAPackage("jdk.incubator.vector..").check(CORE);
    }

    @Test
    void theLossesDoNotKnowTheRegistry() {
        noClasses().that().resideOutsideOfPackage("dev.softmaxlosses.spec..")
                .should().dependOnClassesThat().resideInAPackage("dev.softmaxlosses.spec..").check(CORE);
    }
}
