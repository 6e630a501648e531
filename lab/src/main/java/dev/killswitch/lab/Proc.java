package dev.killswitch.lab;

import dev.killswitch.exec.ProcessWatchdog;
import dev.killswitch.exec.VerbatimCommandLine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.commons.exec.DefaultExecuteResultHandler;
import org.apache.commons.exec.Executor;

/**
 * A background process, started by commons-exec, with its output captured in temporary files and /dev/null as
 * its stdin. Signals go to its PID (and to the PIDs of its descendants, e.g. socat's forked children), never to
 * a process name.
 */
public final class Proc implements AutoCloseable {

    private static final Duration STOP_GRACE = Duration.ofSeconds(5);

    private final List<String> argv;
    private final Process process;
    private final Path out;
    private final Path err;

    Proc(List<String> argv) {
        this.argv = List.copyOf(argv);
        this.out = Sh.tempFile("out");
        this.err = Sh.tempFile("err");
        try {
            ProcessWatchdog watchdog = ProcessWatchdog.withoutTimeout();
            Executor executor = new FileOutputExecutor(out, err, null);
            executor.setWatchdog(watchdog);
            // commons-exec reports the end to the handler; Proc asks the Process, which it needs for the PID anyway
            executor.execute(new VerbatimCommandLine(argv), new DefaultExecuteResultHandler());
            this.process = watchdog.awaitProcess();
        } catch (IOException e) {
            Sh.deleteQuietly(out);
            Sh.deleteQuietly(err);
            throw new UncheckedIOException("cannot start " + argv, e);
        }
    }

    public long pid() {
        return process.pid();
    }

    public List<String> argv() {
        return argv;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Waits for the process to exit; returns false if it is still running after {@code timeout}. */
    public boolean waitFor(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public int exitCode() {
        return process.exitValue();
    }

    public String stdout() {
        return Sh.read(out);
    }

    /**
     * The bytes the process wrote to stdout from byte {@code offset} on (the file it writes to grows; this reads
     * only the new part); empty when nothing is new. The last line may be cut: the caller keeps the rest.
     */
    public byte[] stdoutFrom(long offset) {
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(out.toFile(), "r")) {
            long length = f.length();
            if (length <= offset) return new byte[0];
            byte[] b = new byte[(int) Math.min(Integer.MAX_VALUE - 8, length - offset)];
            f.seek(offset);
            f.readFully(b);
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String stderr() {
        return Sh.read(err);
    }

    /** Polls stdout until it contains {@code needle}; false on timeout or when the process exits first. */
    public boolean awaitOutput(String needle, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (stdout().contains(needle)) {
                return true;
            }
            if (!process.isAlive()) {
                return stdout().contains(needle);
            }
            sleep(10);
        }
        return false;
    }

    /** SIGTERM to this PID only. */
    public void term() {
        process.destroy();
    }

    /** SIGKILL to this PID and its descendants. */
    public void kill9() {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
        waitFor(STOP_GRACE);
    }

    /** SIGTERM, then SIGKILL after a grace period; descendants are killed too. Returns the exit code. */
    public int stop() {
        if (process.isAlive()) {
            List<ProcessHandle> children = process.descendants().toList();
            process.destroy();
            children.forEach(ProcessHandle::destroy);
            if (!waitFor(STOP_GRACE)) {
                process.destroyForcibly();
                waitFor(STOP_GRACE);
            }
            children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        }
        return process.isAlive() ? -1 : process.exitValue();
    }

    public String describe() {
        return String.join(" ", argv) + " (pid " + pid() + (isAlive() ? ", running" : ", exit " + exitCode()) + ")"
                + "\n--- stdout ---\n" + stdout() + "--- stderr ---\n" + stderr();
    }

    /** Stops the process and deletes the captured output. */
    @Override
    public void close() {
        try {
            stop();
        } finally {
            Sh.deleteQuietly(out);
            Sh.deleteQuietly(err);
        }
    }

    /** Thread.sleep that turns an interrupt into an unchecked exception (keeping the interrupt flag). */
    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
