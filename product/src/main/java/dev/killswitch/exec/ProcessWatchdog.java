package dev.killswitch.exec;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.Watchdog;

/**
 * A commons-exec watchdog that kills for real and tells which process it watches; use one per execution.
 * <ul>
 *   <li>On a timeout commons-exec sends SIGTERM to the program only and then waits for it without limit;
 *       this one follows with SIGKILL to the program and to its descendants (their PIDs are taken first,
 *       before the program can die and leave them to init). {@link #killedProcess()} then answers true.
 *   <li>{@link #awaitProcess()} gives the started {@link Process} (its PID, for signals), which commons-exec
 *       keeps to itself.
 * </ul>
 */
public final class ProcessWatchdog extends ExecuteWatchdog {

    private final CompletableFuture<Process> started = new CompletableFuture<>();

    /** @param timeout how long the program may run before it and its descendants are killed; at least 1 ms */
    // ExecuteWatchdog(long) is deprecated, but in commons-exec 1.5.0 it is the only constructor a subclass can call
    @SuppressWarnings("deprecation")
    public ProcessWatchdog(Duration timeout) {
        super(timeout.toMillis());
    }

    /** A watchdog that never kills: for a background program that is watched only for its {@link Process}. */
    public static ProcessWatchdog withoutTimeout() {
        return new ProcessWatchdog(INFINITE_TIMEOUT_DURATION);
    }

    @Override
    public synchronized void start(Process process) {
        super.start(process);
        started.complete(process);
    }

    @Override
    public synchronized void failedToStart(Exception e) {
        super.failedToStart(e);
        started.completeExceptionally(e);
    }

    @Override
    public synchronized void timeoutOccured(Watchdog w) {
        Process process = started.getNow(null); // set: the timer only runs after start(process)
        List<ProcessHandle> descendants = process.descendants().toList();
        super.timeoutOccured(w);
        if (killedProcess()) {
            process.destroyForcibly();
            descendants.forEach(ProcessHandle::destroyForcibly);
        }
    }

    /**
     * Waits until commons-exec has started the program (in the background it does so on a thread of its own)
     * and returns it. The wait ignores interrupts: starting takes milliseconds, and a program that started
     * after its caller gave up would have no owner to stop it.
     *
     * @throws IOException when the program could not be started, with commons-exec's reason
     */
    public Process awaitProcess() throws IOException {
        try {
            return started.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }
}
