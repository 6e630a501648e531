package dev.killswitch.exec;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.util.function.Consumer;
import org.apache.commons.exec.ExecuteStreamHandler;

/**
 * A commons-exec stream handler for a long-running program that the caller talks to: it hands out the
 * program's stdin ({@link #stdin()}, once started) and reads its stdout and stderr line by line (UTF-8) on
 * daemon threads of their own, each line to a consumer, until the program closes them.
 */
public final class LineStreams implements ExecuteStreamHandler {
    private final String name;
    private final Consumer<String> onOut;
    private final Consumer<String> onErr;
    private volatile OutputStream stdin;
    private volatile boolean started;
    private InputStream out;
    private InputStream err;

    /** {@code name}: for the threads' names; {@code onOut}, {@code onErr}: called on those threads, line by line. */
    public LineStreams(String name, Consumer<String> onOut, Consumer<String> onErr) {
        this.name = name;
        this.onOut = onOut;
        this.onErr = onErr;
    }

    /** A consumer that drops every line (an output nobody reads must still be drained). */
    public static Consumer<String> ignore() {
        return line -> { };
    }

    /** The program's stdin, or null until commons-exec has started it. */
    public OutputStream stdin() {
        return started ? stdin : null;
    }

    @Override
    public void setProcessInputStream(OutputStream os) {
        stdin = os;
    }

    @Override
    public void setProcessErrorStream(InputStream is) {
        err = is;
    }

    @Override
    public void setProcessOutputStream(InputStream is) {
        out = is;
    }

    @Override
    public void start() {
        reader(name + "-stdout", out, onOut);
        reader(name + "-stderr", err, onErr);
        started = true;
    }

    @Override
    public void stop() {}

    private static void reader(String threadName, InputStream in, Consumer<String> lines) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) lines.accept(l);
            } catch (IOException e) {
                // the program exited
            }
        }, threadName);
        t.setDaemon(true);
        t.start();
    }
}
