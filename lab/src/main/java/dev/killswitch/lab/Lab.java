package dev.killswitch.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The standard leak-measuring topology (see LAB.md): a client namespace linked by a veth "physical" link
 * to an ISP namespace that holds the "public internet" (203.0.113.5, 2001:db8:5::5) on its lo. Nothing
 * is created in the root namespace. {@link #close()} kills every process and deletes both namespaces.
 */
public final class Lab implements AutoCloseable {

    public static final String CLIENT_V4 = "198.51.100.2";
    public static final String ISP_V4 = "198.51.100.1";
    public static final String CLIENT_V6 = "2001:db8:1::2";
    public static final String ISP_V6 = "2001:db8:1::1";
    public static final String PUBLIC_V4 = "203.0.113.5";
    public static final String PUBLIC_V6 = "2001:db8:5::5";

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(10);
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final Set<Lab> OPEN = ConcurrentHashMap.newKeySet();

    static {
        // backstop for a JVM that exits without the tests closing their labs
        Runtime.getRuntime().addShutdownHook(new Thread(() -> List.copyOf(OPEN).forEach(Lab::close), "lab-cleanup"));
    }

    private final String prefix;
    private final String clientNs;
    private final String ispNs;
    private final String clientPhys;
    private final String ispPhys;
    private final Counters ispCounters;
    private final List<String> createdNs = new CopyOnWriteArrayList<>();
    private final List<Proc> procs = new CopyOnWriteArrayList<>();
    private final AtomicInteger tunnels = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Builds the topology; on failure everything created so far is removed before the exception leaves. */
    public Lab() {
        prefix = newPrefix();
        clientNs = prefix + "-c";
        ispNs = prefix + "-i";
        clientPhys = prefix + "c0";
        ispPhys = prefix + "i0";
        ispCounters = new Counters(ispNs);
        OPEN.add(this);
        try {
            build();
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    public String prefix() {
        return prefix;
    }

    public String clientNs() {
        return clientNs;
    }

    public String ispNs() {
        return ispNs;
    }

    /** The client's "physical" interface (198.51.100.2, 2001:db8:1::2). */
    public String clientPhys() {
        return clientPhys;
    }

    /** The ISP end of the physical link. */
    public String ispPhys() {
        return ispPhys;
    }

    // ---- commands ----

    public Sh.Result execInClient(String... argv) {
        return execInClient(Sh.DEFAULT_TIMEOUT, argv);
    }

    /** {@link #execInClient(String...)} with another time limit (a measurement that runs longer). */
    public Sh.Result execInClient(Duration timeout, String... argv) {
        return Sh.run(Sh.inNs(clientNs, argv), null, timeout);
    }

    public Sh.Result execInIsp(String... argv) {
        return Sh.run(Sh.inNs(ispNs, argv), null, Sh.DEFAULT_TIMEOUT);
    }

    /** Loads a ruleset with {@code nft -f -} in the client namespace; throws with nft's output on error. */
    public Sh.Result nftInClient(String ruleset) {
        return Sh.check(Sh.inNs(clientNs, "nft", "-f", "-"), ruleset);
    }

    public Sh.Result nftInIsp(String ruleset) {
        return Sh.check(Sh.inNs(ispNs, "nft", "-f", "-"), ruleset);
    }

    /** Starts a background process in the client namespace; it is killed on {@link #close()}. */
    public Proc startInClient(String... argv) {
        return track(Sh.start(Sh.inNs(clientNs, argv)));
    }

    public Proc startInIsp(String... argv) {
        return track(Sh.start(Sh.inNs(ispNs, argv)));
    }

    // ---- fake tunnels and routes ----

    /**
     * Adds a veth pair between client ({@code clientIf}) and ISP with 10.200.N.2/30 - 10.200.N.1/30 and
     * 2001:db8:2N::2/64 - ::1/64. Routes are left alone: see {@link #routeVia} and {@link #defaultRouteVia}.
     * Sends no packets, so it also works while a kill switch is active.
     */
    public FakeTunnel addFakeTunnel(String clientIf) {
        int n = tunnels.incrementAndGet();
        FakeTunnel t = new FakeTunnel(clientIf, prefix + "t" + n, "10.200." + n + ".2", "10.200." + n + ".1",
                "2001:db8:2" + n + "::2", "2001:db8:2" + n + "::1");
        Netns.ip(clientNs, "link", "add", clientIf, "type", "veth", "peer", "name", t.ispIf(), "netns", ispNs);
        configureLink(clientNs, clientIf, t.clientV4() + "/30", t.clientV6() + "/64");
        configureLink(ispNs, t.ispIf(), t.ispV4() + "/30", t.ispV6() + "/64");
        awaitLinkReady(clientNs, clientIf);
        awaitLinkReady(ispNs, t.ispIf());
        return t;
    }

    /** Routes {@code destination} (address or prefix; the family follows from it) through the tunnel. */
    public void routeVia(FakeTunnel t, String destination) {
        boolean v6 = destination.contains(":");
        Netns.ip(clientNs, v6 ? "-6" : "-4", "route", "replace", destination,
                "via", v6 ? t.ispV6() : t.ispV4(), "dev", t.clientIf());
    }

    /** Points both default routes into the tunnel. */
    public void defaultRouteVia(FakeTunnel t) {
        Netns.ip(clientNs, "-4", "route", "replace", "default", "via", t.ispV4(), "dev", t.clientIf());
        Netns.ip(clientNs, "-6", "route", "replace", "default", "via", t.ispV6(), "dev", t.clientIf());
    }

    /** Points both default routes back at the physical link. */
    public void defaultRouteViaPhysical() {
        Netns.ip(clientNs, "-4", "route", "replace", "default", "via", ISP_V4, "dev", clientPhys);
        Netns.ip(clientNs, "-6", "route", "replace", "default", "via", ISP_V6, "dev", clientPhys);
    }

    // ---- ISP-side counters ----

    /** Counts packets matching {@code nftMatch} (e.g. {@code iifname "x" ip daddr 203.0.113.5}) at ISP prerouting. */
    public void countAtIsp(String name, String nftMatch) {
        ispCounters.count(name, nftMatch);
    }

    /** Like {@link #countAtIsp} for packets arriving on the physical link only. */
    public void countOnPhysicalAtIsp(String name, String nftMatch) {
        ispCounters.count(name, "iifname \"" + ispPhys + "\" " + nftMatch);
    }

    /**
     * Counts every packet arriving on the physical link for 203.0.113.5 or 2001:db8:5::5, except UDP to
     * {@code exceptUdpPort} (the VPN endpoint; 0 for none): the plaintext that leaked past the tunnel.
     */
    public void countPlaintextAtIsp(String name, int exceptUdpPort) {
        ispCounters.countToHostExceptUdpPort(name, ispPhys, PUBLIC_V4, PUBLIC_V6, exceptUdpPort);
    }

    public long packets(String counterName) {
        return ispCounters.packets(counterName);
    }

    public void resetCounter(String counterName) {
        ispCounters.reset(counterName);
    }

    // ---- servers on the ISP side ----

    /** A UDP receiver on both families that discards what it gets (avoids ICMP port unreachable). */
    public Proc startUdpSink(int port) {
        Proc p = startInIsp("socat", "-u", "UDP6-RECV:" + port + ",ipv6only=0", "/dev/null");
        awaitListening(p, "-u", port);
        return p;
    }

    /** A TCP echo server on both families. */
    public Proc startTcpEcho(int port) {
        Proc p = startInIsp("socat", "TCP6-LISTEN:" + port + ",fork,reuseaddr,ipv6only=0", "EXEC:cat");
        awaitListening(p, "-t", port);
        return p;
    }

    // ---- probes from the client ----

    public Probe udpSend(String addr, int port) {
        return Probes.udpSend(clientNs, addr, port);
    }

    public Probe tcpConnect(String addr, int port, long timeoutMs) {
        return Probes.tcpConnect(clientNs, addr, port, timeoutMs);
    }

    public Probe ping(String addr) {
        return Probes.ping(clientNs, addr);
    }

    /** Starts a {@link UdpPacer} JVM in the client namespace and returns once it sends. */
    public PacerRun startPacer(String addr, int port, int pps, long durationMs) {
        return startPacerIn(clientNs, addr, port, pps, durationMs);
    }

    /** {@link #startPacer} in another namespace of this lab (a LAN client behind the client, a guest). */
    public PacerRun startPacerIn(String ns, String addr, int port, int pps, long durationMs) {
        PacerRun run = PacerRun.start(ns, addr, port, pps, durationMs);
        track(run.proc());
        return run;
    }

    // ---- teardown ----

    /** Kills every process in the lab by PID and deletes the namespaces. Idempotent; never throws. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        OPEN.remove(this);
        for (Proc p : procs) {
            try {
                p.close();
            } catch (RuntimeException e) {
                Netns.log("cannot stop " + p.argv() + ": " + e);
            }
        }
        List<String> namespaces = new ArrayList<>(createdNs);
        Collections.reverse(namespaces);
        for (String ns : namespaces) {
            Netns.delete(ns);
        }
    }

    // ---- internals ----

    private void build() {
        addNamespace(clientNs);
        addNamespace(ispNs);
        giveClientItsOwnResolvConf();
        for (String ns : List.of(clientNs, ispNs)) {
            // before any interface exists, so that every new interface inherits the defaults
            Netns.sysctl(ns, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
                    "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0");
            Netns.ip(ns, "link", "set", "lo", "up");
        }
        Netns.sysctl(ispNs, "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");

        Netns.ip(clientNs, "link", "add", clientPhys, "type", "veth", "peer", "name", ispPhys, "netns", ispNs);
        configureLink(clientNs, clientPhys, CLIENT_V4 + "/24", CLIENT_V6 + "/64");
        configureLink(ispNs, ispPhys, ISP_V4 + "/24", ISP_V6 + "/64");
        Netns.ip(ispNs, "addr", "add", PUBLIC_V4 + "/32", "dev", "lo");
        Netns.ip(ispNs, "addr", "add", PUBLIC_V6 + "/128", "dev", "lo");
        Netns.ip(clientNs, "-4", "route", "add", "default", "via", ISP_V4, "dev", clientPhys);
        Netns.ip(clientNs, "-6", "route", "add", "default", "via", ISP_V6, "dev", clientPhys);

        awaitLinkReady(clientNs, clientPhys);
        awaitLinkReady(ispNs, ispPhys);
        // also resolves the gateway's neighbour entries, so later measurements start on a warm link
        awaitPing(ISP_V4);
        awaitPing(ISP_V6);
    }

    /**
     * Every {@code ip netns exec} of the client then bind-mounts /etc/netns/NS/resolv.conf over
     * /etc/resolv.conf, so that nothing run in the client (a killswitch with DNS, wg-quick's resolvconf)
     * can reach the host's file. The ISP router is the resolver, as a DHCP lease would say.
     * {@link Netns#delete} removes the folder.
     */
    private void giveClientItsOwnResolvConf() {
        Path file = resolvConf();
        try {
            Files.createDirectories(file.getParent());
            if (!Files.exists(file)) Files.writeString(file, "nameserver " + ISP_V4 + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + file, e);
        }
    }

    /** The client's resolv.conf: {@code /etc/netns/<clientNs>/resolv.conf}, /etc/resolv.conf in the client. */
    public Path resolvConf() {
        return Path.of("/etc/netns", clientNs, "resolv.conf");
    }

    private void addNamespace(String ns) {
        Netns.add(ns);
        createdNs.add(ns);
    }

    static void configureLink(String ns, String dev, String v4, String v6) {
        Netns.ip(ns, "addr", "add", v4, "dev", dev);
        Netns.ip(ns, "addr", "add", v6, "dev", dev, "nodad");
        Netns.ip(ns, "link", "set", dev, "up");
    }

    static void awaitLinkReady(String ns, String dev) {
        awaitTrue(() -> {
            String link = Netns.ip(ns, "link", "show", "dev", dev).stdout();
            String tentative = Netns.ip(ns, "-6", "addr", "show", "dev", dev, "tentative").stdout();
            return link.contains("state UP") && tentative.isBlank();
        }, "link " + dev + " in " + ns + " up without tentative addresses");
    }

    private void awaitPing(String addr) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        Probe probe;
        while ((probe = ping(addr)).outcome() != Probe.Outcome.REPLIED) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no ping reply from " + addr + " in " + clientNs + ": "
                        + probe.detail());
            }
            Proc.sleep(20);
        }
    }

    private void awaitListening(Proc p, String protoFlag, int port) {
        awaitTrue(() -> {
            if (!p.isAlive()) {
                throw new IllegalStateException("server exited: " + p.describe());
            }
            return !Sh.check(Sh.inNs(ispNs, "ss", "-H", "-l", "-n", protoFlag, "sport", "=", ":" + port), null)
                    .stdout().isBlank();
        }, "server on port " + port + " in " + ispNs);
    }

    private static void awaitTrue(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Proc.sleep(20);
        }
    }

    private Proc track(Proc p) {
        procs.add(p);
        if (closed.get()) {
            p.close();
            throw new IllegalStateException("lab " + prefix + " is closed");
        }
        return p;
    }

    private static String newPrefix() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder p = new StringBuilder("ks");
        for (int i = 0; i < 4; i++) {
            p.append(alphabet.charAt(ThreadLocalRandom.current().nextInt(alphabet.length())));
        }
        return p.append(Integer.toString(SEQUENCE.incrementAndGet(), 36)).toString();
    }
}
