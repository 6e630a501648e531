package dev.killswitch.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.time.Duration;
import java.util.List;

/** A running {@link UdpPacer} JVM inside a namespace. */
public final class PacerRun {

    /** The pacer's final counts: datagrams sent, sends refused with EPERM, other send errors. */
    public record Totals(long sent, long eperm, long errors) {

        public long attempts() {
            return sent + eperm + errors;
        }
    }

    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Proc proc;

    private PacerRun(Proc proc) {
        this.proc = proc;
    }

    /** Starts the pacer in {@code ns} and returns once it is sending. */
    static PacerRun start(String ns, String addr, int port, int pps, long durationMs) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Proc proc = Sh.start(Sh.inNs(ns, java, "-cp", classpath().toString(), UdpPacer.class.getName(),
                addr, Integer.toString(port), Integer.toString(pps), Long.toString(durationMs)));
        if (!proc.awaitOutput(UdpPacer.STARTED, START_TIMEOUT)) {
            String what = proc.describe();
            proc.close();
            throw new IllegalStateException("pacer did not start: " + what);
        }
        return new PacerRun(proc);
    }

    public Proc proc() {
        return proc;
    }

    public long pid() {
        return proc.pid();
    }

    /** Waits for the pacer to finish its duration and returns its totals. */
    public Totals awaitFinish(Duration timeout) {
        if (!proc.waitFor(timeout)) {
            throw new IllegalStateException("pacer still running after " + timeout + ": " + proc.describe());
        }
        return totals();
    }

    /** Stops the pacer with SIGTERM (if still running) and returns its totals. */
    public Totals stop() {
        proc.stop();
        return totals();
    }

    private Totals totals() {
        List<String> lines = proc.stdout().lines().filter(l -> l.startsWith("{")).toList();
        if (lines.isEmpty()) {
            throw new IllegalStateException("pacer printed no totals: " + proc.describe());
        }
        JsonNode json;
        try {
            json = JSON.readTree(lines.get(lines.size() - 1));
        } catch (IOException e) {
            throw new IllegalStateException("cannot parse pacer totals: " + proc.describe(), e);
        }
        if (!json.has("sent") || !json.has("eperm") || !json.has("errors")) {
            throw new IllegalStateException("incomplete pacer totals: " + proc.describe());
        }
        return new Totals(json.get("sent").asLong(), json.get("eperm").asLong(), json.get("errors").asLong());
    }

    /** The directory or jar holding UdpPacer: target/classes in tests, the jar otherwise. */
    private static Path classpath() {
        CodeSource source = UdpPacer.class.getProtectionDomain().getCodeSource();
        try {
            return Path.of(source.getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the UdpPacer class: " + source.getLocation(), e);
        }
    }
}
