package dev.killswitch.exec;

import java.time.Duration;
import java.util.List;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.Watchdog;

/**
 * A commons-exec watchdog that kills for real; use one per execution. On a timeout commons-exec sends SIGTERM
 * to the program only and then waits for it without limit; this one follows with SIGKILL to the program and to
 * its descendants (their PIDs are taken first, before the program can die and leave them to init).
 * {@link #killedProcess()} then answers true.
 */
public final class ProcessWatchdog extends ExecuteWatchdog {

    private Process process;

    /** @param timeout how long the program may run before it and its descendants are killed; at least 1 ms */
    // ExecuteWatchdog(long) is deprecated, but in commons-exec 1.5.0 it is the only constructor a subclass can call
    @SuppressWarnings("deprecation")
    public ProcessWatchdog(Duration timeout) {
        super(timeout.toMillis());
    }

    @Override
    public synchronized void start(Process process) {
        super.start(process);
        this.process = process;
    }

    @Override
    public synchronized void timeoutOccured(Watchdog w) {
        // process is set: the timer only runs after start(process)
        List<ProcessHandle> descendants = process.descendants().toList();
        super.timeoutOccured(w);
        if (killedProcess()) {
            process.destroyForcibly();
            descendants.forEach(ProcessHandle::destroyForcibly);
        }
    }
}
