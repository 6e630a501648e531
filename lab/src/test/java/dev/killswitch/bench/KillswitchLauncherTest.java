package dev.killswitch.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.lab.Sh;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KillswitchLauncherTest {

    @TempDir
    Path dir;

    @Test
    void cliArgvRunsMainWithTheFastStartOptions() {
        KillswitchLauncher l = new KillswitchLauncher(Path.of("/usr/bin/java"), "/a/x.jar:/b/y.jar", null);
        assertEquals(List.of("/usr/bin/java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", "/a/x.jar:/b/y.jar",
                "dev.killswitch.cli.Main", "--config", "/c/k.toml", "--state-dir", "/s", "enable"),
                l.cli(Path.of("/c/k.toml"), Path.of("/s"), "enable"));
    }

    @Test
    void relativeClassPathEntriesBecomeAbsolute() {
        KillswitchLauncher l = new KillswitchLauncher(Path.of("/usr/bin/java"), "target/killswitch.jar", null);
        assertEquals(Path.of("target/killswitch.jar").toAbsolutePath().toString(), l.classPath());
    }

    @Test
    void archiveOnlyNextToASingleJarAndNotOlderThanIt() throws Exception {
        Path jar = Files.writeString(dir.resolve("killswitch.jar"), "jar");
        assertTrue(KillswitchLauncher.archiveFor(jar.toString()).isEmpty());
        Path jsa = Files.writeString(dir.resolve("killswitch.jsa"), "jsa");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(1_000_000));
        Files.setLastModifiedTime(jsa, FileTime.fromMillis(2_000_000));
        assertEquals(jsa, KillswitchLauncher.archiveFor(jar.toString()).orElseThrow());
        assertTrue(KillswitchLauncher.archiveFor(jar + ":" + dir.resolve("other.jar")).isEmpty());
        assertTrue(KillswitchLauncher.archiveFor(dir.toString()).isEmpty(), "a classes folder");
        Files.setLastModifiedTime(jsa, FileTime.fromMillis(500_000));
        assertTrue(KillswitchLauncher.archiveFor(jar.toString()).isEmpty(), "made for an older jar");

        KillswitchLauncher l = new KillswitchLauncher(Path.of("/usr/bin/java"), jar.toString(), jsa);
        assertTrue(l.jvm().contains("-XX:SharedArchiveFile=" + jsa), l.jvm().toString());
    }

    /**
     * The hook text goes through what wg-quick does to a hook line ({@code %i} replaced, then
     * {@code eval} in bash with {@code $CONFIG_FILE} set) and reaches "java" as the intended words,
     * with paths that need quoting.
     */
    @Test
    void hookLineSurvivesWgQuicksEval() throws Exception {
        Path odd = Files.createDirectories(dir.resolve("it's a dir $(x) `y` \"z\""));
        Path fakeJava = odd.resolve("java");
        Files.writeString(fakeJava, """
                #!/bin/bash
                printf 'CONFIG=%s\\n' "$KILLSWITCH_CONFIG"
                printf 'STATE=%s\\n' "$KILLSWITCH_STATE_DIR"
                printf 'ARG=%s\\n' "$@"
                """);
        Files.setPosixFilePermissions(fakeJava, PosixFilePermissions.fromString("rwx------"));
        KillswitchLauncher l = new KillswitchLauncher(fakeJava, odd.resolve("k s.jar").toString(), null);
        String hook = l.hookCommand(odd.resolve("killswitch.toml"), odd.resolve("state dir"), "pre-up", true);

        String wgQuick = """
                CONFIG_FILE=$1 INTERFACE=wg0
                hook=$2
                hook="${hook//%i/$INTERFACE}"
                (eval "$hook")
                """;
        Sh.Result r = Sh.run(List.of("bash", "-c", wgQuick, "wg-quick", "/etc/wire guard/wg0.conf", hook), null,
                Sh.DEFAULT_TIMEOUT).orThrow();
        assertEquals(String.join("\n",
                "CONFIG=" + odd.resolve("killswitch.toml"),
                "STATE=" + odd.resolve("state dir"),
                "ARG=-XX:TieredStopAtLevel=1", "ARG=-XX:+UseSerialGC", "ARG=-cp", "ARG=" + odd.resolve("k s.jar"),
                "ARG=dev.killswitch.cli.Main", "ARG=hook", "ARG=wg-quick", "ARG=pre-up", "ARG=wg0",
                "ARG=/etc/wire guard/wg0.conf") + "\n", r.stdout());
    }

    @Test
    void plainPathsStayReadable() {
        KillswitchLauncher l = new KillswitchLauncher(Path.of("/usr/bin/java"), "/opt/ks/killswitch.jar", null);
        assertEquals("KILLSWITCH_CONFIG=/tmp/x/killswitch.toml KILLSWITCH_STATE_DIR=/tmp/x/state /usr/bin/java "
                + "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp /opt/ks/killswitch.jar dev.killswitch.cli.Main "
                + "hook wg-quick post-down %i",
                l.hookCommand(Path.of("/tmp/x/killswitch.toml"), Path.of("/tmp/x/state"), "post-down", false));
    }

    @Test
    void refusesWhatWgQuickWouldChange() {
        KillswitchLauncher l = new KillswitchLauncher(Path.of("/usr/bin/java"), "/opt/ks/killswitch.jar", null);
        // wg-quick cuts a config line at '#', and replaces %i everywhere
        assertThrows(IllegalArgumentException.class,
                () -> l.hookCommand(Path.of("/tmp/a#b/k.toml"), Path.of("/s"), "pre-up", true));
        assertThrows(IllegalArgumentException.class,
                () -> l.hookCommand(Path.of("/tmp/%id/k.toml"), Path.of("/s"), "pre-up", true));
        assertThrows(IllegalArgumentException.class,
                () -> l.hookCommand(Path.of("/tmp/k.toml"), Path.of("/s\n"), "pre-up", true));
        assertThrows(IllegalArgumentException.class,
                () -> l.hookCommand(Path.of("/tmp/k.toml"), Path.of("/s"), "up", true));
        KillswitchLauncher hash = new KillswitchLauncher(Path.of("/usr/bin/java"), "/opt/#ks/killswitch.jar", null);
        assertThrows(IllegalArgumentException.class,
                () -> hash.hookCommand(Path.of("/tmp/k.toml"), Path.of("/s"), "pre-up", true));
        assertFalse(KillswitchLauncher.shellQuote("a b").equals("a b"));
        assertEquals("'it'\\''s'", KillswitchLauncher.shellQuote("it's"));
    }
}
