package dev.killswitch.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.killswitch.lab.Lab;
import dev.killswitch.lab.PacerRun;
import dev.killswitch.lab.PacketWatch;
import dev.killswitch.lab.Proc;
import dev.killswitch.lab.Sh;
import dev.killswitch.lab.WgClientConfig;
import dev.killswitch.lab.WireGuardLab;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The leak benchmark behind {@code killswitch bench-leaks}: every fault against every guard, N rounds each,
 * interleaved (round 1 of every pair, then round 2, ...) so that a slow minute of the machine does not hit
 * one guard only; then what the kill switch costs: {@code wg-quick up} time and the time to the first
 * packet through the tunnel with and without the hooks, and TCP throughput through the tunnel with the
 * table loaded and without.
 */
public final class LeakBench {

    /**
     * @param rounds            rounds of every (fault, guard) pair
     * @param costs             also measure the up and down times and the throughput
     * @param costRuns          wg-quick up/down runs of each cost guard, interleaved
     * @param throughputWindow  the length of one iperf3 run (5 with the table loaded, 5 without, alternating)
     */
    public record Options(int rounds, LeakScenario.Settings settings, List<Guard> guards, List<Fault> faults,
            boolean costs, int costRuns, Duration throughputWindow) {

        public Options {
            if (rounds < 1) {
                throw new IllegalArgumentException("rounds must be at least 1: " + rounds);
            }
            if (costRuns < 1) {
                throw new IllegalArgumentException("cost runs must be at least 1: " + costRuns);
            }
            guards = List.copyOf(guards);
            faults = List.copyOf(faults);
        }
    }

    /** The rounds of one (fault, guard) pair. */
    public record Cell(Fault fault, Guard guard, List<LeakScenario.Result> results, List<String> failures) {

        public long plaintextSum() {
            return results.stream().mapToLong(LeakScenario.Result::plaintext).sum();
        }

        public long plaintextMax() {
            return results.stream().mapToLong(LeakScenario.Result::plaintext).max().orElse(0);
        }

        public long sent() {
            return results.stream().mapToLong(LeakScenario.Result::sent).sum();
        }

        public long eperm() {
            return results.stream().mapToLong(LeakScenario.Result::eperm).sum();
        }

        public long tunnelledAfterFault() {
            return results.stream().mapToLong(LeakScenario.Result::tunnelledAfterFault).sum();
        }

        public List<String> notes() {
            return results.stream().map(LeakScenario.Result::note).filter(n -> !n.isEmpty()).distinct().toList();
        }
    }

    /** {@code wg-quick up} and {@code down} of the full tunnel, N times, with one guard; all in ms. */
    public record UpTiming(Guard guard, List<Long> upMillis, List<Long> firstPacketMillis, List<Long> downMillis) {

        public long medianUp() {
            return median(upMillis);
        }

        public long medianFirstPacket() {
            return median(firstPacketMillis);
        }

        public long medianDown() {
            return median(downMillis);
        }
    }

    /** The guards whose costs are measured, side by side: none, the hooks with the service, the hooks without it. */
    static final List<Guard> COST_GUARDS = List.of(Guard.NONE, Guard.KILLSWITCH, Guard.KILLSWITCH_NO_SERVICE);

    /**
     * TCP throughput through the tunnel as iperf3 measures it (one stream, client in the client namespace,
     * server at the ISP; the receiver's bits per second), in Mbit/s, with the table loaded and without.
     */
    public record Throughput(List<Double> offMbitPerSecond, List<Double> onMbitPerSecond, Duration window) {

        public double medianOff() {
            return medianD(offMbitPerSecond);
        }

        public double medianOn() {
            return medianD(onMbitPerSecond);
        }

        /** Median with the kill switch on over median with it off. */
        public double ratio() {
            return medianOff() == 0 ? Double.NaN : medianOn() / medianOff();
        }
    }

    public record Report(Options options, List<Cell> cells, List<UpTiming> upTimings, Throughput throughput,
            Instant started, Duration took) {

        public boolean failed() {
            return cells.stream().anyMatch(c -> !c.failures().isEmpty());
        }

        public Optional<Cell> cell(Fault fault, Guard guard) {
            return cells.stream().filter(c -> c.fault() == fault && c.guard() == guard).findFirst();
        }
    }

    static final int BULK_PORT = 5201;
    static final int TIMING_PPS = 2000;
    static final int THROUGHPUT_PAIRS = 5;

    private final Options options;
    private final KillswitchLauncher launcher;
    private final PrintStream progress;

    public LeakBench(Options options, KillswitchLauncher launcher, PrintStream progress) {
        this.options = options;
        this.launcher = launcher;
        this.progress = progress;
    }

    public Report run() {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        Map<String, List<LeakScenario.Result>> results = new LinkedHashMap<>();
        Map<String, List<String>> failures = new LinkedHashMap<>();
        for (Fault f : options.faults()) {
            for (Guard g : options.guards()) {
                results.put(key(f, g), new ArrayList<>());
                failures.put(key(f, g), new ArrayList<>());
            }
        }
        int total = options.rounds() * options.faults().size() * options.guards().size();
        int done = 0;
        for (int round = 1; round <= options.rounds(); round++) {
            for (Fault f : options.faults()) {
                for (Guard g : options.guards()) {
                    done++;
                    long s0 = System.nanoTime();
                    try {
                        LeakScenario.Result r = LeakScenario.run(g, f, options.settings(), launcher);
                        results.get(key(f, g)).add(r);
                        progress.printf(Locale.ROOT, "[%d/%d] round %d %-17s %-21s plaintext %6d  tunnel after fault %6d"
                                + "  sent %6d  eperm %6d  (%d ms)%n", done, total, round, f, g, r.plaintext(),
                                r.tunnelledAfterFault(), r.sent(), r.eperm(), (System.nanoTime() - s0) / 1_000_000);
                    } catch (RuntimeException e) {
                        failures.get(key(f, g)).add("round " + round + ": " + e.getMessage());
                        progress.printf(Locale.ROOT, "[%d/%d] round %d %s %s FAILED: %s%n", done, total, round, f, g, e);
                    }
                }
            }
        }
        List<Cell> cells = new ArrayList<>();
        for (Fault f : options.faults()) {
            for (Guard g : options.guards()) {
                cells.add(new Cell(f, g, List.copyOf(results.get(key(f, g))), List.copyOf(failures.get(key(f, g)))));
            }
        }
        List<UpTiming> timings = new ArrayList<>();
        Throughput throughput = null;
        if (options.costs()) {
            timings.addAll(upTimings(COST_GUARDS));
            throughput = throughput();
        }
        return new Report(options, cells, timings, throughput, started, Duration.ofNanos(System.nanoTime() - t0));
    }

    /**
     * One lab per guard; {@code costRuns} rounds, and in each round every guard in turn (so a slow moment of
     * the machine hits all alike): a UDP pacer (2,000 pps) started in that lab, wg-quick up (timed), the first
     * pacer packet on the server's tunnel interface (tcpdump's kernel timestamp), the pacer stopped, wg-quick
     * down (timed). Only the lab being measured sends: three pacers at once would load 2 cores.
     */
    List<UpTiming> upTimings(List<Guard> guards) {
        Map<Guard, List<Long>> up = new LinkedHashMap<>();
        Map<Guard, List<Long>> first = new LinkedHashMap<>();
        Map<Guard, List<Long>> down = new LinkedHashMap<>();
        List<GuardedTunnel> labs = new ArrayList<>();
        try {
            for (Guard g : guards) {
                labs.add(new GuardedTunnel(g, launcher));
                up.put(g, new ArrayList<>());
                first.put(g, new ArrayList<>());
                down.put(g, new ArrayList<>());
            }
            for (int i = 0; i < options.costRuns(); i++) {
                for (GuardedTunnel t : labs) {
                    Guard g = t.guard();
                    PacerRun pacer = t.startPacer(TIMING_PPS);
                    try (PacketWatch watch = t.wg().watchTunnelAtIsp("udp and dst port " + GuardedTunnel.UDP_PORT)) {
                        Instant start = Instant.now();
                        long n0 = System.nanoTime();
                        t.up(WgClientConfig.fullTunnel()).orThrow();
                        up.get(g).add((System.nanoTime() - n0) / 1_000_000);
                        Instant at = watch.await(Duration.ofSeconds(5)).orElseThrow(() ->
                                new IllegalStateException("no packet through the tunnel within 5 s with " + g));
                        first.get(g).add(Duration.between(start, at).toMillis());
                    } finally {
                        pacer.stop();
                    }
                    long d0 = System.nanoTime();
                    t.down().orThrow();
                    down.get(g).add((System.nanoTime() - d0) / 1_000_000);
                }
            }
        } finally {
            labs.forEach(GuardedTunnel::close);
        }
        List<UpTiming> out = new ArrayList<>();
        for (Guard g : guards) {
            UpTiming timing = new UpTiming(g, up.get(g), first.get(g), down.get(g));
            out.add(timing);
            progress.printf(Locale.ROOT, "timing with %s: wg-quick up median %d ms, first packet %d ms, down %d ms "
                    + "(up %s, first %s, down %s)%n", g, timing.medianUp(), timing.medianFirstPacket(), timing.medianDown(),
                    up.get(g), first.get(g), down.get(g));
        }
        return out;
    }

    /**
     * TCP throughput through a full tunnel without hooks, with the killswitch table loaded ({@code enable}
     * from a config naming the endpoint and the tunnel) and without it ({@code disable}), alternating:
     * {@value #THROUGHPUT_PAIRS} iperf3 runs of each, of {@code throughputWindow} each.
     */
    Throughput throughput() {
        List<Double> off = new ArrayList<>();
        List<Double> on = new ArrayList<>();
        try (GuardedTunnel t = new GuardedTunnel(Guard.NONE, launcher)) {
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
            Lab lab = t.lab();
            lab.startInIsp("iperf3", "-s", "-B", Lab.PUBLIC_V4, "-p", Integer.toString(BULK_PORT));
            awaitTcpListener(lab, BULK_PORT);
            for (int pair = 0; pair < THROUGHPUT_PAIRS; pair++) {
                boolean onFirst = pair % 2 == 1;
                for (boolean enabled : onFirst ? List.of(true, false) : List.of(false, true)) {
                    t.killswitch(enabled ? "enable" : "disable").orThrow();
                    double mbit = iperf3(t, options.throughputWindow());
                    (enabled ? on : off).add(mbit);
                    progress.printf(Locale.ROOT, "throughput %s: %.0f Mbit/s%n", enabled ? "with the table" : "without", mbit);
                }
            }
            t.killswitch("disable");
        }
        Throughput r = new Throughput(off, on, options.throughputWindow());
        progress.printf(Locale.ROOT, "throughput: off %s, on %s Mbit/s; ratio of medians %.3f%n", off, on, r.ratio());
        return r;
    }

    /** One iperf3 run from the client to the ISP's server; the receiver's Mbit/s from iperf3's JSON. */
    private static double iperf3(GuardedTunnel t, Duration window) {
        Sh.Result r = t.lab().execInClient(Duration.ofSeconds(window.toSeconds() + 30), "iperf3", "-c", Lab.PUBLIC_V4,
                "-p", Integer.toString(BULK_PORT), "-t", Long.toString(window.toSeconds()), "-J");
        if (!r.ok()) throw new IllegalStateException("iperf3 failed: " + r.describe());
        try {
            JsonNode bps = new ObjectMapper().readTree(r.stdout()).path("end").path("sum_received").path("bits_per_second");
            if (!bps.isNumber()) throw new IllegalStateException("iperf3 gave no received rate: " + r.stdout());
            return bps.asDouble() / 1e6;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("iperf3 printed no JSON: " + r.describe(), e);
        }
    }

    private static void awaitTcpListener(Lab lab, int port) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (lab.execInIsp("ss", "-H", "-l", "-n", "-t", "sport", "=", ":" + port).stdout().isBlank()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no TCP listener on " + port);
            }
            Proc.sleep(20);
        }
    }

    // ---- output ----

    /** The leak table and the cost figures, as text. */
    public static String table(Report report) {
        StringBuilder s = new StringBuilder();
        Options o = report.options();
        s.append(String.format(Locale.ROOT, "Plaintext packets that reached the ISP, %d round(s) per cell at %,d pps "
                + "(%d ms before the fault, %d ms after it):%n", o.rounds(), o.settings().pps(),
                o.settings().before().toMillis(), o.settings().after().toMillis()));
        String row = "%-17s %-21s %9s %9s %8s %8s %13s  %s%n";
        s.append(String.format(Locale.ROOT, row, "fault", "guard", "plaintext", "max/round", "sent", "EPERM",
                "tunnel after", "notes"));
        for (Cell c : report.cells()) {
            String notes = String.join("; ", c.notes());
            if (!c.failures().isEmpty()) {
                notes = c.failures().size() + " round(s) FAILED: " + String.join(" | ", c.failures())
                        + (notes.isEmpty() ? "" : "; " + notes);
            }
            s.append(String.format(Locale.ROOT, row, c.fault(), c.guard(), c.plaintextSum(), c.plaintextMax(),
                    c.sent(), c.eperm(), c.tunnelledAfterFault(), notes));
        }
        s.append("plaintext: packets on the client's physical link to 203.0.113.5 or 2001:db8:5::5 other than WireGuard's\n"
                + "UDP 51820, summed over the rounds; sent/EPERM: the sender's datagrams the kernel took/refused; tunnel\n"
                + "after: the sender's packets that still arrived through the tunnel once the fault began.\n");
        s.append("\nPer guard, over every fault and round:\n");
        for (Guard g : o.guards()) {
            List<Cell> mine = report.cells().stream().filter(c -> c.guard() == g).toList();
            long rounds = mine.stream().mapToLong(c -> c.results().size()).sum();
            long leaking = mine.stream().flatMap(c -> c.results().stream()).filter(r -> r.plaintext() > 0).count();
            long plain = mine.stream().mapToLong(Cell::plaintextSum).sum();
            s.append(String.format(Locale.ROOT, "  %-21s %,9d plaintext packets; %d of %d rounds leaked%n", g, plain,
                    leaking, rounds));
        }
        if (!report.upTimings().isEmpty()) {
            s.append(String.format(Locale.ROOT, "%nwg-quick of a full tunnel, median of %d interleaved runs, pacer at %,d pps "
                    + "(ratio: against no hooks):%n", o.costRuns(), TIMING_PPS));
            UpTiming none = report.upTimings().get(0);
            for (UpTiming u : report.upTimings()) {
                s.append(String.format(Locale.ROOT, "  %-22s up %5d ms (x%.2f)   first packet %5d ms after up started (x%.2f)"
                        + "   down %5d ms (x%.2f)%n", u.guard(), u.medianUp(), ratio(u.medianUp(), none.medianUp()),
                        u.medianFirstPacket(), ratio(u.medianFirstPacket(), none.medianFirstPacket()),
                        u.medianDown(), ratio(u.medianDown(), none.medianDown())));
            }
        }
        Throughput tp = report.throughput();
        if (tp != null) {
            s.append(String.format(Locale.ROOT, "%nTCP throughput through the tunnel (iperf3, one stream, %d s runs, "
                    + "median of %d alternating): kill switch off %.0f Mbit/s, on %.0f Mbit/s, on/off = %.3f%n"
                    + "  off: %s%n  on:  %s%n",
                    tp.window().toSeconds(), tp.onMbitPerSecond().size(), tp.medianOff(), tp.medianOn(), tp.ratio(),
                    tp.offMbitPerSecond(), tp.onMbitPerSecond()));
        }
        s.append(String.format(Locale.ROOT, "%nTook %d s.%n", report.took().toSeconds()));
        return s.toString();
    }

    public static String json(Report report) {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        Options o = report.options();
        root.put("started", report.started().toString());
        root.put("seconds", report.took().toMillis() / 1000.0);
        root.put("rounds", o.rounds());
        root.put("pps", o.settings().pps());
        root.put("before_fault_ms", o.settings().before().toMillis());
        root.put("after_fault_ms", o.settings().after().toMillis());
        ArrayNode cells = root.putArray("leaks");
        for (Cell c : report.cells()) {
            ObjectNode n = cells.addObject();
            n.put("fault", c.fault().name());
            n.put("guard", c.guard().name());
            n.put("plaintext_sum", c.plaintextSum());
            n.put("plaintext_max", c.plaintextMax());
            n.put("sent", c.sent());
            n.put("eperm", c.eperm());
            n.put("tunnelled_after_fault", c.tunnelledAfterFault());
            ArrayNode rounds = n.putArray("rounds");
            for (LeakScenario.Result r : c.results()) {
                ObjectNode rn = rounds.addObject();
                rn.put("plaintext", r.plaintext());
                rn.put("tunnelled", r.tunnelled());
                rn.put("tunnelled_after_fault", r.tunnelledAfterFault());
                rn.put("sent", r.sent());
                rn.put("eperm", r.eperm());
                rn.put("errors", r.errors());
                rn.put("fault_ms", r.faultMillis());
                rn.put("note", r.note());
            }
            c.failures().forEach(n.putArray("failures")::add);
        }
        ArrayNode ups = root.putArray("wg_quick_up");
        for (UpTiming u : report.upTimings()) {
            ObjectNode n = ups.addObject();
            n.put("guard", u.guard().name());
            n.put("median_up_ms", u.medianUp());
            n.put("median_first_packet_ms", u.medianFirstPacket());
            n.put("median_down_ms", u.medianDown());
            u.upMillis().forEach(n.putArray("up_ms")::add);
            u.firstPacketMillis().forEach(n.putArray("first_packet_ms")::add);
            u.downMillis().forEach(n.putArray("down_ms")::add);
        }
        Throughput tp = report.throughput();
        if (tp != null) {
            ObjectNode n = root.putObject("throughput");
            n.put("measures", "one TCP stream through the tunnel, iperf3's received bits per second");
            n.put("window_s", tp.window().toSeconds());
            n.put("median_off_mbit_s", tp.medianOff());
            n.put("median_on_mbit_s", tp.medianOn());
            n.put("ratio_on_off", tp.ratio());
            tp.offMbitPerSecond().forEach(n.putArray("off_mbit_s")::add);
            tp.onMbitPerSecond().forEach(n.putArray("on_mbit_s")::add);
        }
        try {
            return mapper.writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static double ratio(long a, long b) {
        return b <= 0 ? Double.NaN : (double) a / b;
    }

    private static String key(Fault f, Guard g) {
        return f + "/" + g;
    }

    static long median(List<Long> values) {
        if (values.isEmpty()) {
            return -1;
        }
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static double medianD(List<Double> values) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
