package dev.killswitch.nft;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.killswitch.config.Validate;
import dev.killswitch.exec.LineStreams;
import dev.killswitch.exec.ProcessWatchdog;
import dev.killswitch.exec.VerbatimCommandLine;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.commons.exec.DefaultExecuteResultHandler;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.Executor;

/**
 * One long-running {@code nft -i} that the service hands its transactions to: a change then costs a
 * netlink round trip (about 0.4 ms here) instead of starting nft (13 ms of nft's own start on this
 * machine, more from a JVM). Each transaction is written to a scratch file and applied with one
 * {@code include} line, which nft runs as one batch: all of it, or on any error none of it. Then a line
 * that lists a table that does not exist ({@code killswitch_sync_N}) marks the end: everything nft wrote to
 * stderr before that marker's own error is the transaction's.
 * <p>
 * Not thread-safe beyond {@link #apply}'s own lock; the service calls it from its one worker thread.
 */
public final class NftSession implements AutoCloseable {
    /** How long one transaction may take before the session counts as broken. */
    static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final String MARKER = "killswitch_sync_";

    private final Path scratch;
    private final OutputStream stdin;
    private final BlockingQueue<String> stderr;
    private final DefaultExecuteResultHandler exit;
    private final Executor executor;
    private final long pid;
    private long sequence;

    /** The session's pipe broke, it died, or it did not answer in time: the caller may run nft itself. */
    public static final class Broken extends IOException {
        private static final long serialVersionUID = 1L;

        Broken(String message) {
            super(message);
        }
    }

    private NftSession(Path scratch, OutputStream stdin, BlockingQueue<String> stderr, DefaultExecuteResultHandler exit,
            Executor executor, long pid) {
        this.pid = pid;
        this.scratch = scratch;
        this.stdin = stdin;
        this.stderr = stderr;
        this.exit = exit;
        this.executor = executor;
    }

    /**
     * Starts {@code nft -i} in this process's network namespace. {@code scratch}: the file each transaction is
     * written to before nft includes it, in a folder only root may write (the state directory); its path must
     * pass {@link Validate#pathProblem} (it goes into an nft {@code include "..."} line).
     */
    public static NftSession start(Path scratch) throws IOException {
        return start(scratch, List.of());
    }

    /** {@link #start(Path)} with {@code nft -i} run through {@code prefix} (the lab: {@code ip netns exec NS}). */
    public static NftSession start(Path scratch, List<String> prefix) throws IOException {
        String problem = Validate.pathProblem(scratch.toAbsolutePath().toString());
        if (problem != null) throw new IOException("cannot use " + scratch + " for nft's transactions: " + problem);
        BlockingQueue<String> errors = new LinkedBlockingQueue<>();
        LineStreams streams = new LineStreams("nft-i", LineStreams.ignore(), errors::add);
        DefaultExecutor executor = DefaultExecutor.builder().setExecuteStreamHandler(streams).get();
        executor.setExitValues(null);
        ProcessWatchdog watchdog = ProcessWatchdog.withoutTimeout();
        executor.setWatchdog(watchdog);
        DefaultExecuteResultHandler exit = new DefaultExecuteResultHandler();
        List<String> argv = new ArrayList<>(prefix);
        argv.addAll(List.of("nft", "-i"));
        executor.execute(new VerbatimCommandLine(argv), exit);
        Process process = watchdog.awaitProcess();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (streams.stdin() == null) {
            if (exit.hasResult() || System.nanoTime() > deadline) throw new IOException("nft -i did not start: " + exit.getException());
            sleep(1);
        }
        return new NftSession(scratch.toAbsolutePath(), streams.stdin(), errors, exit, executor, process.pid());
    }

    /** The pid of the process started ({@code nft}, or the prefix's first program, which may exec nft). */
    public long pid() {
        return pid;
    }

    public boolean alive() {
        return !exit.hasResult();
    }

    /**
     * Applies {@code script} as one transaction. Throws NftException (nothing was applied) when nft refused it,
     * with nft's messages; {@link Broken} when the session cannot tell (then the change may or may not be in
     * the kernel: read it back).
     */
    public synchronized void apply(String script) throws NftException, Broken {
        try {
            Files.writeString(scratch, script, UTF_8);
        } catch (IOException e) {
            throw new Broken("cannot write " + scratch + ": " + e.getMessage());
        }
        List<String> errors = run("include \"" + scratch + "\"");
        if (!errors.isEmpty()) {
            throw new NftException("nft refused the change (nothing was applied): " + String.join("\n", errors).strip());
        }
    }

    /** Whether {@code command} (one line, e.g. {@code list table inet killswitch}) runs without an error. */
    public synchronized boolean succeeds(String command) throws Broken {
        if (command.contains("\n")) throw new IllegalArgumentException("one line only");
        return run(command).isEmpty();
    }

    /** Runs one line, then the marker; returns what nft wrote to stderr for that line (empty: no error). */
    private List<String> run(String line) throws Broken {
        if (!alive()) throw new Broken("nft -i has exited");
        long n = ++sequence;
        String marker = "list table inet " + MARKER + n;
        try {
            stdin.write((line + "\n" + marker + "\n").getBytes(UTF_8));
            stdin.flush();
        } catch (IOException e) {
            throw new Broken("cannot write to nft -i: " + e.getMessage());
        }
        List<String> lines = new ArrayList<>();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            String got;
            try {
                got = stderr.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Broken("interrupted while waiting for nft -i");
            }
            if (got == null) throw new Broken(alive() ? "nft -i did not answer within " + TIMEOUT.toMillis() + " ms" : "nft -i has exited");
            if (got.equals(marker)) break;
            lines.add(got);
        }
        pollQuietly(); // the marker's caret line
        // the marker's own "Error: No such file or directory" is the last line before it
        if (!lines.isEmpty()) lines.remove(lines.size() - 1);
        return lines;
    }

    private void pollQuietly() {
        try {
            stderr.poll(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        try {
            stdin.close();   // nft -i exits at the end of its input
        } catch (IOException e) {
            // it goes either way
        }
        try {
            exit.waitFor(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (alive()) executor.getWatchdog().destroyProcess();
        try {
            Files.deleteIfExists(scratch);
        } catch (IOException e) {
            // a scratch file in the state directory; the next session overwrites it
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
