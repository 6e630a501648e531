package dev.killswitch.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.lab.LabSupport;
import dev.killswitch.lab.Sh;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every shell script of the repository (the hook entrypoints and their client, the launchers in bin/, the
 * maintainer scripts, the boot test's scripts) passes {@code shellcheck -S warning}, following the files they
 * source ({@code -x}). A script is a file whose first line is a sh or bash shebang, or that carries a
 * {@code # shellcheck shell=} directive (the sourced client); the Maven wrapper (not ours) and build output are left out.
 */
class ShellcheckTest {
    /** Entrypoints that must be among the scripts found, so that a search gone blind cannot pass. */
    private static final List<String> KNOWN = List.of("wg-quick/killswitch-hook", "dispatcher.d/90-killswitch",
            "hooks/openvpn/killswitch-openvpn", "hooks/killswitch-client.sh", "bin/killswitch", "bin/test",
            "product/src/deb/control/postinst", "lab/src/test/deb/boot-test", ".ci/run");

    @Test
    void everyShellScriptIsWarningFree() {
        assumeShellcheck();
        Path root = LabSupport.projectDir();
        List<String> scripts = scripts(root);
        for (String known : KNOWN) assertTrue(scripts.contains(known), known + " not found among " + scripts);
        List<String> argv = new ArrayList<>(List.of("shellcheck", "-x", "-P", "SCRIPTDIR", "-S", "warning", "-f", "gcc"));
        scripts.forEach(s -> argv.add(root.resolve(s).toString()));
        Sh.Result r = Sh.run(argv, null, java.time.Duration.ofSeconds(120));
        assertEquals("", r.stdout().trim(), "shellcheck -S warning found problems");
        assertEquals(0, r.exitCode(), r.describe());
    }

    /** The control: the same run sees a warning planted in a copy of an entrypoint. */
    @Test
    void theCheckSeesAnAssignmentNothingReads(@TempDir Path dir) throws IOException {
        assumeShellcheck();
        Path bad = dir.resolve("hook");
        Files.writeString(bad, "#!/bin/sh\nset -eu\nKS_LAUNCHR=/usr/bin/killswitch\n");
        Sh.Result r = Sh.run(List.of("shellcheck", "-x", "-P", "SCRIPTDIR", "-S", "warning", "-f", "gcc", bad.toString()),
                null, java.time.Duration.ofSeconds(60));
        assertTrue(r.stdout().contains("SC2034"), r.describe());
    }

    private static void assumeShellcheck() {
        if (!LabSupport.onPath("shellcheck")) {
            LabSupport.unavailable("shellcheck is not installed (bin/install-deps lab installs it)");
        }
    }

    /** Paths relative to {@code root}, sorted. */
    static List<String> scripts(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile)
                    .map(f -> root.relativize(f).toString())
                    .filter(f -> !f.startsWith(".git/") && !f.contains("target/") && !f.equals("mvnw")
                            && !f.startsWith(".mvn/"))
                    .filter(f -> isShell(root.resolve(f)))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean isShell(Path file) {
        try {
            byte[] head = new byte[256];
            int n;
            try (var in = Files.newInputStream(file)) {
                n = in.read(head);
            }
            if (n <= 0) return false;
            String start = new String(head, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1);
            String first = start.lines().findFirst().orElse("");
            return first.matches("#!\\s*(/usr)?/bin/(env\\s+)?(ba)?sh\\b.*") || start.contains("# shellcheck shell=");
        } catch (IOException e) {
            return false;
        }
    }
}
