package dev.killswitch.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sh and Proc with real programs (sh, cat, sleep); no namespaces, no root. */
class ShTest {

    @Test
    void argumentsReachTheProgramByteForByte() {
        // the NetworkManager lab hands the dispatcher "VPN_IP_IFACE=<phys>\n": trimmed, it would be a valid name
        Sh.Result r = Sh.check("sh", "-c", "printf '[%s]' \"$@\"", "sh", "VPN_IP_IFACE=veth0\n", " x ", "", "${V}");
        assertEquals("[VPN_IP_IFACE=veth0\n][ x ][][${V}]", r.stdout());
    }

    @Test
    void stdoutStderrAndTheExitCodeComeBackSeparately() {
        Sh.Result r = Sh.run("sh", "-c", "echo out; echo err >&2; exit 7");
        assertEquals(7, r.exitCode());
        assertEquals("out\n", r.stdout());
        assertEquals("err\n", r.stderr());
        assertFalse(r.ok());
        assertFalse(r.timedOut());
    }

    @Test
    void stdinIsFedOrIsDevNull() {
        assertEquals("grüße\n", Sh.check(List.of("cat"), "grüße\n").stdout());
        assertEquals("/dev/null\n", Sh.check("readlink", "/proc/self/fd/0").stdout());
    }

    @Test
    void aProgramThatExitsWithoutReadingItsInputIsNoError() {
        assertEquals(3, Sh.run(List.of("sh", "-c", "exit 3"), "x".repeat(1 << 20), Sh.DEFAULT_TIMEOUT).exitCode());
    }

    @Test
    void aDaemonThatKeepsTheOutputOpenDoesNotHoldUpTheCommand() {
        // like wireguard-go, which forks itself into the background with our stdout and stderr
        Sh.Result r = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> Sh.check("sh", "-c", "sleep 60 & echo $!"));
        ProcessHandle.of(Long.parseLong(r.stdout().trim())).ifPresent(ProcessHandle::destroyForcibly);
    }

    @Test
    void aCommandThatRunsTooLongIsKilledWithItsChildren() {
        Sh.Result r = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> Sh.run(Duration.ofMillis(300), "sh", "-c", "trap '' TERM; sleep 60 & echo $!; wait"));
        assertTrue(r.timedOut(), r.describe());
        assertFalse(r.ok());
        assertEquals(137, r.exitCode(), r.describe());
        ProcessHandle child = ProcessHandle.of(Long.parseLong(r.stdout().trim())).orElse(null);
        assertTrue(child == null || child.onExit().isDone() || awaitExit(child), "the child still runs: " + child);
    }

    @Test
    void aMissingProgramIsAnUncheckedIOException() {
        assertThrows(UncheckedIOException.class, () -> Sh.run("/nonexistent/killswitch-no-such-program"));
        assertThrows(UncheckedIOException.class, () -> Sh.start(List.of("/nonexistent/killswitch-no-such-program")));
    }

    @Test
    void aBackgroundProcessHasItsPidOutputAndSignals() {
        try (Proc p = Sh.start(List.of("sh", "-c", "readlink /proc/self/fd/0; echo ready; exec sleep 60"))) {
            assertTrue(p.awaitOutput("ready", Duration.ofSeconds(5)), p.describe());
            assertEquals("/dev/null\nready\n", p.stdout());
            assertTrue(ProcessHandle.of(p.pid()).map(ProcessHandle::isAlive).orElse(false));
            assertEquals(143, p.stop(), p.describe());
            assertFalse(p.isAlive());
        }
    }

    @Test
    void kill9EndsABackgroundProcessAndItsDescendants() {
        try (Proc p = Sh.start(List.of("sh", "-c", "sleep 60 & echo $!; wait"))) {
            assertTrue(p.awaitOutput("\n", Duration.ofSeconds(5)), p.describe());
            ProcessHandle child = ProcessHandle.of(Long.parseLong(p.stdout().trim())).orElseThrow();
            p.kill9();
            assertEquals(137, p.exitCode(), p.describe());
            assertTrue(awaitExit(child), "the child still runs: " + child);
        }
    }

    private static boolean awaitExit(ProcessHandle h) {
        try {
            h.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
