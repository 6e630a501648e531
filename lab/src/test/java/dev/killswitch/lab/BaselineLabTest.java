package dev.killswitch.lab;

import static dev.killswitch.lab.Lab.ISP_V4;
import static dev.killswitch.lab.Lab.ISP_V6;
import static dev.killswitch.lab.Lab.PUBLIC_V4;
import static dev.killswitch.lab.Lab.PUBLIC_V6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.cli.Main;
import dev.killswitch.service.KillSwitch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The baseline with real packets: a client namespace behind a veth "physical" link, an ISP namespace
 * that counts what arrives. Every assertion about leaks is a count taken on the ISP side.
 */
class BaselineLabTest {
    private static final int ENDPOINT_PORT = 51820;
    private static final String CONFIG = """
            [[endpoint]]
            address = "%s"
            port = %d
            protocol = "udp"
            [[endpoint]]
            address = "%s"
            port = %d
            protocol = "udp"
            """.formatted(PUBLIC_V4, ENDPOINT_PORT, PUBLIC_V6, ENDPOINT_PORT);

    @RegisterExtension
    final LabRig rig = new LabRig();
    private Lab lab;
    private KsCli ks;

    @BeforeEach
    void setUp() throws Exception {
        lab = rig.lab();
        ks = rig.ks();
        lab.startUdpSink(9999);
        lab.startUdpSink(ENDPOINT_PORT);
        lab.startTcpEcho(8080);
        lab.countPlaintextAtIsp("plain", ENDPOINT_PORT);
        lab.countOnPhysicalAtIsp("endpoint", "udp dport " + ENDPOINT_PORT);
    }

    /** UDP, TCP, ICMP and DNS (udp, tcp, 853) to the public address, both families. */
    private void probeEverything() {
        for (String addr : List.of(PUBLIC_V4, PUBLIC_V6)) {
            lab.udpSend(addr, 9999);
            lab.tcpConnect(addr, 8080, 300);
            lab.ping(addr);
            lab.udpSend(addr, 53);
            lab.tcpConnect(addr, 53, 300);
            lab.tcpConnect(addr, 853, 300);
        }
    }

    @Test
    void blocksEverythingButTheEndpointAndLoopback() throws Exception {
        ks.writeConfig(CONFIG);
        probeEverything();
        long unguarded = lab.packets("plain");
        assertTrue(unguarded >= 12, "without the kill switch the probes arrive: " + unguarded);

        ks.check("enable");
        lab.resetCounter("plain");
        lab.resetCounter("endpoint");
        probeEverything();
        assertEquals(0, lab.packets("plain"), "plaintext packets at the ISP with the kill switch on");

        // the endpoint: exactly its address, protocol and port
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V4, ENDPOINT_PORT).outcome());
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V6, ENDPOINT_PORT).outcome());
        assertEquals(2, lab.packets("endpoint"));
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(PUBLIC_V4, ENDPOINT_PORT + 1).outcome());
        lab.tcpConnect(PUBLIC_V4, ENDPOINT_PORT, 300);
        assertEquals(0, lab.packets("plain"), "TCP to the endpoint's UDP port, or UDP to another port");

        // loopback keeps working
        assertEquals(Probe.Outcome.REPLIED, lab.ping("127.0.0.1").outcome());
        assertEquals(Probe.Outcome.REPLIED, lab.ping("::1").outcome());
    }

    @Test
    void leakTestReportsLeaksWithoutAndNoneWithTheKillSwitch() throws Exception {
        ks.writeConfig(CONFIG);
        Path resolv = Path.of("/etc/netns", lab.clientNs(), "resolv.conf");
        Files.createDirectories(resolv.getParent());
        Files.writeString(resolv, "nameserver " + ISP_V4 + "\nnameserver " + ISP_V6 + "\n");

        Sh.Result open = ks.run("leak-test", "--target", PUBLIC_V4, "--target", PUBLIC_V6);
        assertEquals(Main.CHECK_FAILED, open.exitCode(), open.describe());
        assertTrue(lab.packets("plain") > 0);

        ks.check("enable");
        lab.resetCounter("plain");
        Sh.Result closed = ks.run("leak-test", "--json", "--target", PUBLIC_V4, "--target", PUBLIC_V6);
        assertEquals(Main.OK, closed.exitCode(), closed.describe());
        assertTrue(closed.stdout().contains("\"leaks\" : 0"), closed.stdout());
        assertTrue(closed.stdout().contains("\"kind\" : \"dns-tls\""), closed.stdout());
        assertEquals(0, lab.packets("plain"), "leak-test's own probes reached the ISP");
    }

    @Test
    void onlyTheAllowedTunnelInterfaceCarriesTraffic() throws Exception {
        // the lab's fake tunnels are veth pairs, which enable refuses to take as tunnels unless told
        ks.writeConfig(CONFIG + "[tunnel]\ninterfaces = [\"ktun*\"]\nallow_ethernet = true\n");
        FakeTunnel allowed = lab.addFakeTunnel("ktun0");
        FakeTunnel other = lab.addFakeTunnel("kother0");
        lab.countAtIsp("via_allowed", "iifname \"" + allowed.ispIf() + "\" udp dport 9999");
        lab.countAtIsp("via_other", "iifname \"" + other.ispIf() + "\" udp dport 9999");
        ks.check("enable");

        lab.routeVia(allowed, PUBLIC_V4 + "/32");
        lab.routeVia(allowed, PUBLIC_V6 + "/128");
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V4, 9999).outcome());
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V6, 9999).outcome());
        assertEquals(2, lab.packets("via_allowed"));

        lab.routeVia(other, PUBLIC_V4 + "/32");
        lab.routeVia(other, PUBLIC_V6 + "/128");
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(PUBLIC_V4, 9999).outcome());
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(PUBLIC_V6, 9999).outcome());
        assertEquals(0, lab.packets("via_other"));

        // allowed at run time, withdrawn again
        ks.check("up", "kother0");
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V4, 9999).outcome());
        assertEquals(1, lab.packets("via_other"));
        ks.check("down", "kother0");
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(PUBLIC_V4, 9999).outcome());
        assertEquals(1, lab.packets("via_other"));
        assertEquals(0, lab.packets("plain"));
    }

    @Test
    void connectionOpenedBeforeEnableCannotSendAfterIt() throws Exception {
        ks.writeConfig(CONFIG);
        lab.countOnPhysicalAtIsp("tcp_data", "tcp dport 8080");
        // a client that writes a line every 50 ms into one TCP connection opened now
        Proc writer = lab.startInClient("sh", "-c",
                "while :; do echo data; sleep 0.05; done | socat -u - TCP4:" + PUBLIC_V4 + ":8080");
        waitUntil(() -> lab.packets("tcp_data") > 5, Duration.ofSeconds(5));

        ks.check("enable");
        lab.resetCounter("tcp_data");
        Thread.sleep(1500);
        assertEquals(0, lab.packets("tcp_data"), "bytes of the old connection after enable");
        // its next segment is refused with a reset delivered locally: the writer learns at once, none leaves
        assertTrue(writer.waitFor(Duration.ofSeconds(5)) && writer.exitCode() != 0, "the writer told: " + writer.describe());
        assertTrue(writer.stderr().contains("Connection reset"), writer.describe());
    }

    @Test
    void lanOnlyWhenAllowedAndNeverItsDns() throws Exception {
        ks.writeConfig(CONFIG + "[lan]\nallow = false\nnetworks = [\"198.51.100.0/24\", \"2001:db8:1::/64\"]\n");
        lab.countOnPhysicalAtIsp("lan", "ip daddr " + ISP_V4 + " udp dport 9999");
        lab.countOnPhysicalAtIsp("lan6", "ip6 daddr " + ISP_V6 + " udp dport 9999");
        lab.countOnPhysicalAtIsp("lan_dns", "th dport { 53, 853 }");
        ks.check("enable");

        assertEquals(Probe.Outcome.EPERM, lab.udpSend(ISP_V4, 9999).outcome());
        assertEquals(0, lab.packets("lan"));

        ks.check("allow-lan", "on");
        assertEquals(Probe.Outcome.SENT, lab.udpSend(ISP_V4, 9999).outcome());
        assertEquals(Probe.Outcome.SENT, lab.udpSend(ISP_V6, 9999).outcome());
        assertEquals(1, lab.packets("lan"));
        assertEquals(1, lab.packets("lan6"));
        lab.udpSend(ISP_V4, 53);
        lab.tcpConnect(ISP_V4, 53, 300);
        lab.udpSend(ISP_V6, 53);
        lab.tcpConnect(ISP_V4, 853, 300);
        assertEquals(0, lab.packets("lan_dns"), "DNS to the LAN router with allow-lan on");
        assertEquals(0, lab.packets("plain"));

        ks.check("allow-lan", "off");
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(ISP_V4, 9999).outcome());
        assertEquals(1, lab.packets("lan"));
    }

    @Test
    void inboundTcpPortStaysReachableAndNothingElse() throws Exception {
        ks.writeConfig(CONFIG + "[inbound]\ntcp_ports = [22]\n");
        lab.startInClient("socat", "TCP6-LISTEN:22,fork,reuseaddr,ipv6only=0", "EXEC:cat");
        lab.startInClient("socat", "TCP6-LISTEN:2323,fork,reuseaddr,ipv6only=0", "EXEC:cat");
        Thread.sleep(300);
        ks.check("enable");

        Sh.Result ssh = Sh.run(Sh.inNs(lab.ispNs(), "socat", "-T", "2", "-", "TCP4:" + Lab.CLIENT_V4 + ":22,connect-timeout=2"),
                "hello through 22\n", Duration.ofSeconds(10));
        assertEquals("hello through 22\n", ssh.stdout(), ssh.describe());
        Sh.Result ssh6 = Sh.run(Sh.inNs(lab.ispNs(), "socat", "-T", "2", "-", "TCP6:[" + Lab.CLIENT_V6 + "]:22,connect-timeout=2"),
                "hello over ipv6\n", Duration.ofSeconds(10));
        assertEquals("hello over ipv6\n", ssh6.stdout(), ssh6.describe());

        Probe other = Probes.tcpConnect(lab.ispNs(), Lab.CLIENT_V4, 2323, 1000);
        assertEquals(Probe.Outcome.TIMEOUT, other.outcome(), other.detail());
    }

    @Test
    void pauseEndsInTheKernelWithNoProcessRunning() throws Exception {
        ks.writeConfig(CONFIG);
        ks.check("enable");
        ks.check("pause", "--for", "2s");
        // no killswitch process is alive from here on: the command above has exited
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V4, 9999).outcome());
        assertEquals(1, lab.packets("plain"));
        Thread.sleep(2300);
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(PUBLIC_V4, 9999).outcome());
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(PUBLIC_V6, 9999).outcome());
        assertEquals(1, lab.packets("plain"));
        Sh.Result verify = ks.run("verify");
        assertEquals(Main.OK, verify.exitCode(), "an expired pause is what the config renders: " + verify.describe());
    }

    @Test
    void noPacketEscapesReloadsTunnelChangesAndABadConfig() throws Exception {
        ks.writeConfig(CONFIG + "[tunnel]\ninterfaces = [\"ktun0\"]\n");
        lab.addFakeTunnel("ktun1");
        KillSwitch inNs = ks.inProcess();
        // the pacer's route is the physical link: anything our rules let slip is counted at the ISP
        PacerRun before = lab.startPacer(PUBLIC_V4, 9999, 10_000, 300);
        PacerRun.Totals unguarded = before.awaitFinish(Duration.ofSeconds(10));
        assertTrue(lab.packets("plain") > 0 && unguarded.sent() > 0, "the pacer's packets reach the ISP unguarded");

        inNs.enable(null);
        lab.resetCounter("plain");
        PacerRun pacer = lab.startPacer(PUBLIC_V4, 9999, 10_000, 60_000);
        for (int i = 0; i < 50; i++) inNs.enable(null);
        for (int i = 0; i < 50; i++) {
            inNs.up("ktun1");
            inNs.down("ktun1");
        }
        Files.writeString(ks.config, "[tunnel]\ninterfaces = [\"bad name\"]\n");
        Sh.Result bad = ks.run("enable");
        assertEquals(Main.BAD_INPUT, bad.exitCode(), bad.describe());
        assertTrue(bad.stderr().contains(ks.config + ":2: tunnel.interfaces[0]"), bad.stderr());
        PacerRun.Totals totals = pacer.stop();

        assertEquals(0, lab.packets("plain"), "plaintext packets at the ISP during 50 reloads, 50 up/down, a bad config");
        assertTrue(totals.eperm() > 1000, "the pacer kept trying: " + totals);
        System.out.printf("[lab] reload/up/down under %d attempts: %d plaintext packets at the ISP%n",
                totals.attempts(), lab.packets("plain"));
    }

    @Test
    void verifyCatchesTamperingAndEnableRepairs() throws Exception {
        ks.writeConfig(CONFIG);
        ks.check("enable");
        assertEquals(Main.OK, ks.run("verify").exitCode());

        String listing = lab.execInClient("nft", "-a", "list", "chain", "inet", "killswitch", "output").orThrow().stdout();
        String handle = listing.lines().filter(l -> l.contains("oifname \"lo\" accept"))
                .map(l -> l.substring(l.indexOf("# handle ") + 9).trim()).findFirst().orElseThrow();
        lab.execInClient("nft", "delete", "rule", "inet", "killswitch", "output", "handle", handle).orThrow();
        Sh.Result tampered = ks.run("verify");
        assertEquals(Main.CHECK_FAILED, tampered.exitCode(), tampered.describe());
        assertTrue(tampered.stdout().contains("chain output: rule missing: oifname \"lo\" accept"), tampered.stdout());

        lab.execInClient("nft", "add", "element", "inet", "killswitch", "tunnels", "{ \"eth9\" }").orThrow();
        assertTrue(ks.run("verify").stdout().contains("set tunnels has an extra element \"eth9\""));

        ks.check("enable");
        assertEquals(Main.OK, ks.run("verify").exitCode());

        lab.execInClient("nft", "flush", "ruleset").orThrow();
        Sh.Result gone = ks.run("verify");
        assertEquals(Main.CHECK_FAILED, gone.exitCode());
        assertTrue(gone.stdout().contains("is not loaded"), gone.stdout());
    }

    @Test
    void badConfigChangesNothingAndNamesTheLine() throws Exception {
        ks.writeConfig(CONFIG);
        ks.check("enable");
        String before = lab.execInClient("nft", "-s", "list", "ruleset").orThrow().stdout();
        ks.writeConfig(CONFIG + "[lan]\nallow = true\nnetworks = [\"10.1.2.3/8\"]\n");
        Sh.Result r = ks.run("enable");
        assertEquals(Main.BAD_INPUT, r.exitCode());
        assertTrue(r.stderr().contains(ks.config + ":11: lan.networks[0]: '10.1.2.3/8' has host bits set"), r.stderr());
        assertEquals(before, lab.execInClient("nft", "-s", "list", "ruleset").orThrow().stdout());
    }

    @Test
    void persistedBaselineLoadsWithPlainNftAndBlocks() throws Exception {
        ks.writeConfig(CONFIG);
        Path boot = ks.config.resolveSibling("boot.nft");
        ks.check("enable", "--persist", boot.toString());
        // a boot: the client namespace loses everything, then plain nft loads the file
        lab.execInClient("nft", "flush", "ruleset").orThrow();
        lab.execInClient("nft", "-f", boot.toString()).orThrow();
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(PUBLIC_V4, 9999).outcome());
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V4, ENDPOINT_PORT).outcome());
        assertEquals(0, lab.packets("plain"));
        assertNotEquals("", Files.readString(boot));
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition, Duration limit) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("condition not met within " + limit);
            Thread.sleep(20);
        }
    }
}
