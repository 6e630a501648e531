package dev.killswitch.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs real programs (sh, cat) through commons-exec: what nft and ss rely on. */
class ProcessRunnerTest {

    private final ProcessRunner runner = new ProcessRunner(10_000);

    @Test
    void argumentsReachTheProgramByteForByteWithoutAShell() throws IOException {
        CommandRunner.Result r = runner.run(List.of("sh", "-c", "printf '[%s]' \"$@\"", "sh",
                " lead", "trail\n", "", "${HOME}", "a b", "'\"", "$(id)", "back\\slash"), null);
        assertEquals("[ lead][trail\n][][${HOME}][a b]['\"][$(id)][back\\slash]", r.stdout());
    }

    @Test
    void stdoutStderrAndTheExitCodeComeBackSeparately() throws IOException {
        CommandRunner.Result r = runner.run(List.of("sh", "-c", "echo out; echo err >&2; exit 7"), null);
        assertEquals(new CommandRunner.Result(7, "out\n", "err\n"), r);
    }

    @Test
    void stdinIsFedAsUtf8() throws IOException {
        assertEquals("grüße\n", runner.run(List.of("cat"), "grüße\n").stdout());
    }

    @Test
    void noStdinReadsAsEndOfFile() {
        CommandRunner.Result r = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> runner.run(List.of("cat"), null));
        assertEquals(new CommandRunner.Result(0, "", ""), r);
    }

    @Test
    void aProgramThatExitsWithoutReadingItsInputIsNoError() throws IOException {
        CommandRunner.Result r = runner.run(List.of("sh", "-c", "exit 3"), "x".repeat(1 << 20));
        assertEquals(3, r.exitCode());
    }

    @Test
    void aSignalIsReportedAs128PlusItsNumber() throws IOException {
        assertEquals(137, runner.run(List.of("sh", "-c", "kill -9 $$"), null).exitCode());
    }

    @Test
    void aProgramThatRunsTooLongIsKilledWithItsChildren() {
        ProcessRunner quick = new ProcessRunner(300);
        // the background sleep holds stdout open: the run returns only because it was killed as well
        IOException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(IOException.class,
                () -> quick.run(List.of("sh", "-c", "trap '' TERM; sleep 60 & wait"), null)));
        assertTrue(e.getMessage().contains("did not finish within 300 ms"), e.getMessage());
    }

    @Test
    void aMissingProgramIsAnIOException() {
        assertThrows(IOException.class, () -> runner.run(List.of("/nonexistent/killswitch-no-such-program"), null));
    }
}
