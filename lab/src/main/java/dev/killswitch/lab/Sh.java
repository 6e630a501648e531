package dev.killswitch.lab;

import dev.killswitch.exec.ProcessWatchdog;
import dev.killswitch.exec.VerbatimCommandLine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.exec.Executor;

/** Runs commands for tests: argv in, exit code and full output out. No shell is involved. */
public final class Sh {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private Sh() {
    }

    /** The outcome of one finished (or timed-out and killed) command. */
    public record Result(List<String> argv, int exitCode, String stdout, String stderr, boolean timedOut) {

        public boolean ok() {
            return exitCode == 0 && !timedOut;
        }

        /** Stdout and stderr together, for classifying error messages. */
        public String output() {
            return stdout + stderr;
        }

        /** Returns this result, or throws with the complete output when the command failed. */
        public Result orThrow() {
            if (!ok()) {
                throw new IllegalStateException("command failed: " + describe());
            }
            return this;
        }

        public String describe() {
            return String.join(" ", argv) + (timedOut ? " [TIMED OUT]" : "") + " -> exit " + exitCode
                    + "\n--- stdout ---\n" + stdout + "--- stderr ---\n" + stderr;
        }
    }

    public static Result run(String... argv) {
        return run(List.of(argv), null, DEFAULT_TIMEOUT);
    }

    public static Result run(Duration timeout, String... argv) {
        return run(List.of(argv), null, timeout);
    }

    /**
     * Runs argv (no shell) with commons-exec and waits for it.
     *
     * @param stdin the program's whole input, as UTF-8; null: it reads /dev/null
     * @param timeout how long it may run; then it and its descendants are killed and the result says timedOut
     * @return the exit code (128 + n when signal n ended it) and the complete stdout and stderr
     * @throws UncheckedIOException when the program cannot be started
     * @throws IllegalStateException when the thread is interrupted while waiting (the program got SIGTERM; the
     *     interrupt flag is kept)
     */
    public static Result run(List<String> argv, String stdin, Duration timeout) {
        Path out = tempFile("out");
        Path err = tempFile("err");
        try {
            ProcessWatchdog watchdog = new ProcessWatchdog(timeout);
            Executor executor = new FileOutputExecutor(out, err, stdin);
            executor.setWatchdog(watchdog);
            int code = executor.execute(new VerbatimCommandLine(argv));
            if (code == Executor.INVALID_EXITVALUE) {
                // commons-exec's answer when its wait was interrupted; it clears the interrupt flag, so set it again
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while running " + argv);
            }
            return new Result(List.copyOf(argv), code, read(out), read(err), watchdog.killedProcess());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + argv, e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    /** Runs argv with the default timeout and throws with the full output on a non-zero exit. */
    public static Result check(String... argv) {
        return run(argv).orThrow();
    }

    public static Result check(List<String> argv, String stdin) {
        return run(argv, stdin, DEFAULT_TIMEOUT).orThrow();
    }

    /** The argv that runs {@code argv} inside network namespace {@code ns}. */
    public static List<String> inNs(String ns, List<String> argv) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(argv);
        return full;
    }

    public static List<String> inNs(String ns, String... argv) {
        return inNs(ns, List.of(argv));
    }

    /** Starts argv in the background; the caller owns the returned process and must stop or close it. */
    public static Proc start(List<String> argv) {
        return new Proc(argv);
    }

    static Path tempFile(String suffix) {
        try {
            return Files.createTempFile("ks-lab-", "." + suffix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "<unreadable: " + e + ">";
        }
    }

    static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            System.err.println("[lab] cannot delete " + file + ": " + e);
        }
    }
}
