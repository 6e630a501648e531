package dev.killswitch.routing;

import dev.killswitch.exec.LineStreams;
import dev.killswitch.exec.ProcessWatchdog;
import dev.killswitch.exec.VerbatimCommandLine;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.commons.exec.DefaultExecuteResultHandler;
import org.apache.commons.exec.DefaultExecutor;

/**
 * Follows {@code ip -o monitor link} (rtnetlink's link events: a link added, removed, renamed, its state
 * changed) and calls {@code onChange} for each line, on the monitor's own thread; what changed is read afresh by
 * whoever acts on it, so the line itself is not parsed. Runs until {@link #close()}.
 */
public final class LinkMonitor implements AutoCloseable {
    private final DefaultExecuteResultHandler exit;
    private final ProcessWatchdog watchdog;
    private final AtomicReference<String> lastError;

    private LinkMonitor(DefaultExecuteResultHandler exit, ProcessWatchdog watchdog, AtomicReference<String> lastError) {
        this.exit = exit;
        this.watchdog = watchdog;
        this.lastError = lastError;
    }

    /** Starts it in this process's network namespace; returns once the process runs. */
    public static LinkMonitor start(Runnable onChange) throws IOException {
        ProcessWatchdog watchdog = ProcessWatchdog.withoutTimeout();
        AtomicReference<String> lastError = new AtomicReference<>();
        DefaultExecutor executor = DefaultExecutor.builder()
                .setExecuteStreamHandler(new LineStreams("ip-monitor-link", line -> onChange.run(), lastError::set)).get();
        executor.setExitValues(null);
        executor.setWatchdog(watchdog);
        DefaultExecuteResultHandler exit = new DefaultExecuteResultHandler();
        executor.execute(new VerbatimCommandLine(List.of("ip", "-o", "monitor", "link")), exit);
        watchdog.awaitProcess();
        return new LinkMonitor(exit, watchdog, lastError);
    }

    public boolean alive() {
        return !exit.hasResult();
    }

    /** Its exit code and last line on stderr, for the log; null while it runs. */
    public String howItEnded() {
        if (alive()) return null;
        String err = lastError.get();
        return "exit " + exit.getExitValue() + (err == null ? "" : ": " + err.strip());
    }

    @Override
    public void close() {
        if (alive()) watchdog.destroyProcess();
    }
}
