package dev.killswitch.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.killswitch.lab.Lab;
import dev.killswitch.lab.Proc;
import dev.killswitch.lab.Sh;
import dev.killswitch.lab.WireGuardLab;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The link gate's cost, side by side in one run ({@code killswitch bench-gate}): one lab with a real full tunnel
 * (wg-quick, wireguard-go) and killswitch enabled in the client namespace, measured in two arms that alternate:
 * <ul>
 *   <li>{@link Arm#GATE}: {@code killswitch enable} as it is (with the link gate, {@code table netdev killswitch});
 *   <li>{@link Arm#NO_GATE}: the same {@code enable}, then {@code nft delete table netdev killswitch}. No service runs
 *       in the lab, so nothing puts the table back.
 * </ul>
 * Two measurements: TCP throughput through the tunnel (iperf3, one stream, to the server's tunnel address), and an
 * unpaced UDP sender ({@link UdpFlood}) to the endpoint's address and port out of the physical link (what the
 * tunnel's own transport is), counted and dropped at the ISP's side of the link by a netdev ingress counter; for it
 * the whole machine's kernel CPU (system + irq + softirq of /proc/stat) per packet, as shared/LAB.md's "Per-packet
 * kernel cost" measures it. Every run is kept; ratios are gate / no gate.
 */
public final class GateBench {

    public enum Arm {
        GATE("gate"), NO_GATE("no gate");

        private final String label;

        Arm(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** Where the gate arm's {@code table netdev killswitch} came from. */
    public enum GateSource {
        /** {@code killswitch enable} loaded it. */
        PRODUCT,
        /** enable loaded none; the bench loaded {@link #standInTable its stand-in} (--stand-in-gate). */
        STAND_IN,
        /** enable loaded none: the two arms are the same ruleset. */
        ABSENT
    }

    /**
     * @param tcpRuns      iperf3 runs of each arm
     * @param tcpWindow    the length of one iperf3 run
     * @param udpRuns      UDP rounds of each arm
     * @param udpWindow    how long the UDP sender sends in one round (after its warm-up)
     * @param payloadBytes the UDP payload
     * @param standIn      when enable loads no link gate, load the bench's stand-in in the gate arm
     */
    public record Options(int tcpRuns, Duration tcpWindow, int udpRuns, Duration udpWindow, int payloadBytes,
            boolean standIn) {

        public Options {
            if (tcpRuns < 0 || udpRuns < 0 || tcpRuns + udpRuns == 0) {
                throw new IllegalArgumentException("runs must be at least 0, and not both 0: " + tcpRuns + ", " + udpRuns);
            }
            if (tcpWindow.toSeconds() < 1 || udpWindow.toMillis() < 100) {
                throw new IllegalArgumentException("windows too short: " + tcpWindow + ", " + udpWindow);
            }
            if (payloadBytes < 1 || payloadBytes > 1400) {
                throw new IllegalArgumentException("payload must be 1 to 1400 bytes: " + payloadBytes);
            }
        }

        public static Options defaults() {
            return new Options(5, Duration.ofSeconds(10), 7, Duration.ofSeconds(5), 64, false);
        }
    }

    /** One iperf3 run of each arm; {@code first}: the arm that ran first in this pair. */
    public record TcpPair(int run, Arm first, double gateMbit, double noGateMbit) {

        public double ratio() {
            return noGateMbit == 0 ? Double.NaN : gateMbit / noGateMbit;
        }
    }

    /**
     * One UDP round of one arm.
     *
     * @param atIsp         datagrams the ISP's counter saw (the measured window only)
     * @param sent          writes that succeeded
     * @param eperm         writes refused with EPERM (a firewall drop in the client)
     * @param nanos         the window
     * @param kernelTicks   system + irq + softirq of the whole machine during the window, USER_HZ ticks
     * @param userTicks     user + nice of the whole machine, ticks (other load shows here)
     * @param totalTicks    every field of the cpu line, ticks
     * @param senderSysNanos the sender thread's own system time (CPU time minus user time)
     */
    public record UdpArm(long atIsp, long sent, long eperm, long errors, long nanos, long kernelTicks, long userTicks,
            long totalTicks, long senderSysNanos, long clockTicksPerSecond) {

        public double pps() {
            return nanos == 0 ? Double.NaN : atIsp * 1e9 / nanos;
        }

        /** Kernel CPU of the whole machine per datagram that reached the ISP, in ns. */
        public double kernelNanosPerPacket() {
            return atIsp == 0 ? Double.NaN : kernelTicks * (1e9 / clockTicksPerSecond) / atIsp;
        }

        /** The sender thread's system time per datagram sent, in ns. */
        public double senderSysNanosPerPacket() {
            return sent == 0 ? Double.NaN : (double) senderSysNanos / sent;
        }
    }

    public record UdpPair(int run, Arm first, UdpArm gate, UdpArm noGate) {

        public double ppsRatio() {
            return gate.pps() / noGate.pps();
        }

        public double cpuRatio() {
            return gate.kernelNanosPerPacket() / noGate.kernelNanosPerPacket();
        }

        public double senderSysRatio() {
            return gate.senderSysNanosPerPacket() / noGate.senderSysNanosPerPacket();
        }
    }

    public record Report(Options options, String kernel, String nft, int cpus, GateSource gateSource,
            List<String> gateChains, String gateRuleset, String physicalLink, List<TcpPair> tcp, List<UdpPair> udp, Instant started,
            Duration took) {

        public List<Double> tcpGate() {
            return tcp.stream().map(TcpPair::gateMbit).toList();
        }

        public List<Double> tcpNoGate() {
            return tcp.stream().map(TcpPair::noGateMbit).toList();
        }

        /** Median of the pairs' ratios. */
        public double tcpMedianRatio() {
            return LeakBench.medianD(tcp.stream().map(TcpPair::ratio).toList());
        }

        public double tcpRatioOfMedians() {
            return LeakBench.medianD(tcpGate()) / LeakBench.medianD(tcpNoGate());
        }

        public double udpMedianPpsRatio() {
            return LeakBench.medianD(udp.stream().map(UdpPair::ppsRatio).toList());
        }

        public double udpMedianCpuRatio() {
            return LeakBench.medianD(udp.stream().map(UdpPair::cpuRatio).toList());
        }

        public double udpMedianSenderSysRatio() {
            return LeakBench.medianD(udp.stream().map(UdpPair::senderSysRatio).toList());
        }

        public double udpMedian(Arm arm, java.util.function.ToDoubleFunction<UdpArm> f) {
            return LeakBench.medianD(udp.stream().map(p -> arm == Arm.GATE ? p.gate() : p.noGate())
                    .map(a -> f.applyAsDouble(a)).toList());
        }
    }

    static final int IPERF_PORT = 5201;
    /** The UDP sender's source port (its warm-up uses the next one); the ISP's counter matches this one only. */
    static final int FLOOD_SOURCE_PORT = 40000;
    static final String ISP_TABLE = "gatebench";
    static final String ISP_COUNTER = "udp_in";
    static final String GATE_TABLE = "killswitch";
    static final Duration WARMUP = Duration.ofMillis(500);
    /** A pause after each arm change: the JVM that ran enable winds down before a measurement starts. */
    static final long SETTLE_MS = 300;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Options options;
    private final KillswitchLauncher launcher;
    private final PrintStream progress;

    public GateBench(Options options, KillswitchLauncher launcher, PrintStream progress) {
        this.options = options;
        this.launcher = launcher;
        this.progress = progress;
    }

    /** Builds the lab, measures, and deletes every namespace it made (also when a step fails). */
    public Report run() {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        String kernel = firstLine(Sh.run("uname", "-r"), System.getProperty("os.version"));
        String nft = firstLine(Sh.run("nft", "--version"), "?");
        long clk = clockTicks();
        List<TcpPair> tcp = new ArrayList<>();
        List<UdpPair> udp = new ArrayList<>();
        try (GuardedTunnel t = new GuardedTunnel(Guard.NONE, launcher)) {
            Lab lab = t.lab();
            t.writeKillswitchConfig("""
                    [tunnel]
                    interfaces = ["%s"]
                    [[endpoint]]
                    address = "%s"
                    port = %d
                    protocol = "udp"
                    """.formatted(t.wg().clientIf(), Lab.PUBLIC_V4, WireGuardLab.PORT));
            t.upOrThrow();
            t.awaitTunnel();
            t.killswitch("enable").orThrow();
            GateSource source = gatePresent(lab) ? GateSource.PRODUCT
                    : options.standIn() ? GateSource.STAND_IN : GateSource.ABSENT;
            if (source == GateSource.STAND_IN) lab.nftInClient(standInTable(lab.clientPhys()));
            List<String> chains = gateChains(lab);
            Sh.Result listed = lab.execInClient("nft", "-s", "list", "table", "netdev", GATE_TABLE);
            String ruleset = listed.ok() ? listed.stdout() : "";
            progress.printf(Locale.ROOT, "bench-gate: kernel %s, %s; link gate %s%s%n", kernel, nft,
                    source.name().toLowerCase(Locale.ROOT).replace('_', '-'), chains.isEmpty() ? "" : " " + chains);
            if (source == GateSource.ABSENT) {
                progress.println("bench-gate: 'killswitch enable' loaded no table netdev killswitch: both arms are the "
                        + "same ruleset (the gate has not landed in this build); --stand-in-gate loads a hand-written one");
            }
            t.awaitTunnel(); // the tunnel still carries traffic under the table

            // the sender's datagrams to the endpoint leave by the physical link, as wireguard-go's (fwmarked) do:
            // wg-quick's full tunnel would otherwise route them into the tunnel
            lab.execInClient("ip", "rule", "add", "priority", "100", "ipproto", "udp", "sport",
                    FLOOD_SOURCE_PORT + "-" + (FLOOD_SOURCE_PORT + 1), "lookup", "main").orThrow();
            lab.nftInIsp(ispCounterTable(lab.ispPhys()));
            lab.startInIsp("iperf3", "-s", "-B", WireGuardLab.SERVER_TUN_V4, "-p", Integer.toString(IPERF_PORT));
            awaitTcpListener(lab, IPERF_PORT);

            for (int run = 1; run <= options.tcpRuns(); run++) {
                Arm first = run % 2 == 1 ? Arm.GATE : Arm.NO_GATE;
                double gate = 0;
                double noGate = 0;
                for (Arm arm : order(first)) {
                    setArm(t, arm, source);
                    double mbit = iperf3(t, options.tcpWindow());
                    if (arm == Arm.GATE) gate = mbit;
                    else noGate = mbit;
                    progress.printf(Locale.ROOT, "tcp run %d/%d %-7s %8.1f Mbit/s%n", run, options.tcpRuns(), arm.label(), mbit);
                }
                tcp.add(new TcpPair(run, first, gate, noGate));
            }
            for (int run = 1; run <= options.udpRuns(); run++) {
                Arm first = run % 2 == 1 ? Arm.GATE : Arm.NO_GATE;
                UdpArm gate = null;
                UdpArm noGate = null;
                for (Arm arm : order(first)) {
                    setArm(t, arm, source);
                    UdpArm r = flood(t, clk);
                    if (arm == Arm.GATE) gate = r;
                    else noGate = r;
                    progress.printf(Locale.ROOT, "udp run %d/%d %-7s %,10.0f pps  kernel %6.0f ns/packet  sender sys %6.0f "
                            + "ns/packet  (%,d at the ISP, %,d sent, %d EPERM)%n", run, options.udpRuns(), arm.label(),
                            r.pps(), r.kernelNanosPerPacket(), r.senderSysNanosPerPacket(), r.atIsp(), r.sent(), r.eperm());
                }
                udp.add(new UdpPair(run, first, gate, noGate));
            }
            return new Report(options, kernel, nft, Runtime.getRuntime().availableProcessors(), source, chains,
                    ruleset, lab.clientPhys(), tcp, udp, started, Duration.ofNanos(System.nanoTime() - t0));
        }
    }

    private static List<Arm> order(Arm first) {
        return first == Arm.GATE ? List.of(Arm.GATE, Arm.NO_GATE) : List.of(Arm.NO_GATE, Arm.GATE);
    }

    /**
     * {@code killswitch enable} (which loads the gate again when the product has one), the stand-in when asked for,
     * and for {@link Arm#NO_GATE} {@code nft delete table netdev killswitch}; then checks that the gate is there in
     * the gate arm (unless there is none at all) and gone in the other.
     */
    private void setArm(GuardedTunnel t, Arm arm, GateSource source) {
        Lab lab = t.lab();
        t.killswitch("enable").orThrow();
        if (source == GateSource.STAND_IN) lab.nftInClient(standInTable(lab.clientPhys()));
        if (arm == Arm.NO_GATE && gatePresent(lab)) {
            lab.execInClient("nft", "delete", "table", "netdev", GATE_TABLE).orThrow();
        }
        boolean present = gatePresent(lab);
        if (arm == Arm.NO_GATE && present) {
            throw new IllegalStateException("table netdev " + GATE_TABLE + " is still there after its deletion");
        }
        if (arm == Arm.GATE && source != GateSource.ABSENT && !present) {
            throw new IllegalStateException("'killswitch enable' did not load table netdev " + GATE_TABLE + " again");
        }
        Proc.sleep(SETTLE_MS);
    }

    private static boolean gatePresent(Lab lab) {
        return lab.execInClient("nft", "list", "table", "netdev", GATE_TABLE).ok();
    }

    /** The base chains of the gate ({@code egress_<link>}), from {@code nft -j list chains netdev}. */
    private static List<String> gateChains(Lab lab) {
        Sh.Result r = lab.execInClient("nft", "-j", "list", "chains", "netdev");
        List<String> out = new ArrayList<>();
        if (!r.ok()) return out;
        try {
            for (JsonNode item : JSON.readTree(r.stdout()).path("nftables")) {
                JsonNode c = item.path("chain");
                if (c.path("table").asText().equals(GATE_TABLE) && c.has("hook")) {
                    String dev = c.path("dev").asText(""); // nft 1.0.6 leaves it out of the JSON
                    out.add(c.path("name").asText() + (dev.isEmpty() ? "" : " (" + c.path("hook").asText() + " " + dev + ")"));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot parse nft output: " + r.describe(), e);
        }
        return out;
    }

    /**
     * A hand-written gate for developing the bench before the product's lands: what issue 26 describes, in the same
     * shape (a base chain per link with a drop policy jumping to a regular chain, a named counter).
     */
    static String standInTable(String link) {
        return """
                table netdev killswitch {
                }
                flush table netdev killswitch
                table netdev killswitch {
                \tcounter dropped_link {
                \t}
                \tchain gate {
                \t\tether type arp accept
                \t\tip daddr %1$s udp dport %2$d accept
                \t\tip daddr 255.255.255.255 udp sport 68 udp dport 67 accept
                \t\tip6 daddr ff02::1:2 udp sport 546 udp dport 547 accept
                \t\tip6 daddr { fe80::/10, ff02::/16 } icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
                \t\tcounter name "dropped_link" drop
                \t}
                \tchain egress_%3$s {
                \t\ttype filter hook egress device "%3$s" priority filter; policy drop;
                \t\tjump gate
                \t}
                }
                """.formatted(Lab.PUBLIC_V4, WireGuardLab.PORT, link);
    }

    /** At the ISP's end of the link, before anything else: counts the sender's datagrams, and drops them there. */
    static String ispCounterTable(String ispLink) {
        return """
                table netdev %1$s {
                \tcounter %2$s {
                \t}
                \tchain in {
                \t\ttype filter hook ingress device "%3$s" priority -500; policy accept;
                \t\tip saddr %4$s ip daddr %5$s udp sport %6$d udp dport %7$d counter name "%2$s" drop
                \t}
                }
                """.formatted(ISP_TABLE, ISP_COUNTER, ispLink, Lab.CLIENT_V4, Lab.PUBLIC_V4, FLOOD_SOURCE_PORT,
                WireGuardLab.PORT);
    }

    /** One round of the UDP sender in the client namespace; the ISP's counter reset before it. */
    private UdpArm flood(GuardedTunnel t, long clk) {
        Lab lab = t.lab();
        Sh.run(Sh.inNs(lab.ispNs(), "nft", "reset", "counter", "netdev", ISP_TABLE, ISP_COUNTER), null,
                Sh.DEFAULT_TIMEOUT).orThrow();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Proc p = lab.startInClient(java, "-XX:+UseSerialGC", "-Xmx64m", "-cp", classpathOf(UdpFlood.class),
                UdpFlood.class.getName(), Lab.PUBLIC_V4, Integer.toString(WireGuardLab.PORT),
                Integer.toString(FLOOD_SOURCE_PORT), Long.toString(WARMUP.toMillis()),
                Long.toString(options.udpWindow().toMillis()), Integer.toString(options.payloadBytes()));
        try {
            if (!p.waitFor(options.udpWindow().plus(WARMUP).plusSeconds(30))) {
                throw new IllegalStateException("the UDP sender did not finish: " + p.describe());
            }
            if (p.exitCode() != 0) throw new IllegalStateException("the UDP sender failed: " + p.describe());
            JsonNode r = JSON.readTree(p.stdout().lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b)
                    .orElseThrow(() -> new IllegalStateException("the UDP sender printed no result: " + p.describe())));
            long[] before = ticks(r.path("stat_before").asText());
            long[] after = ticks(r.path("stat_after").asText());
            long kernel = delta(before, after, 2) + delta(before, after, 5) + delta(before, after, 6);
            long user = delta(before, after, 0) + delta(before, after, 1);
            long total = 0;
            for (int i = 0; i < Math.min(before.length, after.length); i++) total += delta(before, after, i);
            return new UdpArm(ispPackets(lab), r.path("sent").asLong(), r.path("eperm").asLong(),
                    r.path("errors").asLong(), r.path("nanos").asLong(), kernel, user, total,
                    r.path("thread_cpu_ns").asLong() - r.path("thread_user_ns").asLong(), clk);
        } catch (IOException e) {
            throw new IllegalStateException("cannot parse the UDP sender's result: " + p.describe(), e);
        } finally {
            p.close();
        }
    }

    private static long ispPackets(Lab lab) {
        Sh.Result r = Sh.run(Sh.inNs(lab.ispNs(), "nft", "-j", "list", "counter", "netdev", ISP_TABLE, ISP_COUNTER),
                null, Sh.DEFAULT_TIMEOUT).orThrow();
        try {
            for (JsonNode item : JSON.readTree(r.stdout()).path("nftables")) {
                if (item.has("counter")) return item.get("counter").path("packets").asLong();
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot parse nft output: " + r.describe(), e);
        }
        throw new IllegalStateException("no counter in nft output: " + r.describe());
    }

    static long[] ticks(String cpuLine) {
        String[] f = cpuLine.trim().split("\\s+");
        long[] out = new long[f.length];
        for (int i = 0; i < f.length; i++) out[i] = Long.parseLong(f[i]);
        if (out.length < 7) throw new IllegalArgumentException("short cpu line: " + cpuLine);
        return out;
    }

    private static long delta(long[] before, long[] after, int i) {
        return i < before.length && i < after.length ? after[i] - before[i] : 0;
    }

    /** One iperf3 run from the client to the server's tunnel address; the receiver's Mbit/s. */
    private static double iperf3(GuardedTunnel t, Duration window) {
        Sh.Result r = t.lab().execInClient(window.plusSeconds(30), "iperf3", "-c", WireGuardLab.SERVER_TUN_V4,
                "-p", Integer.toString(IPERF_PORT), "-t", Long.toString(window.toSeconds()), "-J");
        if (!r.ok()) throw new IllegalStateException("iperf3 failed: " + r.describe());
        try {
            JsonNode bps = JSON.readTree(r.stdout()).path("end").path("sum_received").path("bits_per_second");
            if (!bps.isNumber()) throw new IllegalStateException("iperf3 gave no received rate: " + r.stdout());
            return bps.asDouble() / 1e6;
        } catch (IOException e) {
            throw new IllegalStateException("iperf3 printed no JSON: " + r.describe(), e);
        }
    }

    private static void awaitTcpListener(Lab lab, int port) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (lab.execInIsp("ss", "-H", "-l", "-n", "-t", "sport", "=", ":" + port).stdout().isBlank()) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("no TCP listener on " + port);
            Proc.sleep(20);
        }
    }

    private static long clockTicks() {
        Sh.Result r = Sh.run("getconf", "CLK_TCK");
        try {
            return r.ok() ? Long.parseLong(r.stdout().trim()) : 100;
        } catch (NumberFormatException e) {
            return 100;
        }
    }

    private static String firstLine(Sh.Result r, String fallback) {
        String s = r.ok() ? r.stdout().lines().findFirst().orElse("").trim() : "";
        return s.isEmpty() ? fallback : s;
    }

    /** The directory or jar holding {@code c}: target/classes in tests, the lab jar otherwise. */
    private static String classpathOf(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate " + c.getName(), e);
        }
    }

    // ---- output ----

    public static String table(Report r) {
        StringBuilder s = new StringBuilder();
        Options o = r.options();
        s.append(String.format(Locale.ROOT, "Link gate cost, side by side: kernel %s, %s, %d CPUs%n", r.kernel(), r.nft(), r.cpus()));
        s.append(String.format(Locale.ROOT, "Gate arm: %s%s; no-gate arm: the same enable, then nft delete table netdev "
                + "killswitch%n", switch (r.gateSource()) {
                    case PRODUCT -> "killswitch enable, which loads table netdev killswitch";
                    case STAND_IN -> "killswitch enable (no gate of its own) plus the bench's STAND-IN table netdev killswitch";
                    case ABSENT -> "killswitch enable, which loads NO table netdev killswitch (both arms are the same)";
                }, r.gateChains().isEmpty() ? "" : " " + String.join(", ", r.gateChains())));
        if (!r.tcp().isEmpty()) {
            s.append(String.format(Locale.ROOT, "%nTCP through the WireGuard tunnel (iperf3, one stream, client to %s, %d s "
                    + "runs, alternating):%n", WireGuardLab.SERVER_TUN_V4, o.tcpWindow().toSeconds()));
            String row = "%-6s %-9s %14s %16s %13s%n";
            s.append(String.format(Locale.ROOT, row, "run", "first", "gate Mbit/s", "no gate Mbit/s", "gate/no gate"));
            for (TcpPair p : r.tcp()) {
                s.append(String.format(Locale.ROOT, row, p.run(), p.first().label(), fmt(p.gateMbit(), 1),
                        fmt(p.noGateMbit(), 1), fmt(p.ratio(), 3)));
            }
            s.append(String.format(Locale.ROOT, row, "median", "", fmt(LeakBench.medianD(r.tcpGate()), 1),
                    fmt(LeakBench.medianD(r.tcpNoGate()), 1), fmt(r.tcpMedianRatio(), 3)));
            s.append(String.format(Locale.ROOT, "ratio of the medians: %s%n", fmt(r.tcpRatioOfMedians(), 3)));
        }
        if (!r.udp().isEmpty()) {
            s.append(String.format(Locale.ROOT, "%nUDP to the endpoint %s:%d out of the physical link %s (one unpaced sender, "
                    + "%d-byte payloads, %.1f s per arm, counted at the ISP; kernel = the machine's system+irq+softirq "
                    + "per packet; sender sys = the sending thread's own system time per packet), alternating:%n",
                    Lab.PUBLIC_V4, WireGuardLab.PORT, r.physicalLink(), o.payloadBytes(), o.udpWindow().toMillis() / 1000.0));
            String row = "%-6s %-8s %11s %11s %7s %9s %9s %7s %9s %9s %7s%n";
            s.append(String.format(Locale.ROOT, row, "run", "first", "gate pps", "no-gate pps", "ratio",
                    "gate ns", "no-gate", "ratio", "sndr gate", "no-gate", "ratio"));
            for (UdpPair p : r.udp()) {
                s.append(String.format(Locale.ROOT, row, p.run(), p.first().label(), fmt(p.gate().pps(), 0),
                        fmt(p.noGate().pps(), 0), fmt(p.ppsRatio(), 3), fmt(p.gate().kernelNanosPerPacket(), 0),
                        fmt(p.noGate().kernelNanosPerPacket(), 0), fmt(p.cpuRatio(), 3),
                        fmt(p.gate().senderSysNanosPerPacket(), 0), fmt(p.noGate().senderSysNanosPerPacket(), 0),
                        fmt(p.senderSysRatio(), 3)));
            }
            s.append(String.format(Locale.ROOT, row, "median", "", fmt(r.udpMedian(Arm.GATE, UdpArm::pps), 0),
                    fmt(r.udpMedian(Arm.NO_GATE, UdpArm::pps), 0), fmt(r.udpMedianPpsRatio(), 3),
                    fmt(r.udpMedian(Arm.GATE, UdpArm::kernelNanosPerPacket), 0),
                    fmt(r.udpMedian(Arm.NO_GATE, UdpArm::kernelNanosPerPacket), 0), fmt(r.udpMedianCpuRatio(), 3),
                    fmt(r.udpMedian(Arm.GATE, UdpArm::senderSysNanosPerPacket), 0),
                    fmt(r.udpMedian(Arm.NO_GATE, UdpArm::senderSysNanosPerPacket), 0), fmt(r.udpMedianSenderSysRatio(), 3)));
            s.append("(medians of the per-run figures; ratios: gate / no gate; a CPU ratio above 1 is the gate's cost)\n");
        }
        if (!r.gateRuleset().isBlank()) {
            s.append(String.format(Locale.ROOT, "%nThe gate arm's table (nft -s list table netdev killswitch, as loaded "
                    + "at the start):%n"));
            r.gateRuleset().lines().forEach(l -> s.append("  ").append(l).append('\n'));
        }
        s.append(String.format(Locale.ROOT, "%nTook %d s.%n", r.took().toSeconds()));
        return s.toString();
    }

    private static String fmt(double v, int decimals) {
        if (Double.isNaN(v) || Double.isInfinite(v)) return "-";
        return String.format(Locale.ROOT, decimals == 0 ? "%,.0f" : "%." + decimals + "f", v);
    }

    public static String json(Report r) {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        Options o = r.options();
        root.put("started", r.started().toString());
        root.put("seconds", r.took().toMillis() / 1000.0);
        root.put("kernel", r.kernel());
        root.put("nft", r.nft());
        root.put("cpus", r.cpus());
        root.put("gate", r.gateSource().name().toLowerCase(Locale.ROOT));
        r.gateChains().forEach(root.putArray("gate_chains")::add);
        root.put("gate_ruleset", r.gateRuleset());
        root.put("physical_link", r.physicalLink());
        ObjectNode tcp = root.putObject("tcp");
        tcp.put("measures", "iperf3, one TCP stream through the WireGuard tunnel to " + WireGuardLab.SERVER_TUN_V4
                + ", the receiver's bits per second");
        tcp.put("runs_per_arm", o.tcpRuns());
        tcp.put("window_s", o.tcpWindow().toSeconds());
        ArrayNode tcpRuns = tcp.putArray("runs");
        for (TcpPair p : r.tcp()) {
            ObjectNode n = tcpRuns.addObject();
            n.put("run", p.run());
            n.put("first", p.first().name().toLowerCase(Locale.ROOT));
            n.put("gate_mbit_s", p.gateMbit());
            n.put("no_gate_mbit_s", p.noGateMbit());
            n.put("ratio", p.ratio());
        }
        if (!r.tcp().isEmpty()) {
            tcp.put("median_gate_mbit_s", LeakBench.medianD(r.tcpGate()));
            tcp.put("median_no_gate_mbit_s", LeakBench.medianD(r.tcpNoGate()));
            tcp.put("median_ratio", r.tcpMedianRatio());
            tcp.put("ratio_of_medians", r.tcpRatioOfMedians());
        }
        ObjectNode udp = root.putObject("udp");
        udp.put("measures", "one unpaced UDP sender to the endpoint " + Lab.PUBLIC_V4 + ":" + WireGuardLab.PORT
                + " out of the physical link, counted at the ISP; kernel CPU = system+irq+softirq of /proc/stat");
        udp.put("runs_per_arm", o.udpRuns());
        udp.put("window_ms", o.udpWindow().toMillis());
        udp.put("payload_bytes", o.payloadBytes());
        ArrayNode udpRuns = udp.putArray("runs");
        for (UdpPair p : r.udp()) {
            ObjectNode n = udpRuns.addObject();
            n.put("run", p.run());
            n.put("first", p.first().name().toLowerCase(Locale.ROOT));
            arm(n.putObject("gate"), p.gate());
            arm(n.putObject("no_gate"), p.noGate());
            n.put("pps_ratio", p.ppsRatio());
            n.put("cpu_ratio", p.cpuRatio());
            n.put("sender_sys_ratio", p.senderSysRatio());
        }
        if (!r.udp().isEmpty()) {
            udp.put("median_pps_ratio", r.udpMedianPpsRatio());
            udp.put("median_cpu_ratio", r.udpMedianCpuRatio());
            udp.put("median_sender_sys_ratio", r.udpMedianSenderSysRatio());
        }
        try {
            return mapper.writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void arm(ObjectNode n, UdpArm a) {
        n.put("at_isp", a.atIsp());
        n.put("sent", a.sent());
        n.put("eperm", a.eperm());
        n.put("errors", a.errors());
        n.put("window_ns", a.nanos());
        n.put("pps", a.pps());
        n.put("kernel_ticks", a.kernelTicks());
        n.put("user_ticks", a.userTicks());
        n.put("total_ticks", a.totalTicks());
        n.put("clock_ticks_per_s", a.clockTicksPerSecond());
        n.put("kernel_ns_per_packet", a.kernelNanosPerPacket());
        n.put("sender_sys_ns_per_packet", a.senderSysNanosPerPacket());
    }
}
