package dev.killswitch.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.lab.LabSupport;
import dev.killswitch.lab.Sh;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * src/deb/check-product-jar, which the build runs on the product jar, can fail: on copies of the built jars
 * with a lab class put into the product jar, and with a product class taken out of it (so that the classes
 * referring to it are left dangling, as they would be referring to a lab class), it exits 1 and names them.
 * On the jars as built it passes.
 */
class ProductJarCheckIT {
    private static final List<String> FILES = List.of("killswitch.jar", "original-killswitch.jar", "killswitch-lab.jar",
            "runtime-classpath.txt");

    @TempDir
    Path target;

    private Sh.Result check() {
        return Sh.run(List.of("bash", LabSupport.projectDir().resolve("src/deb/check-product-jar").toString(),
                target.toString()), null, java.time.Duration.ofMinutes(2));
    }

    private void copyBuilt() throws IOException {
        for (String f : FILES) {
            Files.copy(LabSupport.projectDir().resolve("target").resolve(f), target.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Test
    void passesOnTheBuiltJars() throws IOException {
        LabSupport.assumeTools("jdeps", "unzip", "zip");
        copyBuilt();
        Sh.Result r = check();
        assertEquals(0, r.exitCode(), r.describe());
    }

    @Test
    void failsWhenTheProductJarHoldsALabClass() throws IOException {
        LabSupport.assumeTools("jdeps", "unzip", "zip");
        copyBuilt();
        Path classes = LabSupport.projectDir().resolve("target/classes");
        Sh.run(List.of("sh", "-c", "cd \"$1\" && zip -q \"$2\" dev/killswitch/cli/DemoCommand.class", "sh",
                classes.toString(), target.resolve("original-killswitch.jar").toString()), null, Sh.DEFAULT_TIMEOUT).orThrow();
        Sh.Result r = check();
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("holds lab classes: dev.killswitch.cli.DemoCommand"), r.describe());
    }

    @Test
    void failsWhenAProductClassRefersToAClassNotInTheJar() throws IOException {
        LabSupport.assumeTools("jdeps", "unzip", "zip");
        copyBuilt();
        Sh.run("zip", "-q", "-d", target.resolve("original-killswitch.jar").toString(), "dev/killswitch/config/Validate.class").orThrow();
        Sh.Result r = check();
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("-> dev.killswitch.config.Validate"), r.describe());
    }
}
