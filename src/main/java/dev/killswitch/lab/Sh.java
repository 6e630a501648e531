package dev.killswitch.lab;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

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

    /** Runs argv, feeding {@code stdin} (or /dev/null when null); kills it after {@code timeout}. */
    public static Result run(List<String> argv, String stdin, Duration timeout) {
        Path out = tempFile("out");
        Path err = tempFile("err");
        try {
            ProcessBuilder pb = new ProcessBuilder(argv)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            if (stdin == null) {
                pb.redirectInput(new File("/dev/null"));
            }
            Process p = pb.start();
            if (stdin != null) {
                try (OutputStream in = p.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    // the program exited without reading all of its input; its exit code tells the story
                }
            }
            boolean timedOut = !p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (timedOut) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            int code = p.isAlive() ? -1 : p.exitValue();
            return new Result(List.copyOf(argv), code, read(out), read(err), timedOut);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + argv, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + argv, e);
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
