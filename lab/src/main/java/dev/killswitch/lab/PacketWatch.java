package dev.killswitch.lab;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * tcpdump waiting for the first packet that matches a filter on one interface of a namespace, for
 * timing measurements: the kernel's receive timestamp (wall clock, microseconds) of that packet.
 */
public final class PacketWatch implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final Proc proc;

    private PacketWatch(Proc proc) {
        this.proc = proc;
    }

    /** Starts tcpdump through {@code lab} (so that the lab kills it on close); returns once it captures. */
    static PacketWatch start(Lab lab, boolean inIsp, String iface, String filter) {
        String[] argv = {"tcpdump", "-i", iface, "-n", "-p", "-tt", "-l", "-c", "1", filter};
        Proc p = inIsp ? lab.startInIsp(argv) : lab.startInClient(argv);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!p.stderr().contains("listening on")) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                String what = p.describe();
                p.close();
                throw new IllegalStateException("tcpdump did not start: " + what);
            }
            Proc.sleep(10);
        }
        return new PacketWatch(p);
    }

    /** When the first matching packet was seen, or empty if none came within {@code timeout}. */
    public Optional<Instant> await(Duration timeout) {
        proc.waitFor(timeout);
        return proc.stdout().lines().filter(l -> !l.isBlank()).findFirst().map(PacketWatch::timestamp);
    }

    /** The full first line tcpdump printed, or empty. */
    public Optional<String> firstLine() {
        return proc.stdout().lines().filter(l -> !l.isBlank()).findFirst();
    }

    @Override
    public void close() {
        proc.close();
    }

    private static Instant timestamp(String line) {
        String first = line.trim().split("\\s+", 2)[0];
        BigDecimal micros = new BigDecimal(first).movePointRight(6);
        long us = micros.longValueExact();
        return Instant.ofEpochSecond(us / 1_000_000, (us % 1_000_000) * 1000);
    }
}
