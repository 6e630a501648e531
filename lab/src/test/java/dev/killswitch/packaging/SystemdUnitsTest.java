package dev.killswitch.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.killswitch.lab.LabSupport;
import dev.killswitch.lab.ServiceJvm;
import dev.killswitch.lab.Sh;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The systemd units in hooks/ as systemd itself reads them ({@code systemd-analyze verify}, against a
 * scratch root that holds the distribution's own units and the programs the units start), and the
 * daemon unit's JVM options as this JDK reads them. systemd is not PID 1 here, so no unit is started.
 */
class SystemdUnitsTest {
    private static final List<String> UNITS = List.of("killswitch-boot.service", "killswitch.service");
    private static final Path SYSTEM_UNITS = Path.of("/usr/lib/systemd/system");

    @TempDir
    Path root;

    @Test
    void systemdReadsEveryUnitWithoutAWord() throws IOException {
        assumeSystemdAnalyze();
        prepareRoot();
        for (String unit : UNITS) {
            Sh.Result r = verify(unit);
            assertEquals(0, r.exitCode(), unit + ": " + r.describe());
            assertEquals("", (r.stdout() + r.stderr()).trim(), unit + ": systemd complained");
        }
    }

    @Test
    void theCheckSeesATypo() throws IOException {
        assumeSystemdAnalyze();
        prepareRoot();
        Path unit = root.resolve("etc/systemd/system/killswitch.service");
        Files.writeString(unit, Files.readString(unit).replace("Type=simple", "Type=simpel"));
        Sh.Result r = verify("killswitch.service");
        assertTrue((r.stdout() + r.stderr()).contains("simpel"), r.describe());
    }

    /**
     * Debian's nftables.service runs "flush ruleset" when it starts: the boot unit must load the baseline after
     * it (and still before the network), or the baseline is wiped whenever that unit runs second.
     */
    @Test
    void theBootUnitLoadsAfterNftablesServiceAndBeforeTheNetwork() throws IOException {
        List<String> lines = Files.readAllLines(LabSupport.projectDir().resolve("hooks/killswitch-boot.service"));
        List<String> after = new ArrayList<>();
        List<String> before = new ArrayList<>();
        for (String line : lines) {
            if (line.startsWith("After=")) after.addAll(List.of(line.substring(6).trim().split("\\s+")));
            if (line.startsWith("Before=")) before.addAll(List.of(line.substring(7).trim().split("\\s+")));
        }
        assertTrue(after.contains("nftables.service"), "After= " + after);
        assertTrue(before.contains("network-pre.target"), "Before= " + before);
    }

    @Test
    void theDaemonUnitsJvmOptionsStartThisJdk() {
        assertFalse(ServiceJvm.unit(LabSupport.projectDir().resolve("hooks/killswitch.service")).isEmpty(),
                "KILLSWITCH_JAVA_OPTS in the daemon unit");
        List<String> opts = ServiceJvm.daemon();
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        argv.addAll(opts);
        argv.add("-version");
        Sh.Result r = Sh.run(argv.toArray(String[]::new));
        assertEquals(0, r.exitCode(), "the JVM refused the unit's options " + opts + ": " + r.describe());
    }

    private Sh.Result verify(String unit) {
        return Sh.run("systemd-analyze", "verify", "--man=no", "--root=" + root, unit);
    }

    /** The distribution's units, ours in /etc/systemd/system, and a stand-in for each program ours start. */
    private void prepareRoot() throws IOException {
        Path units = root.resolve("usr/lib/systemd/system");
        Files.createDirectories(units);
        try (Stream<Path> files = Files.list(SYSTEM_UNITS)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) Files.copy(f, units.resolve(f.getFileName()));
            }
        }
        Path ours = Files.createDirectories(root.resolve("etc/systemd/system"));
        for (String unit : UNITS) {
            Files.copy(LabSupport.projectDir().resolve("hooks").resolve(unit), ours.resolve(unit), StandardCopyOption.REPLACE_EXISTING);
        }
        for (String program : List.of("usr/lib/killswitch/bin/killswitch", "usr/sbin/nft", "bin/sh")) {
            Path p = root.resolve(program);
            Files.createDirectories(p.getParent());
            Files.writeString(p, "#!/bin/sh\nexit 0\n");
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    private static void assumeSystemdAnalyze() {
        if (Files.isExecutable(Path.of("/usr/bin/systemd-analyze")) && Files.isDirectory(SYSTEM_UNITS)) return;
        String why = "systemd-analyze or " + SYSTEM_UNITS + " missing (bin/install-deps installs systemd)";
        if ("1".equals(System.getenv(LabSupport.REQUIRE_ENV))) fail(why + " (" + LabSupport.REQUIRE_ENV + "=1)");
        System.err.println("[units] skipped: " + why);
        Assumptions.abort(why);
    }
}
