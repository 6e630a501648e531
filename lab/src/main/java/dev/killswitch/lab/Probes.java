package dev.killswitch.lab;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/** One-shot UDP, TCP and ICMP probes run inside a network namespace with socat and ping. */
public final class Probes {

    private Probes() {
    }

    /** Sends one UDP datagram to addr:port from namespace {@code ns}. */
    public static Probe udpSend(String ns, String addr, int port) {
        String target = (isV6(addr) ? "UDP6-SENDTO:" : "UDP4-SENDTO:") + hostPort(addr, port);
        Sh.Result r = Sh.run(Sh.inNs(ns, "socat", "-u", "STDIN", target), "probe\n", Duration.ofSeconds(10));
        return classify(r, Probe.Outcome.SENT);
    }

    /** Opens (and closes) a TCP connection to addr:port from namespace {@code ns}. */
    public static Probe tcpConnect(String ns, String addr, int port, long timeoutMs) {
        String target = (isV6(addr) ? "TCP6:" : "TCP4:") + hostPort(addr, port)
                + ",connect-timeout=" + String.format(Locale.ROOT, "%.3f", timeoutMs / 1000.0);
        Sh.Result r = Sh.run(Sh.inNs(ns, "socat", "-u", "/dev/null", target), null,
                Duration.ofMillis(timeoutMs + 5000));
        return classify(r, Probe.Outcome.CONNECTED);
    }

    /**
     * Sends one ICMP echo request (waiting up to 1 s for the reply) from namespace {@code ns}. iputils ping
     * 20221126 hides a local EPERM (it prints nothing and counts the packet as sent), so EPERM is read
     * from the namespace's IP OutDiscards counter instead; another sender failing with EPERM at the same
     * moment in the same namespace would make an unanswered ping look like EPERM too.
     */
    public static Probe ping(String ns, String addr) {
        boolean v6 = isV6(addr);
        long discardsBefore = outDiscards(ns, v6);
        Sh.Result r = Sh.run(Sh.inNs(ns, "ping", v6 ? "-6" : "-4", "-n", "-c", "1", "-W", "1", addr),
                null, Duration.ofSeconds(10));
        if (r.ok()) {
            return new Probe(Probe.Outcome.REPLIED, r.describe());
        }
        if (outDiscards(ns, v6) > discardsBefore) {
            return new Probe(Probe.Outcome.EPERM, "OutDiscards increased\n" + r.describe());
        }
        Probe.Outcome outcome = r.timedOut() ? Probe.Outcome.TIMEOUT : Probe.classifyFailure(r.output());
        // ping exits 1 without an error message when no reply came
        if (outcome == Probe.Outcome.ERROR && r.exitCode() == 1) {
            outcome = Probe.Outcome.TIMEOUT;
        }
        return new Probe(outcome, r.describe());
    }

    /** Locally generated packets the stack discarded, e.g. dropped by an output hook (sendmsg got EPERM). */
    static long outDiscards(String ns, boolean v6) {
        String snmp = Sh.check(Sh.inNs(ns, "cat", v6 ? "/proc/net/snmp6" : "/proc/net/snmp"), null).stdout();
        List<String> lines = snmp.lines().toList();
        if (v6) {
            for (String line : lines) {
                String[] f = line.trim().split("\\s+");
                if (f.length == 2 && f[0].equals("Ip6OutDiscards")) {
                    return Long.parseLong(f[1]);
                }
            }
        } else {
            // "Ip: <names...>" followed by "Ip: <values...>"
            for (int i = 0; i + 1 < lines.size(); i++) {
                List<String> names = List.of(lines.get(i).trim().split("\\s+"));
                if (names.get(0).equals("Ip:") && names.contains("OutDiscards")) {
                    return Long.parseLong(lines.get(i + 1).trim().split("\\s+")[names.indexOf("OutDiscards")]);
                }
            }
        }
        throw new IllegalStateException("no OutDiscards in " + snmp);
    }

    static boolean isV6(String addr) {
        return addr.contains(":");
    }

    static String hostPort(String addr, int port) {
        return (isV6(addr) ? "[" + addr + "]" : addr) + ":" + port;
    }

    private static Probe classify(Sh.Result r, Probe.Outcome success) {
        if (r.ok()) {
            return new Probe(success, r.describe());
        }
        if (r.timedOut()) {
            return new Probe(Probe.Outcome.TIMEOUT, r.describe());
        }
        return new Probe(Probe.classifyFailure(r.output()), r.describe());
    }
}
