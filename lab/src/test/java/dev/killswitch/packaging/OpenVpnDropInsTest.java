package dev.killswitch.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.killswitch.lab.LabSupport;
import dev.killswitch.lab.Sh;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenVPN drop-ins in hooks/openvpn, linked for one instance as docs/openvpn.md says, as systemd reads them
 * ({@code systemd-analyze verify} against a scratch root with Debian's own openvpn units), and each one's
 * ExecStartPre naming the config file its unit's openvpn reads.
 */
class OpenVpnDropInsTest {
    private static final Path SYSTEM_UNITS = Path.of("/usr/lib/systemd/system");
    /** Each unit and the config its ExecStart reads for instance "work" (its WorkingDirectory and --config). */
    private static final Map<String, String> UNITS = Map.of(
            "openvpn-client@", "/etc/openvpn/client/work.conf",
            "openvpn@", "/etc/openvpn/work.conf");

    @TempDir
    Path root;

    @Test
    void systemdReadsEachDropInForAnInstanceWithoutAWord() throws IOException {
        assumeUnits();
        prepareRoot();
        for (String unit : UNITS.keySet()) {
            Sh.Result r = verify(unit + "work.service");
            assertEquals(0, r.exitCode(), unit + ": " + r.describe());
            assertEquals("", (r.stdout() + r.stderr()).trim(), unit + ": systemd complained");
        }
        Path dropIn = root.resolve("etc/systemd/system/openvpn-client@work.service.d/killswitch.conf");
        Files.writeString(dropIn, Files.readString(dropIn).replace("ExecStartPre=", "ExecStartPer="));
        assertTrue(verify("openvpn-client@work.service").stderr().contains("ExecStartPer"), "the check sees a typo");
    }

    @Test
    void preUpReadsTheConfigTheUnitsOpenvpnReads() throws IOException {
        for (Map.Entry<String, String> e : UNITS.entrySet()) {
            String text = Files.readString(dropIn(e.getKey()));
            String line = text.lines().filter(l -> l.startsWith("ExecStartPre=")).findFirst().orElseThrow();
            assertEquals("ExecStartPre=/usr/lib/killswitch/hooks/openvpn/killswitch-openvpn pre-up "
                    + e.getValue().replace("work", "%i"), line);
        }
    }

    /** A JVM has 14 threads with the launcher's options; openvpn@.service allows 10 tasks in all. */
    @Test
    void theJvmPathFitsInOpenvpnAtServicesTaskLimit() throws IOException {
        assertTrue(Files.readString(dropIn("openvpn@")).lines().anyMatch(l -> l.equals("TasksMax=64")));
    }

    private static Path dropIn(String unit) {
        return LabSupport.projectDir().resolve("hooks/openvpn/" + unit + ".service.d/killswitch.conf");
    }

    private Sh.Result verify(String unit) {
        return Sh.run("systemd-analyze", "verify", "--man=no", "--root=" + root, unit);
    }

    private void prepareRoot() throws IOException {
        Path units = Files.createDirectories(root.resolve("usr/lib/systemd/system"));
        try (Stream<Path> files = Files.list(SYSTEM_UNITS)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) Files.copy(f, units.resolve(f.getFileName()));
            }
        }
        for (String unit : UNITS.keySet()) {
            Path d = Files.createDirectories(root.resolve("etc/systemd/system/" + unit + "work.service.d"));
            Files.copy(dropIn(unit), d.resolve("killswitch.conf"));
        }
        for (String program : List.of("usr/lib/killswitch/hooks/openvpn/killswitch-openvpn", "usr/sbin/openvpn")) {
            Path p = root.resolve(program);
            Files.createDirectories(p.getParent());
            Files.writeString(p, "#!/bin/sh\nexit 0\n");
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    private static void assumeUnits() {
        if (Files.isExecutable(Path.of("/usr/bin/systemd-analyze")) && Files.isRegularFile(SYSTEM_UNITS.resolve("openvpn@.service"))
                && Files.isRegularFile(SYSTEM_UNITS.resolve("openvpn-client@.service"))) return;
        String why = "systemd-analyze or Debian's openvpn units missing (bin/install-deps installs systemd and openvpn)";
        if ("1".equals(System.getenv(LabSupport.REQUIRE_ENV))) fail(why + " (" + LabSupport.REQUIRE_ENV + "=1)");
        System.err.println("[units] skipped: " + why);
        Assumptions.abort(why);
    }
}
