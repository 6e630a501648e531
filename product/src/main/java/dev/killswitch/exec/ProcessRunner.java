package dev.killswitch.exec;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.Executor;
import org.apache.commons.exec.PumpStreamHandler;

/** The real {@link CommandRunner}: commons-exec runs the program, no shell, with a fixed time limit. */
public final class ProcessRunner implements CommandRunner {
    private final Duration timeout;

    /** @param timeoutMillis how long, in ms, a program may run before it and its descendants are killed; at least 1 */
    public ProcessRunner(long timeoutMillis) {
        this.timeout = Duration.ofMillis(timeoutMillis);
    }

    /** A runner with a limit of 30 s per program. */
    public ProcessRunner() {
        this(30_000);
    }

    /**
     * Runs argv and waits for it. A program that exits without reading all of stdin is no error; its exit code
     * and stderr tell why. Stdout and stderr are decoded as UTF-8.
     *
     * @param stdin the program's whole input, as UTF-8; null: none (its stdin is closed, so a read sees end of file)
     * @return the exit code (128 + n when signal n ended it) and the complete stdout and stderr
     * @throws IOException when the program cannot be started, when it ran out of time (it was killed), or when
     *     the waiting thread was interrupted (the program got SIGTERM; the interrupt flag is kept)
     */
    @Override
    public Result run(List<String> argv, String stdin) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        InputStream in = stdin == null ? null : new ByteArrayInputStream(stdin.getBytes(UTF_8));
        ProcessWatchdog watchdog = new ProcessWatchdog(timeout);
        Executor executor = DefaultExecutor.builder().setExecuteStreamHandler(new PumpStreamHandler(out, err, in)).get();
        executor.setWatchdog(watchdog);
        executor.setExitValues(null); // every exit code is an answer for the caller, not an ExecuteException
        int exitCode = executor.execute(new VerbatimCommandLine(argv));
        if (exitCode == Executor.INVALID_EXITVALUE) {
            // commons-exec's answer when its wait was interrupted; it clears the interrupt flag, so set it again
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for " + argv.get(0));
        }
        if (watchdog.killedProcess()) {
            throw new IOException(argv.get(0) + " did not finish within " + timeout.toMillis() + " ms");
        }
        return new Result(exitCode, out.toString(UTF_8), err.toString(UTF_8));
    }
}
