package dev.killswitch.lab;

import static dev.killswitch.lab.Lab.ISP_V4;
import static dev.killswitch.lab.Lab.PUBLIC_V4;
import static dev.killswitch.lab.Lab.PUBLIC_V6;
import static dev.killswitch.lab.WireGuardLab.SERVER_TUN_V4;
import static dev.killswitch.lab.WireGuardLab.SERVER_TUN_V6;
import static dev.killswitch.lab.WireGuardLab.SPLIT_V4;
import static dev.killswitch.lab.WireGuardLab.SPLIT_V6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.killswitch.bench.Fault;
import dev.killswitch.bench.Guard;
import dev.killswitch.bench.GuardedTunnel;
import dev.killswitch.bench.KillswitchLauncher;
import dev.killswitch.bench.LeakScenario;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * killswitch's wg-quick hooks on a real tunnel (wg-quick + wireguard-go in the lab), with every leak
 * counted at the ISP. The kill switch runs as wg-quick runs it: the four hook lines, each a new JVM.
 */
class WgQuickHooksLabTest {

    private static final int PORT = GuardedTunnel.UDP_PORT;
    /** Lower than the benchmark's 10,000 pps to keep the class fast; still thousands of packets a round. */
    private static final LeakScenario.Settings SETTINGS = LeakScenario.Settings.defaults().withPps(5000);
    /** Faults after which the tunnel is gone and the block must refuse the sender's packets. */
    private static final Set<Fault> TUNNEL_GONE = EnumSet.of(Fault.KILL_WIREGUARD_GO, Fault.LINK_DEL,
            Fault.WG_QUICK_DOWN, Fault.RELOAD, Fault.UP_FAILS_HALFWAY);

    private final KillswitchLauncher launcher = KillswitchLauncher.current();

    @BeforeEach
    void requireLab() {
        LabSupport.assumeWireGuardLab();
    }

    @ParameterizedTest
    @EnumSource(Fault.class)
    void noPlaintextOnAnyFaultAndTheTunnelComesBack(Fault fault) throws Exception {
        LeakScenario.Result r = LeakScenario.run(Guard.KILLSWITCH, fault, SETTINGS, launcher, (t, result) -> {
            System.out.println("[hooks] " + result);
            restoreAndCheck(t, fault);
        });
        assertEquals(0, r.plaintext(), "plaintext packets at the ISP: " + r);
        assertEquals(0, r.errors(), r.toString());
        assertTrue(r.sent() + r.eperm() > 3000, "the pacer ran: " + r);
        if (fault.needsTunnelUp()) {
            assertTrue(r.tunnelled() - r.tunnelledAfterFault() > 500, "traffic went through the tunnel before: " + r);
        }
        if (TUNNEL_GONE.contains(fault)) {
            assertTrue(r.eperm() > 1000, "the block refused the sender's packets: " + r);
        }
    }

    /** After the fault: the user's way back (down if it is still there, up again); traffic flows; down blocks. */
    private static void restoreAndCheck(GuardedTunnel t, Fault fault) {
        WireGuardLab wg = t.wg();
        if (fault == Fault.SERVER_GONE) {
            wg.restartServer();
        }
        if (wg.clientInterfaceExists()) {
            Sh.Result down = t.down();
            assertTrue(down.ok(), down.describe());
        }
        Sh.Result up = t.up(WgClientConfig.fullTunnel());
        assertTrue(up.ok(), "wg-quick up after " + fault + ": " + up.describe());
        t.awaitTunnel();
        t.resetCounters();
        PacerRun.Totals after = t.startPacer(2000, 300).awaitFinish(Duration.ofSeconds(20));
        awaitCount(t::tunnelled, after.sent());
        assertEquals(0, after.eperm(), after.toString());
        assertEquals(after.sent(), t.tunnelled(), "every packet through the restored tunnel: " + after);
        Sh.Result down = t.down();
        assertTrue(down.ok(), down.describe());
        assertEquals(Probe.Outcome.EPERM, t.lab().udpSend(PUBLIC_V4, PORT).outcome(), "blocked after down");
        assertEquals(0, t.plaintext(), "plaintext after the restore");
    }

    @Test
    void hookInstallsTheBaselineWhenNoneWasEnabled() {
        try (GuardedTunnel t = new GuardedTunnel(Guard.KILLSWITCH_HOOKS_ONLY, launcher)) {
            assertFalse(t.listKillswitchTable().ok(), "no table before the first hook");
            Sh.Result up = t.up(WgClientConfig.fullTunnel());
            assertTrue(up.ok(), up.describe());
            assertTrue(up.stderr().contains("no block was loaded; installed the baseline first"), up.stderr());
            // no service runs: each hook says it acted itself
            assertTrue(up.stderr().contains("' run here (in-process: no service answered on "), up.stderr());
            assertTrue(t.listKillswitchTable().ok());
            t.awaitTunnel();
            PacerRun.Totals through = t.startPacer(2000, 300).awaitFinish(Duration.ofSeconds(20));
            awaitCount(t::tunnelled, through.sent());
            assertEquals(through.sent(), t.tunnelled());

            // the baseline the hook installed holds when the tunnel dies
            t.resetCounters();
            PacerRun pacer = t.startPacer(2000);
            Proc.sleep(200);
            t.wg().killClientWireGuard();
            Proc.sleep(300);
            PacerRun.Totals totals = pacer.stop();
            assertTrue(totals.eperm() > 100, totals.toString());
            assertEquals(0, t.plaintext(), "plaintext after kill -9: " + totals);
        }
    }

    @Test
    void hostNameEndpointFailsPreUpAndNothingLeaks() {
        for (Guard guard : List.of(Guard.KILLSWITCH, Guard.KILLSWITCH_HOOKS_ONLY)) {
            try (GuardedTunnel t = new GuardedTunnel(guard, launcher)) {
                t.lab().countOnPhysicalAtIsp("dns", "meta l4proto { tcp, udp } th dport 53");
                Sh.Result up = t.up(WgClientConfig.fullTunnel().withEndpoint("vpn.example.invalid:51820"));
                assertFalse(up.ok(), up.describe());
                assertTrue(up.stderr().contains("names a host, not an address"), up.stderr());
                assertFalse(t.wg().clientInterfaceExists(), "wg-quick rolled back");
                // fail closed even on a refused PreUp: the block is there, with or without an enable before
                assertTrue(t.listKillswitchTable().ok(), guard + ": no block after the failed PreUp");
                if (guard == Guard.KILLSWITCH_HOOKS_ONLY) {
                    assertTrue(up.stderr().contains("installed the baseline"), up.stderr());
                }
                assertEquals(Probe.Outcome.EPERM, t.lab().udpSend(PUBLIC_V4, PORT).outcome());
                assertEquals(Probe.Outcome.EPERM, t.lab().udpSend(PUBLIC_V4, WireGuardLab.PORT).outcome(),
                        "the endpoint was never granted");
                assertEquals(Probe.Outcome.EPERM, t.lab().udpSend(ISP_V4, 53).outcome(), "DNS outside the tunnel");
                assertEquals(0, t.plaintext(), guard.toString());
                assertEquals(0, t.lab().packets("dns"), guard + ": DNS queries on the physical link");
            }
        }
    }

    @Test
    void brokenKillswitchConfigStillLeavesABlock() {
        try (GuardedTunnel t = new GuardedTunnel(Guard.KILLSWITCH_HOOKS_ONLY, launcher)) {
            t.writeKillswitchConfig("[tunnel]\ninterfaces = [\"bad name\"]\n");
            Sh.Result up = t.up(WgClientConfig.fullTunnel());
            assertFalse(up.ok(), up.describe());
            assertTrue(up.stderr().contains("tunnel.interfaces[0]"), "the error names the key: " + up.stderr());
            assertTrue(up.stderr().contains("installed the safe default block"), up.stderr());
            assertTrue(t.listKillswitchTable().ok(), "a block is loaded");
            assertEquals(Probe.Outcome.EPERM, t.lab().udpSend(PUBLIC_V4, PORT).outcome());
            assertEquals(0, t.plaintext());
        }
    }

    @Test
    void splitTunnelCarriesItsDestinationAndEverythingElseIsBlocked() {
        try (GuardedTunnel t = new GuardedTunnel(Guard.KILLSWITCH, launcher)) {
            WireGuardLab wg = t.wg();
            wg.countThroughTunnelAtIsp("split", "ip daddr " + SPLIT_V4 + " udp dport " + PORT);
            wg.countThroughTunnelAtIsp("split6", "ip6 daddr " + SPLIT_V6 + " udp dport " + PORT);
            wg.countPlaintextToAtIsp("plain_split", SPLIT_V4, SPLIT_V6);
            Sh.Result up = t.up(WgClientConfig.splitTunnel());
            assertTrue(up.ok(), up.describe());
            t.awaitTunnel();

            PacerRun.Totals v4 = t.lab().startPacer(SPLIT_V4, PORT, 2000, 300).awaitFinish(Duration.ofSeconds(20));
            PacerRun.Totals v6 = t.lab().startPacer(SPLIT_V6, PORT, 2000, 300).awaitFinish(Duration.ofSeconds(20));
            awaitCount(() -> t.lab().packets("split"), v4.sent());
            awaitCount(() -> t.lab().packets("split6"), v6.sent());
            assertEquals(0, v4.eperm() + v6.eperm(), v4 + " " + v6);
            assertEquals(v4.sent(), t.lab().packets("split"));
            assertEquals(v6.sent(), t.lab().packets("split6"));

            // 203.0.113.5 is routed to the physical link by the split config: the kill switch refuses it
            assertEquals(Probe.Outcome.EPERM, t.lab().udpSend(PUBLIC_V4, PORT).outcome());
            assertEquals(Probe.Outcome.EPERM, t.lab().udpSend(PUBLIC_V6, PORT).outcome());
            // a dropped SYN fails no syscall: connect() only times out; the counters below tell
            assertFalse(t.lab().tcpConnect(PUBLIC_V4, 8080, 300).outcome() == Probe.Outcome.CONNECTED);
            assertEquals(0, t.plaintext());
            assertEquals(0, t.lab().packets("plain_split"));

            // the split destination does not leak when the tunnel dies either
            t.wg().deleteClientInterface();
            assertEquals(Probe.Outcome.EPERM, t.lab().udpSend(SPLIT_V4, PORT).outcome());
            assertEquals(0, t.lab().packets("plain_split"));
        }
    }

    @Test
    void ipv6GoesThroughTheTunnelAndNeverAround() {
        try (GuardedTunnel t = new GuardedTunnel(Guard.KILLSWITCH, launcher)) {
            t.wg().countThroughTunnelAtIsp("tun6", "ip6 daddr " + PUBLIC_V6 + " udp dport " + PORT);
            t.upOrThrow();
            t.awaitTunnel();
            PacerRun.Totals v6 = t.lab().startPacer(PUBLIC_V6, PORT, 2000, 500).awaitFinish(Duration.ofSeconds(20));
            awaitCount(() -> t.lab().packets("tun6"), v6.sent());
            assertTrue(v6.sent() >= 900, v6.toString());
            assertEquals(0, v6.eperm(), v6.toString());
            assertEquals(v6.sent(), t.lab().packets("tun6"));
            assertEquals(Probe.Outcome.REPLIED, t.lab().ping(SERVER_TUN_V6).outcome());

            PacerRun running = t.lab().startPacer(PUBLIC_V6, PORT, 5000, 60_000);
            Proc.sleep(200);
            t.wg().killClientWireGuard();
            Proc.sleep(500);
            PacerRun.Totals killed = running.stop();
            assertTrue(killed.eperm() > 1000, killed.toString());
            assertEquals(0, t.plaintext(), "IPv6 plaintext after kill -9: " + killed);
        }
    }

    @Test
    void dnsOfTheConfigIsAllowedOnlyThroughTheTunnel() {
        try (GuardedTunnel t = new GuardedTunnel(Guard.KILLSWITCH, launcher)) {
            Lab lab = t.lab();
            t.wg().countThroughTunnelAtIsp("dns_tun", "udp dport 53");
            lab.countOnPhysicalAtIsp("dns_phys", "meta l4proto { tcp, udp } th dport 53");
            // 198.51.100.1 is on the physical link's own subnet: wg-quick routes it there, outside the tunnel
            Sh.Result up = t.up(WgClientConfig.fullTunnel().withDns(SERVER_TUN_V4, ISP_V4, SERVER_TUN_V6));
            assertTrue(up.ok(), up.describe());
            t.awaitTunnel();

            String table = t.listKillswitchTable().orThrow().stdout();
            assertTrue(setHolds(table, "dns4", SERVER_TUN_V4) && setHolds(table, "dns4", ISP_V4), table);
            assertTrue(setHolds(table, "dns6", SERVER_TUN_V6), table);
            // the DNS guard wrote them into the namespace's resolv.conf (under its own header)
            assertEquals(List.of("nameserver " + SERVER_TUN_V4, "nameserver " + ISP_V4, "nameserver " + SERVER_TUN_V6),
                    t.wg().clientResolvConf().lines().filter(l -> l.startsWith("nameserver")).toList());

            // through the tunnel: allowed
            assertEquals(Probe.Outcome.SENT, lab.udpSend(SERVER_TUN_V4, 53).outcome());
            assertEquals(Probe.Outcome.SENT, lab.udpSend(SERVER_TUN_V6, 53).outcome());
            awaitCount(() -> lab.packets("dns_tun"), 2);
            assertEquals(2, lab.packets("dns_tun"));
            // the same resolver list, but this one is reached outside the tunnel: refused
            assertEquals("dev " + lab.clientPhys(), routeDev(lab, ISP_V4));
            assertEquals(Probe.Outcome.EPERM, lab.udpSend(ISP_V4, 53).outcome());
            assertFalse(lab.tcpConnect(ISP_V4, 53, 300).outcome() == Probe.Outcome.CONNECTED);
            // a resolver that is not in DNS =, even through the tunnel: refused
            assertEquals(Probe.Outcome.EPERM, lab.udpSend(PUBLIC_V4, 53).outcome());
            assertEquals(0, lab.packets("dns_phys"), "DNS on the physical link");
            assertEquals(2, lab.packets("dns_tun"));

            // after down, the resolvers are withdrawn with the tunnel
            assertTrue(t.down().ok());
            String after = t.listKillswitchTable().orThrow().stdout();
            assertFalse(setHolds(after, "dns4", SERVER_TUN_V4), after);
            assertEquals(Probe.Outcome.EPERM, lab.udpSend(ISP_V4, 53).outcome());
            assertEquals(0, lab.packets("dns_phys"));
        }
    }

    @Test
    void benchLeaksCommandRunsEndToEnd() throws Exception {
        Path json = Files.createTempFile("ks-bench-", ".json");
        try {
            List<String> argv = new ArrayList<>(launcher.jvm());
            // bench-leaks is a lab command: the lab's launcher, not the product's Main, knows it
            argv.set(argv.lastIndexOf(KillswitchLauncher.MAIN_CLASS), KillswitchLauncher.LAB_MAIN_CLASS);
            argv.addAll(List.of("bench-leaks", "--rounds", "1", "--faults", "KILL_WIREGUARD_GO",
                    "--guards", "NONE,KILLSWITCH", "--cost-runs", "2", "--throughput-seconds", "1", "--json", json.toString()));
            Sh.Result r = Sh.run(argv, null, Duration.ofMinutes(3));
            System.out.println("[hooks] bench-leaks:\n" + r.stdout());
            assertEquals(0, r.exitCode(), r.describe());
            assertTrue(r.stdout().contains("KILL_WIREGUARD_GO NONE"), r.stdout());
            assertTrue(r.stdout().contains("wg-quick of a full tunnel"), r.stdout());
            assertTrue(r.stdout().contains("on/off"), r.stdout());

            JsonNode root = new ObjectMapper().readTree(json.toFile());
            long none = -1;
            long ks = -1;
            for (JsonNode cell : root.path("leaks")) {
                assertEquals("KILL_WIREGUARD_GO", cell.path("fault").asText());
                assertEquals(1, cell.path("rounds").size(), cell.toString());
                switch (cell.path("guard").asText()) {
                    case "NONE" -> none = cell.path("plaintext_sum").asLong();
                    case "KILLSWITCH" -> ks = cell.path("plaintext_sum").asLong();
                    default -> throw new AssertionError("unexpected guard: " + cell);
                }
            }
            assertEquals(0, ks, "killswitch leaked: " + root);
            assertTrue(none > 1000, "no guard: the kill leaks: " + root);
            assertEquals(3, root.path("wg_quick_up").size(), root.toString());
            for (JsonNode timing : root.path("wg_quick_up")) {
                assertEquals(2, timing.path("up_ms").size(), timing.toString());
                assertEquals(2, timing.path("down_ms").size(), timing.toString());
            }
            assertTrue(root.path("throughput").path("ratio_on_off").asDouble() > 0, root.toString());
            assertEquals(5, root.path("throughput").path("on_mbit_s").size(), root.toString());
        } finally {
            Files.deleteIfExists(json);
        }
    }

    // ---- helpers ----

    /** Whether set {@code name} in an {@code nft list table} text lists {@code element}. */
    private static boolean setHolds(String table, String name, String element) {
        int at = table.indexOf("set " + name + " {");
        if (at < 0) {
            return false;
        }
        String set = table.substring(at, table.indexOf('}', at));
        return set.matches("(?s).*[\\s{,]" + java.util.regex.Pattern.quote(element) + "[\\s,}].*");
    }

    /** "dev X" of the route the client namespace takes to {@code addr}. */
    private static String routeDev(Lab lab, String addr) {
        String route = lab.execInClient("ip", "route", "get", addr).orThrow().stdout();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("dev \\S+").matcher(route);
        return m.find() ? m.group() : route;
    }

    /** Waits (up to 2 s) for in-flight packets to be counted; the caller asserts the final value. */
    private static void awaitCount(LongSupplier counter, long expected) {
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (counter.getAsLong() < expected && System.nanoTime() < deadline) {
            Proc.sleep(20);
        }
    }
}
