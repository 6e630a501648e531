package dev.killswitch.lab;

import static dev.killswitch.lab.Lab.PUBLIC_V4;
import static dev.killswitch.lab.Lab.PUBLIC_V6;
import static dev.killswitch.lab.WireGuardLab.SPLIT_V4;
import static dev.killswitch.lab.WireGuardLab.SPLIT_V6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Proves that the WireGuard layer of the lab is real, with no kill switch at all: traffic really goes
 * through a wireguard-go tunnel, the faults really leak, and everything is removed afterwards.
 */
class WireGuardLabSelfTest {

    private static final int UDP_PORT = 9999;
    private static final int TCP_PORT = 8080;
    private static final Path WG_RUN_DIR = Path.of("/var/run/wireguard");

    @BeforeEach
    void requireLab() {
        LabSupport.assumeWireGuardLab();
    }

    @Test
    void fullTunnelCarriesTrafficKillLeaksAndEverythingIsRemoved() throws Exception {
        String hostResolvConf = Files.readString(Path.of("/etc/resolv.conf"));
        Lab lab = new Lab();
        String clientIf;
        String serverIf;
        Path workDir;
        Path nsResolvConf;
        long serverPid;
        try (lab; WireGuardLab wg = new WireGuardLab(lab)) {
            clientIf = wg.clientIf();
            serverIf = wg.serverIf();
            workDir = wg.workDir();
            nsResolvConf = wg.resolvConfFile();
            serverPid = wg.serverPid();
            assertTrue(wg.serverRunning());
            assertTrue(Files.exists(WG_RUN_DIR.resolve(serverIf + ".sock")));
            assertEquals(WireGuardLab.INITIAL_RESOLV_CONF, wg.clientResolvConf());

            lab.startUdpSink(UDP_PORT);
            lab.startTcpEcho(TCP_PORT);
            wg.countThroughTunnelAtIsp("tun4", "ip daddr " + PUBLIC_V4 + " udp dport " + UDP_PORT);
            wg.countThroughTunnelAtIsp("tun6", "ip6 daddr " + PUBLIC_V6 + " udp dport " + UDP_PORT);
            wg.countPlaintextAtIsp("plain");
            wg.countTransportAtIsp("transport");
            wg.writeClientConfig(WgClientConfig.fullTunnel().withDns(WireGuardLab.SERVER_TUN_V4));

            // wg-quick up while traffic flows: how long it takes, and when the first packet gets through
            PacketWatch first = wg.watchTunnelAtIsp("udp and dst port " + UDP_PORT);
            PacerRun warm = lab.startPacer(PUBLIC_V4, UDP_PORT, 2000, 10_000);
            Instant upStart = Instant.now();
            long t0 = System.nanoTime();
            Sh.Result up = wg.wgQuickUp();
            long upMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(up.ok(), up.describe());
            Optional<Instant> firstAt = first.await(Duration.ofSeconds(5));
            PacerRun.Totals warmTotals = warm.stop();
            assertTrue(firstAt.isPresent(), "no packet through the tunnel: " + wg.wgInClient("show").describe());
            long firstMs = Duration.between(upStart, firstAt.get()).toMillis();
            System.out.printf("[wg-selftest] wg-quick up: %d ms; first packet through the tunnel %d ms after "
                    + "wg-quick up started (pacer %s, plaintext before the tunnel %d)%n",
                    upMs, firstMs, warmTotals, lab.packets("plain"));
            assertTrue(lab.packets("plain") > 0, "the pacer ran before the tunnel: plaintext expected");
            OptionalLong clientPid = wg.clientPid();
            assertTrue(clientPid.isPresent(), "no client wireguard-go found");
            assertTrue(Files.exists(WG_RUN_DIR.resolve(clientIf + ".sock")));
            assertEquals("nameserver " + WireGuardLab.SERVER_TUN_V4 + "\n", wg.clientResolvConf());
            assertEquals(hostResolvConf, Files.readString(Path.of("/etc/resolv.conf")));

            // a) full tunnel: every packet arrives through the tunnel, none in plaintext
            resetAll(lab, "tun4", "tun6", "plain", "transport");
            PacerRun.Totals v4 = lab.startPacer(PUBLIC_V4, UDP_PORT, 2000, 1000).awaitFinish(Duration.ofSeconds(20));
            awaitCount(() -> lab.packets("tun4"), v4.sent());
            System.out.printf("[wg-selftest] full tunnel v4: %s, through the tunnel %d, plaintext %d, "
                    + "transport %d%n", v4, lab.packets("tun4"), lab.packets("plain"), lab.packets("transport"));
            assertTrue(v4.sent() >= 1900 && v4.sent() <= 2100, v4.toString());
            assertEquals(0, v4.eperm() + v4.errors(), v4.toString());
            assertEquals(v4.sent(), lab.packets("tun4"));
            assertEquals(0, lab.packets("plain"));
            assertTrue(lab.packets("transport") >= v4.sent(), "each tunnelled packet is a transport packet");

            PacerRun.Totals v6 = lab.startPacer(PUBLIC_V6, UDP_PORT, 2000, 500).awaitFinish(Duration.ofSeconds(20));
            awaitCount(() -> lab.packets("tun6"), v6.sent());
            System.out.printf("[wg-selftest] full tunnel v6: %s, through the tunnel %d, plaintext %d%n",
                    v6, lab.packets("tun6"), lab.packets("plain"));
            assertTrue(v6.sent() >= 900, v6.toString());
            assertEquals(v6.sent(), lab.packets("tun6"));
            assertEquals(0, lab.packets("plain"));
            // delivered locally on the server and answered back through the tunnel
            assertOutcome(Probe.Outcome.REPLIED, lab.ping(PUBLIC_V4));
            assertOutcome(Probe.Outcome.REPLIED, lab.ping(PUBLIC_V6));
            assertOutcome(Probe.Outcome.CONNECTED, lab.tcpConnect(PUBLIC_V4, TCP_PORT, 2000));
            assertOutcome(Probe.Outcome.CONNECTED, lab.tcpConnect(PUBLIC_V6, TCP_PORT, 2000));
            assertEquals(0, lab.packets("plain"));

            // b) kill -9 of the client's wireguard-go while traffic flows: plaintext leaks (LAB.md)
            resetAll(lab, "tun4", "plain");
            PacerRun running = lab.startPacer(PUBLIC_V4, UDP_PORT, 2000, 2000);
            Proc.sleep(500);
            Instant killedAt = wg.killClientWireGuard();
            long tunnelAtKill = lab.packets("tun4");
            PacerRun.Totals killed = running.awaitFinish(Duration.ofSeconds(20));
            Proc.sleep(100);
            long leaked = lab.packets("plain");
            long tunnelled = lab.packets("tun4");
            System.out.printf("[wg-selftest] kill -9 of client wireguard-go at %s: %s, through the tunnel %d "
                    + "(%d at the kill), plaintext %d, lost %d%n", killedAt, killed, tunnelled, tunnelAtKill,
                    leaked, killed.sent() - tunnelled - leaked);
            assertEquals(0, killed.eperm() + killed.errors(), killed.toString());
            assertTrue(tunnelAtKill >= 800, "tunnel carried traffic before the kill: " + tunnelAtKill);
            // about 1.5 s of 2000 pps after the kill: far more than any accident
            assertTrue(leaked >= 2000, "plaintext after the kill: " + leaked);
            assertTrue(tunnelled + leaked <= killed.sent(), "counted more than was sent");
            assertTrue(wg.clientPid().isEmpty(), "client wireguard-go still running");
            assertFalse(wg.clientInterfaceExists());
            assertTrue(wg.serverRunning(), "the server must survive the client's death");

            // c) after the kill there is nothing for wg-quick down to take down; up again recovers
            Sh.Result downAfterKill = wg.wgQuickDown();
            System.out.println("[wg-selftest] wg-quick down after kill -9: exit " + downAfterKill.exitCode() + ": "
                    + downAfterKill.stderr().strip());
            assertFalse(downAfterKill.ok(), downAfterKill.describe());
            Sh.Result upAgain = wg.wgQuickUp();
            assertTrue(upAgain.ok(), upAgain.describe());
            wg.awaitTunnel(Duration.ofSeconds(5));
            resetAll(lab, "tun4", "plain");
            PacerRun.Totals again = lab.startPacer(PUBLIC_V4, UDP_PORT, 2000, 300).awaitFinish(Duration.ofSeconds(20));
            awaitCount(() -> lab.packets("tun4"), again.sent());
            assertEquals(again.sent(), lab.packets("tun4"));
            assertEquals(0, lab.packets("plain"));

            long pidBeforeDown = wg.clientPid().orElseThrow();
            long d0 = System.nanoTime();
            Sh.Result down = wg.wgQuickDown();
            long downMs = (System.nanoTime() - d0) / 1_000_000;
            System.out.println("[wg-selftest] wg-quick down: " + downMs + " ms");
            assertTrue(down.ok(), down.describe());
            assertClientClean(lab, wg, pidBeforeDown);
            assertEquals(WireGuardLab.INITIAL_RESOLV_CONF, wg.clientResolvConf());
            List<String> calls = wg.resolvconfCalls();
            assertTrue(calls.contains("-a " + clientIf + " -m 0 -x"), calls.toString());
            assertTrue(calls.contains("-d " + clientIf + " -f"), calls.toString());
            // without a tunnel (and without a kill switch) traffic goes out in plaintext again
            assertOutcome(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V4, UDP_PORT));
            assertEquals(1, lab.packets("plain"));
        }
        // everything is gone after close
        String namespaces = Sh.check("ip", "netns", "list").stdout();
        assertFalse(namespaces.contains(lab.clientNs()), namespaces);
        assertFalse(namespaces.contains(lab.ispNs()), namespaces);
        assertFalse(Files.exists(WG_RUN_DIR.resolve(clientIf + ".sock")), "client socket left over");
        assertFalse(Files.exists(WG_RUN_DIR.resolve(serverIf + ".sock")), "server socket left over");
        assertFalse(Files.exists(workDir), "work folder left over: " + workDir);
        assertFalse(Files.exists(nsResolvConf.getParent()), "left over: " + nsResolvConf.getParent());
        assertFalse(ProcessHandle.of(serverPid).filter(WireGuardLab::running).isPresent(), "server still runs");
        assertEquals(List.of(), wireGuardGoRunningFor(clientIf, serverIf));
        assertEquals(hostResolvConf, Files.readString(Path.of("/etc/resolv.conf")));
    }

    @Test
    void faultInjectorsSplitTunnelAndHooks() {
        try (Lab lab = new Lab(); WireGuardLab wg = new WireGuardLab(lab)) {
            lab.startUdpSink(UDP_PORT);
            wg.countThroughTunnelAtIsp("tun7", "ip daddr " + SPLIT_V4 + " udp dport " + UDP_PORT);
            wg.countPlaintextAtIsp("plain5");
            wg.countPlaintextToAtIsp("plain7", SPLIT_V4, SPLIT_V6);
            lab.countOnPhysicalAtIsp("roam", "ip daddr " + WireGuardLab.ROAM_V4 + " udp dport " + WireGuardLab.PORT);

            // hooks: %i is replaced, and PATH leads to the resolvconf stand-in
            Path marker = wg.workDir().resolve("preup");
            wg.writeClientConfig(WgClientConfig.splitTunnel()
                    .withInterfaceLines("PreUp = echo %i $(command -v resolvconf) > " + marker));
            Sh.Result up = wg.wgQuickUp();
            assertTrue(up.ok(), up.describe());
            assertEquals(wg.clientIf() + " " + wg.workDir().resolve("bin/resolvconf") + "\n", Sh.read(marker));
            Duration handshake = wg.awaitTunnel(Duration.ofSeconds(5));
            System.out.println("[wg-selftest] split tunnel: first ping answered after " + handshake.toMillis() + " ms");

            // split: 203.0.113.7 through the tunnel, 203.0.113.5 on the physical link
            sendUdp(lab, SPLIT_V4, 5);
            sendUdp(lab, PUBLIC_V4, 3);
            assertEquals(5, lab.packets("tun7"));
            assertEquals(0, lab.packets("plain7"));
            assertEquals(3, lab.packets("plain5"));

            // roaming: the client switches to the second server address and the tunnel keeps working
            wg.roamToSecondServerAddress();
            assertEquals(WireGuardLab.ROAM_V4 + ":" + WireGuardLab.PORT, wg.clientEndpoint());
            sendUdp(lab, SPLIT_V4, 5);
            awaitCount(() -> lab.packets("tun7"), 10);
            assertEquals(10, lab.packets("tun7"));
            assertTrue(lab.packets("roam") >= 5, "transport to the second address: " + lab.packets("roam"));
            wg.restoreClientEndpoint();
            assertEquals(PUBLIC_V4 + ":" + WireGuardLab.PORT, wg.clientEndpoint());

            // server gone: nothing arrives through the tunnel, and (split routes still there) nothing leaks
            long oldServer = wg.serverPid();
            wg.killServer();
            assertFalse(wg.serverRunning());
            assertFalse(wg.serverInterfaceExists(), "server interface left");
            sendUdp(lab, SPLIT_V4, 5);
            Proc.sleep(200);
            assertEquals(10, lab.packets("tun7"));
            assertEquals(0, lab.packets("plain7"));
            long r0 = System.nanoTime();
            wg.restartServer();
            Duration back = wg.awaitTunnel(Duration.ofSeconds(5));
            System.out.printf("[wg-selftest] server restarted (pid %d -> %d); tunnel answers %d ms after the "
                    + "restart began%n", oldServer, wg.serverPid(), (System.nanoTime() - r0) / 1_000_000);
            assertTrue(back.toMillis() < 5000);
            sendUdp(lab, SPLIT_V4, 5);
            awaitCount(() -> lab.packets("tun7"), 15);
            assertEquals(15, lab.packets("tun7"));

            // ip link del: wireguard-go exits by itself (removing its socket), the split route goes, 203.0.113.7 leaks
            long pid = wg.clientPid().orElseThrow();
            wg.deleteClientInterface();
            assertTrue(wg.clientPid().isEmpty());
            assertFalse(Files.exists(WG_RUN_DIR.resolve(wg.clientIf() + ".sock")), "socket after link del");
            sendUdp(lab, SPLIT_V4, 2);
            assertEquals(2, lab.packets("plain7"));
            assertEquals(15, lab.packets("tun7"));
            assertFalse(ProcessHandle.of(pid).filter(WireGuardLab::running).isPresent());

            // a failing PostUp: wg-quick fails and rolls back, the interface is gone
            wg.writeClientConfig(WgClientConfig.splitTunnel().withInterfaceLines("PostUp = false"));
            Sh.Result failing = wg.wgQuickUp();
            assertFalse(failing.ok(), failing.describe());
            assertFalse(wg.clientInterfaceExists());
            assertTrue(wg.clientPid().isEmpty());

            // wg-quick down as a fault, on a healthy split tunnel
            wg.writeClientConfig(WgClientConfig.splitTunnel());
            assertTrue(wg.wgQuickUp().ok());
            long pid2 = wg.clientPid().orElseThrow();
            wg.awaitTunnel(Duration.ofSeconds(5));
            Sh.Result down = wg.wgQuickDown();
            assertTrue(down.ok(), down.describe());
            assertClientClean(lab, wg, pid2);
        }
    }

    @Test
    void resolvconfStandInKeepsToItsOwnFile() throws Exception {
        Path dir = Files.createTempDirectory("ks-resolvconf-test-");
        try {
            Path resolv = dir.resolve("resolv.conf");
            Files.writeString(resolv, "nameserver 198.51.100.1\n");
            FakeResolvconf rc = new FakeResolvconf(dir, resolv);
            String bin = rc.binDir().resolve("resolvconf").toString();

            assertTrue(Sh.run(List.of(bin, "-a", "wg1", "-m", "5"), "nameserver 10.1.0.1\n", Sh.DEFAULT_TIMEOUT).ok());
            assertTrue(Sh.run(List.of(bin, "-a", "wg0", "-m", "0"), "nameserver 10.0.0.1\n", Sh.DEFAULT_TIMEOUT).ok());
            assertEquals("nameserver 10.0.0.1\nnameserver 10.1.0.1\nnameserver 198.51.100.1\n", Files.readString(resolv));
            assertEquals("nameserver 10.1.0.1\n", Sh.run(bin, "-l", "wg1").stdout());
            // exclusive: only that interface's servers
            assertTrue(Sh.run(List.of(bin, "-a", "wg2", "-m", "0", "-x"), "nameserver 10.2.0.1\nsearch vpn\n",
                    Sh.DEFAULT_TIMEOUT).ok());
            assertEquals("nameserver 10.2.0.1\nsearch vpn\n", Files.readString(resolv));
            assertTrue(Sh.run(bin, "-d", "wg2", "-f").ok());
            assertEquals("nameserver 10.0.0.1\nnameserver 10.1.0.1\nnameserver 198.51.100.1\n", Files.readString(resolv));
            // -d of an unknown interface fails unless -f
            assertFalse(Sh.run(bin, "-d", "nope").ok());
            assertTrue(Sh.run(bin, "-d", "nope", "-f").ok());
            assertFalse(Sh.run(bin, "-a", "../x").ok(), "path-like interface names are refused");
            assertFalse(Sh.run(bin, "-q").ok(), "unknown options are refused");
            assertTrue(Sh.run(bin, "-d", "wg0").ok());
            assertTrue(Sh.run(bin, "-d", "wg1").ok());
            assertEquals("nameserver 198.51.100.1\n", Files.readString(resolv));
            assertEquals(11, rc.calls().size(), rc.calls().toString());
        } finally {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private static void assertClientClean(Lab lab, WireGuardLab wg, long daemonPid) {
        assertFalse(wg.clientInterfaceExists(), "client interface still there");
        assertTrue(wg.clientPid().isEmpty(), "client wireguard-go still running");
        assertFalse(ProcessHandle.of(daemonPid).filter(WireGuardLab::running).isPresent());
        assertFalse(Files.exists(WG_RUN_DIR.resolve(wg.clientIf() + ".sock")), "client socket left");
        for (String family : List.of("-4", "-6")) {
            String rules = lab.execInClient("ip", family, "rule", "show").orThrow().stdout();
            assertFalse(rules.contains("51820") || rules.contains("suppress_prefixlength"), "wg-quick rules: " + rules);
            // the table is gone ("FIB table does not exist") or empty
            assertEquals("", lab.execInClient("ip", family, "route", "show", "table", "51820").stdout().trim());
        }
        String tables = lab.execInClient("nft", "list", "tables").orThrow().stdout();
        assertFalse(tables.contains("wg-quick"), tables);
    }

    /** Processes anywhere on the machine running wireguard-go for one of these interfaces. */
    private static List<String> wireGuardGoRunningFor(String... ifnames) {
        List<String> names = List.of(ifnames);
        return ProcessHandle.allProcesses().filter(WireGuardLab::running)
                .filter(h -> h.info().arguments().map(a -> a.length > 0 && names.contains(a[a.length - 1]))
                        .orElse(false))
                .filter(h -> h.info().command().map(c -> c.endsWith("wireguard-go")).orElse(false))
                .map(h -> h.pid() + " " + h.info().commandLine().orElse("?")).toList();
    }

    private static void sendUdp(Lab lab, String addr, int n) {
        for (int i = 0; i < n; i++) {
            assertOutcome(Probe.Outcome.SENT, lab.udpSend(addr, UDP_PORT));
        }
    }

    private static void resetAll(Lab lab, String... counters) {
        for (String c : counters) {
            lab.resetCounter(c);
        }
    }

    /** Waits (up to 2 s) for in-flight packets to be counted; the caller asserts the final value. */
    private static void awaitCount(LongSupplier counter, long expected) {
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (counter.getAsLong() < expected && System.nanoTime() < deadline) {
            Proc.sleep(20);
        }
    }

    private static void assertOutcome(Probe.Outcome expected, Probe probe) {
        assertEquals(expected, probe.outcome(), probe.detail());
    }
}
