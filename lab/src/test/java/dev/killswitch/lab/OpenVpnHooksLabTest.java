package dev.killswitch.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * OpenVPN run directly (no NetworkManager): a real openvpn client in the lab's client namespace with
 * hooks/openvpn/killswitch-openvpn as its up, route-pre-down and down script and its pre-up run before it
 * starts, against two real openvpn servers in the ISP namespace (the same {@link OpenVpnServer} the
 * NetworkManager lab uses): A on 203.0.113.5 udp 1194 (tunnel 10.8.0.0/24, fd00:8::/64, pushing
 * redirect-gateway def1 ipv6, dhcp-option DNS 10.8.0.1 and DNS6 fd00:8::1) and B on 203.0.113.6 udp 1195
 * (10.9.0.0/24, fd00:9::/64). killswitch's service runs (no system bus), enabled before. Every leak is a
 * count of real packets at the ISP: UDP to 203.0.113.7 and 2001:db8:5::5 port 9999 on the physical link,
 * and DNS on the physical link. One lab for the whole class, to keep it short.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenVpnHooksLabTest {
    private static final int PORT = 9999;
    private static final String TARGET_V4 = NetworkManagerLab.TARGET_V4;
    private static final String SERVER_B = "203.0.113.6";
    private static final int PPS = 10_000;
    private static final Path HOOK = ProjectDir.path().resolve("hooks/openvpn/killswitch-openvpn");

    private Lab lab;
    private KsCli ks;
    private Path work;
    private OpenVpnServer serverA;
    private OpenVpnServer serverB;
    private Proc service;
    private Proc client;
    private String dev;

    @BeforeAll
    void setUp() throws Exception {
        LabSupport.assumeTools("openvpn", "openssl", "nc.openbsd", "socat", "tcpdump");
        lab = new Lab();
        try {
            ks = new KsCli(lab.clientNs());
            work = Files.createTempDirectory("ks-ovpn-");
            dev = lab.prefix() + "t";
            Files.writeString(lab.resolvConf(), "# the ISP's resolver, as DHCP said\nnameserver 198.51.100.1\n");
            ks.writeConfig("[dns]\nmode = \"resolv-conf\"\n");
            Path pki = work.resolve("pki");
            OpenVpnServer.makeCertificates(pki);
            Netns.ip(lab.ispNs(), "addr", "add", SERVER_B + "/32", "dev", "lo");
            Netns.ip(lab.ispNs(), "addr", "add", TARGET_V4 + "/32", "dev", "lo");
            serverA = new OpenVpnServer(lab, pki, lab.prefix() + "a", Lab.PUBLIC_V4, 1194, "10.8.0.0", "fd00:8::/64",
                    List.of("redirect-gateway def1 ipv6", "dhcp-option DNS 10.8.0.1", "dhcp-option DNS6 fd00:8::1"));
            serverB = new OpenVpnServer(lab, pki, lab.prefix() + "b", SERVER_B, 1195, "10.9.0.0", "fd00:9::/64",
                    List.of("redirect-gateway def1 ipv6", "dhcp-option DNS 10.9.0.1"));
            lab.startUdpSink(PORT);
            for (String s : List.of("a", "b")) {
                lab.countAtIsp("tun" + s, "iifname \"" + lab.prefix() + s + "\" ip daddr " + TARGET_V4 + " udp dport " + PORT);
                lab.countAtIsp("tun6" + s, "iifname \"" + lab.prefix() + s + "\" ip6 daddr " + Lab.PUBLIC_V6 + " udp dport " + PORT);
                lab.countAtIsp("dns" + s, "iifname \"" + lab.prefix() + s + "\" udp dport 53");
            }
            lab.countOnPhysicalAtIsp("plain", "ip daddr " + TARGET_V4 + " udp dport " + PORT);
            lab.countOnPhysicalAtIsp("plain6", "ip6 daddr " + Lab.PUBLIC_V6 + " udp dport " + PORT);
            lab.countOnPhysicalAtIsp("dnsplain", "meta l4proto { tcp, udp } th dport { 53, 853 }");
            ks.check("enable");
            service = ks.startService(true);
        } catch (Exception | Error e) {
            tearDown();
            throw e;
        }
    }

    @AfterEach
    void stopClient() {
        if (client != null) client.close();
        client = null;
    }

    @AfterAll
    void tearDown() {
        if (service != null) {
            System.out.println("[openvpn] service log:\n" + service.stderr());
            service.close();
        }
        if (lab != null) lab.close();
        if (ks != null) ks.delete();
        if (work != null) Sh.run("rm", "-rf", work.toString());
    }

    @Test
    @Order(1)
    void upCarriesTrafficAndDnsOnlyThroughTheTunnelToThePushedResolvers() throws Exception {
        resetCounters();
        startClient(config(false, Lab.PUBLIC_V4 + " 1194"));
        assertTrue(tunnels().contains("\"" + dev + "\""), "the device is granted: " + tunnels());
        String dns4 = set("dns4");
        String dns6 = set("dns6");
        assertTrue(dns4.contains("10.8.0.1") && dns6.contains("fd00:8::1"), dns4 + dns6);
        assertFalse(dns4.contains("198.51.100.1"), dns4);
        List<String> nameservers = Files.readAllLines(lab.resolvConf()).stream().filter(l -> l.startsWith("nameserver")).toList();
        assertEquals(List.of("nameserver 10.8.0.1", "nameserver fd00:8::1"), nameservers);

        PacerRun.Totals v4 = lab.startPacer(TARGET_V4, PORT, 2000, 300).awaitFinish(Duration.ofSeconds(20));
        PacerRun.Totals v6 = lab.startPacer(Lab.PUBLIC_V6, PORT, 2000, 300).awaitFinish(Duration.ofSeconds(20));
        awaitCount("tuna", v4.sent());
        awaitCount("tun6a", v6.sent());
        assertEquals(0, v4.eperm() + v6.eperm(), v4 + " " + v6);
        assertEquals(v4.sent(), lab.packets("tuna"), "every IPv4 packet through the tunnel");
        assertEquals(v6.sent(), lab.packets("tun6a"), "every IPv6 packet through the tunnel");
        // the system's resolver (resolv.conf's first nameserver, as the C library asks it) is the pushed one, and
        // it answers through the tunnel; the ISP's (the old resolv.conf): refused
        Proc resolver = lab.startInIsp(JavaTool.argv(DnsResponder.class, "10.8.0.1", "53", TARGET_V4));
        assertTrue(resolver.awaitOutput(DnsResponder.READY, Duration.ofSeconds(20)), resolver.describe());
        Sh.Result lookup = lab.execInClient(Duration.ofSeconds(30),
                JavaTool.argv(DnsLookup.class, "vpn.example", "3000", "300"));
        assertTrue(lookup.stdout().contains("\"answered\":true,\"server\":\"10.8.0.1\",\"tries\":1,"), lookup.describe());
        assertTrue(resolver.stdout().contains("query vpn.example type 1 from 10.8.0.2"), resolver.stdout());
        resolver.close();
        assertEquals(Probe.Outcome.EPERM, lab.udpSend("198.51.100.1", 53).outcome());
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(Lab.PUBLIC_V4, 53).outcome(), "a resolver nobody pushed");
        assertTrue(lab.packets("dnsa") >= 1, "the query reached the server through the tunnel");
        assertEquals(0, lab.packets("dnsplain"));
        assertEquals(0, lab.packets("plain") + lab.packets("plain6"));

        // SIGTERM: OpenVPN's route-pre-down and down withdraw everything, the block stays
        resetCounters();
        PacerRun p4 = lab.startPacer(TARGET_V4, PORT, PPS, 60_000);
        PacerRun p6 = lab.startPacer(Lab.PUBLIC_V6, PORT, PPS, 60_000);
        Proc.sleep(500);
        client.term();
        assertTrue(client.waitFor(Duration.ofSeconds(10)), "openvpn ended on SIGTERM");
        Proc.sleep(700);
        PacerRun.Totals t4 = p4.stop();
        PacerRun.Totals t6 = p6.stop();
        System.out.println("[openvpn] SIGTERM: v4 " + t4 + ", v6 " + t6);
        assertLeakFree("SIGTERM", t4, t6, "tuna", "tun6a");
        assertFalse(tunnels().contains("\"" + dev + "\""), "withdrawn on exit: " + tunnels());
        assertFalse(set("dns4").contains("10.8.0.1"), "the resolver withdrawn");
        assertFalse(set("endpoints4").contains(Lab.PUBLIC_V4), "the server withdrawn on exit: " + set("endpoints4"));
    }

    @Test
    @Order(2)
    void killMinus9OfTheClientLeaksNothing() throws Exception {
        startClient(config(false, Lab.PUBLIC_V4 + " 1194"));
        resetCounters();
        PacerRun p4 = lab.startPacer(TARGET_V4, PORT, PPS, 60_000);
        PacerRun p6 = lab.startPacer(Lab.PUBLIC_V6, PORT, PPS, 60_000);
        Proc.sleep(500);
        ProcessHandle.of(client.pid()).orElseThrow().destroyForcibly();
        assertTrue(client.waitFor(Duration.ofSeconds(5)));
        Proc.sleep(700);
        PacerRun.Totals t4 = p4.stop();
        PacerRun.Totals t6 = p6.stop();
        System.out.println("[openvpn] kill -9: v4 " + t4 + ", v6 " + t6);
        assertLeakFree("kill -9", t4, t6, "tuna", "tun6a");
    }

    @Test
    @Order(3)
    void pingRestartWithPersistTunLeaksNothingAndTheTunnelComesBack() throws Exception {
        startClient(config(true, Lab.PUBLIC_V4 + " 1194"));
        resetCounters();
        PacerRun p4 = lab.startPacer(TARGET_V4, PORT, PPS, 60_000);
        PacerRun p6 = lab.startPacer(Lab.PUBLIC_V6, PORT, PPS, 60_000);
        Proc.sleep(300);
        long tunnelledBefore = lab.packets("tuna");
        serverA.kill9();
        // the client's ping-restart (3 s here) fires, it keeps its device (persist-tun) and tries again
        assertTrue(awaitLog("Restart pause", Duration.ofSeconds(10)), "ping-restart: " + client.stdout());
        serverA.start();
        assertTrue(awaitLogCount("Initialization Sequence Completed", 2, Duration.ofSeconds(20)), "reconnected: " + client.stdout());
        long back = lab.packets("tuna");
        Proc.sleep(500);
        PacerRun.Totals t4 = p4.stop();
        PacerRun.Totals t6 = p6.stop();
        System.out.println("[openvpn] ping-restart with persist-tun: v4 " + t4 + ", v6 " + t6);
        assertEquals(0, lab.packets("plain"), "IPv4 plaintext: " + t4);
        assertEquals(0, lab.packets("plain6"), "IPv6 plaintext: " + t6);
        assertTrue(tunnelledBefore > 0, "traffic went through the tunnel before");
        awaitCount("tuna", back + 1);
        assertTrue(lab.packets("tuna") > back, "traffic through the tunnel again after the reconnect");
        assertFalse(client.stdout().contains("killswitch hook: refused"), client.stdout());
    }

    @Test
    @Order(4)
    void aSecondRemoteTakesOverWhenTheFirstDies() throws Exception {
        startClient(config(false, Lab.PUBLIC_V4 + " 1194", SERVER_B + " 1195 udp"));
        assertTrue(set("endpoints4").contains(SERVER_B), "pre-up allowed both remotes: " + set("endpoints4"));
        resetCounters();
        PacerRun p4 = lab.startPacer(TARGET_V4, PORT, PPS, 60_000);
        PacerRun p6 = lab.startPacer(Lab.PUBLIC_V6, PORT, PPS, 60_000);
        Proc.sleep(300);
        serverA.kill9();
        assertTrue(awaitLogCount("Initialization Sequence Completed", 2, Duration.ofSeconds(20)), "connected to B: " + client.stdout());
        assertTrue(client.stdout().contains(SERVER_B + ":1195"), client.stdout());
        awaitCount("tunb", 1);
        Proc.sleep(500);
        PacerRun.Totals t4 = p4.stop();
        PacerRun.Totals t6 = p6.stop();
        System.out.println("[openvpn] first server killed, second remote: v4 " + t4 + ", v6 " + t6 + ", through B "
                + lab.packets("tunb") + " and " + lab.packets("tun6b"));
        assertEquals(0, lab.packets("plain"), "IPv4 plaintext: " + t4);
        assertEquals(0, lab.packets("plain6"), "IPv6 plaintext: " + t6);
        assertTrue(lab.packets("tunb") > 0 && lab.packets("tun6b") > 0, "through the second server");
        assertTrue(t4.eperm() > 1000, "blocked while it reconnected: " + t4);
        assertTrue(set("dns4").contains("10.9.0.1") && !set("dns4").contains("10.8.0.1"), set("dns4"));
        serverA.start();
    }

    @Test
    @Order(5)
    void hostileValuesInOpenVpnsEnvironmentAreRefusedAndChangeNothing() throws Exception {
        String before = table();
        List<List<String>> envs = List.of(
                List.of("script_type=up", "dev=tun0;nft flush ruleset"),
                List.of("script_type=up", "dev=" + dev, "foreign_option_1=dhcp-option DNS 10.8.0.1;nft flush ruleset"),
                List.of("script_type=up", "dev=" + dev, "foreign_option_1=dhcp-option DNS $(nft flush ruleset)"),
                List.of("script_type=up", "dev=" + dev, "foreign_option_1=dhcp-option DNS6 ::ffff:10.8.0.1"),
                List.of("script_type=up", "dev=" + dev, "foreign_option_1=dhcp-option DNS\t10.8.0.1"),
                List.of("script_type=up", "dev=" + dev, "trusted_ip=203.0.113.5\"}", "trusted_port=1194",
                        "remote_1=203.0.113.5\"}", "remote_port_1=1194", "proto_1=udp"),
                List.of("script_type=up", "dev=" + dev, "trusted_ip=203.0.113.5", "trusted_port=1194 ",
                        "remote_1=203.0.113.5", "remote_port_1=1194 ", "proto_1=udp"),
                List.of("script_type=up", "dev=" + dev, "trusted_ip=203.0.113.5", "trusted_port=1194",
                        "remote_1=203.0.113.5", "remote_port_1=1194", "proto_1=udp\"}"),
                List.of("script_type=down", "dev=`reboot`", "signal=sigterm"),
                List.of("script_type=route-pre-down", "dev=" + "x".repeat(16), "signal=sigusr1"));
        for (List<String> env : envs) {
            Sh.Result r = runHook(env);
            assertEquals(2, r.exitCode(), env + ": " + r.describe());
            assertTrue(r.stderr().contains("refused"), env + ": " + r.stderr());
            assertTrue(r.stderr().contains("nothing was changed"), "the JVM hook refused it too: " + r.stderr());
        }
        Sh.Result r = runHook(List.of(), "pre-up", work.resolve("nothing-here.conf").toString());
        assertEquals(2, r.exitCode(), r.describe());
        Path hostName = writeConfig("hostname.conf", "client\ndev " + dev + "\nremote vpn.example.invalid 1194\n");
        r = runHook(List.of(), "pre-up", hostName.toString());
        assertEquals(2, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains(hostName + ":3: remote: 'vpn.example.invalid' names a host"), r.stderr());
        assertEquals(before, table(), "the table is as it was");
        assertEquals(0, lab.packets("dnsplain"));
    }

    /** Asserts only that the packets came; the figures are printed (-Dkillswitch.openvpn.timingRuns=N for more runs). */
    @Test
    @Order(6)
    void timeFromInitializationToTheFirstPacketWithAndWithoutTheService() throws Exception {
        List<double[]> with = new ArrayList<>();
        List<double[]> without = new ArrayList<>();
        int runs = Integer.getInteger("killswitch.openvpn.timingRuns", 1);
        for (int i = 0; i < runs; i++) with.add(firstPacket());
        service.stop();
        service = null;
        try {
            for (int i = 0; i < runs; i++) without.add(firstPacket());
        } finally {
            service = ks.startService(true);
        }
        // the up script alone, by hand with the environment OpenVPN gave it (ip netns exec and env included), as
        // the tunnel's up: traffic, the two resolvers, the server
        List<String> upEnv = List.of("script_type=up", "dev=" + dev, "trusted_ip=" + Lab.PUBLIC_V4, "trusted_port=1194",
                "remote_1=" + Lab.PUBLIC_V4, "remote_port_1=1194", "proto_1=udp", "foreign_option_1=dhcp-option DNS 10.8.0.1",
                "foreign_option_2=dhcp-option DNS6 fd00:8::1");
        List<Long> byHand = new ArrayList<>();
        for (int i = 0; i < 3 * runs; i++) {
            long t0 = System.nanoTime();
            Sh.Result r = runHook(upEnv);
            byHand.add((System.nanoTime() - t0) / 1_000_000);
            assertEquals(0, r.exitCode(), r.describe());
        }
        System.out.println("[openvpn] the up script by hand with the service, ms: " + byHand);
        for (double[] t : with) {
            System.out.printf("[openvpn] with the service: the up script took %.1f ms; 'Initialization Sequence Completed' to "
                    + "the first packet at the server %.1f ms%n", t[0], t[1]);
        }
        for (double[] t : without) {
            System.out.printf("[openvpn] without the service (JVM hook): the up script took %.1f ms; 'Initialization Sequence "
                    + "Completed' to the first packet at the server %.1f ms%n", t[0], t[1]);
        }
    }

    /**
     * In a second, fresh lab with no block and no service (killswitch never enabled there): the JVM path of a
     * refused up still installs the baseline (fail closed), and so does a pre-up that succeeds.
     */
    @Test
    @Order(7)
    void withNoBlockLoadedTheJvmHookInstallsTheBaselineFirst() throws Exception {
        try (Lab fresh = new Lab()) {
            KsCli other = new KsCli(fresh.clientNs());
            try {
                other.writeConfig("[dns]\nmode = \"off\"\n");
                assertFalse(fresh.execInClient("nft", "list", "table", "inet", "killswitch").ok(), "no table before");
                List<String> env = new ArrayList<>(List.of("env", "-i", "KILLSWITCH_STATE_DIR=" + other.stateDir,
                        "KILLSWITCH_LAUNCHER=" + other.jvmLauncher(), "script_type=up", "dev=tun0;reboot", HOOK.toString()));
                Sh.Result refused = Sh.run(Sh.inNs(fresh.clientNs(), env), null, Duration.ofSeconds(60));
                assertEquals(2, refused.exitCode(), refused.describe());
                assertTrue(refused.stderr().contains("installed the baseline (fail closed)"), refused.stderr());
                assertTrue(fresh.execInClient("nft", "list", "table", "inet", "killswitch").ok(), "the block is loaded");
                assertEquals(Probe.Outcome.EPERM, fresh.udpSend(TARGET_V4, PORT).outcome());
                assertEquals(Probe.Outcome.EPERM, fresh.udpSend(Lab.PUBLIC_V4, 1194).outcome(), "no server allowed yet");

                Sh.Result pre = Sh.run(Sh.inNs(fresh.clientNs(), "env", "-i", "KILLSWITCH_STATE_DIR=" + other.stateDir,
                        "KILLSWITCH_LAUNCHER=" + other.jvmLauncher(), HOOK.toString(), "pre-up",
                        config(false, Lab.PUBLIC_V4 + " 1194").toString()), null, Duration.ofSeconds(60));
                assertEquals(0, pre.exitCode(), pre.describe());
                assertEquals(Probe.Outcome.SENT, fresh.udpSend(Lab.PUBLIC_V4, 1194).outcome(), "the server, udp 1194");
                assertEquals(Probe.Outcome.EPERM, fresh.udpSend(Lab.PUBLIC_V4, 1195).outcome(), "only its port");
            } finally {
                other.delete();
            }
        }
    }

    // ---- helpers ----

    /**
     * openvpn with a 2,000 pps pacer already running (one packet every 0.5 ms, refused until the tunnel is
     * granted). Returns the ms the up script took (from openvpn's log line naming the script to its next line)
     * and the ms from "Initialization Sequence Completed" to the first packet tcpdump sees on the server's
     * device; openvpn's --machine-readable-output and tcpdump -tt both stamp with the wall clock in µs.
     */
    private double[] firstPacket() throws Exception {
        Path conf = config(false, false, Lab.PUBLIC_V4 + " 1194");
        serverA.stop();
        serverA.start();
        assertEquals(0, runHook(List.of(), "pre-up", conf.toString()).exitCode());
        Proc dump = lab.startInIsp("tcpdump", "-tt", "-n", "-l", "-i", lab.prefix() + "a", "-c", "1", "udp and dst port " + PORT);
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!dump.stderr().contains("listening on")) {
            if (System.nanoTime() > end) throw new AssertionError(dump.describe());
            Proc.sleep(10);
        }
        PacerRun pacer = lab.startPacer(TARGET_V4, PORT, 2000, 60_000);
        try {
            client = lab.startInClient("openvpn", "--config", conf.toString(), "--machine-readable-output");
            assertTrue(client.awaitOutput("Initialization Sequence Completed", Duration.ofSeconds(30)), client.describe());
            assertTrue(dump.waitFor(Duration.ofSeconds(10)), "a packet through the tunnel: " + dump.describe() + "\n"
                    + client.describe() + "\ntunnels: " + tunnels() + "\nroutes: " + lab.execInClient("ip", "route").stdout()
                    + "\ntable: " + table());
            double packet = Double.parseDouble(dump.stdout().strip().split("\\s+")[0]);
            List<String> log = client.stdout().lines().toList();
            double init = stamp(log, "Initialization Sequence Completed");
            int script = indexOf(log, HOOK + " " + dev);
            double upMs = (stamp(log.get(script + 1)) - stamp(log.get(script))) * 1000;
            assertTrue(packet >= init - 0.001, "the first packet came after the tunnel was up: " + packet + " " + init);
            return new double[] {upMs, (packet - init) * 1000};
        } finally {
            pacer.stop();
            dump.close();
            // kill -9: no down script, whose JVM path would only add seconds here (the next pre-up starts the
            // grant afresh)
            client.kill9();
            client = null;
        }
    }

    private static int indexOf(List<String> log, String needle) {
        for (int i = 0; i < log.size(); i++) if (log.get(i).contains(needle)) return i;
        throw new AssertionError("no '" + needle + "' in openvpn's log:\n" + String.join("\n", log));
    }

    private static double stamp(List<String> log, String needle) {
        return stamp(log.get(indexOf(log, needle)));
    }

    /** The "unix_time.usec" that --machine-readable-output puts first on each line. */
    private static double stamp(String line) {
        return Double.parseDouble(line.strip().split("\\s+")[0]);
    }

    private void assertLeakFree(String fault, PacerRun.Totals t4, PacerRun.Totals t6, String tun4, String tun6) {
        assertEquals(0, lab.packets("plain"), fault + ": IPv4 plaintext at the ISP: " + t4);
        assertEquals(0, lab.packets("plain6"), fault + ": IPv6 plaintext at the ISP: " + t6);
        assertEquals(0, lab.packets("dnsplain"), fault + ": DNS on the physical link");
        // userspace openvpn on a loaded 2-core machine does not carry all of 2 x 10,000 pps: some went through
        assertTrue(lab.packets(tun4) > 100 && lab.packets(tun6) > 100, fault + ": traffic went through the tunnel before: "
                + lab.packets(tun4) + " and " + lab.packets(tun6) + " packets");
        assertTrue(t4.eperm() > 1000 && t6.eperm() > 1000, fault + ": the block refused the packets after: " + t4 + " " + t6);
    }

    /** Runs pre-up (as the unit's ExecStartPre does), starts openvpn with {@code conf} and waits for it to be up. */
    private void startClient(Path conf) {
        // a fresh server: one that still holds the last client's session (same certificate) gives the new one
        // no IPv6 address for a while
        serverA.stop();
        serverA.start();
        Sh.Result pre = runHook(List.of(), "pre-up", conf.toString());
        assertEquals(0, pre.exitCode(), pre.describe());
        client = lab.startInClient("openvpn", "--config", conf.toString());
        assertTrue(client.awaitOutput("Initialization Sequence Completed", Duration.ofSeconds(20)), client.describe());
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!lab.execInClient("ip", "-6", "route", "get", Lab.PUBLIC_V6).stdout().contains("dev " + dev + " ")) {
            if (System.nanoTime() > end) {
                throw new AssertionError("no IPv6 route through " + dev + ": " + lab.execInClient("ip", "-6", "route").stdout()
                        + "\n" + client.stdout());
            }
            Proc.sleep(20);
        }
    }

    /** The hook script in the client namespace, as OpenVPN (env) or a person (args) runs it. */
    private Sh.Result runHook(List<String> env, String... args) {
        List<String> argv = new ArrayList<>(List.of("env", "-i", "KILLSWITCH_STATE_DIR=" + ks.stateDir));
        try {
            argv.add("KILLSWITCH_LAUNCHER=" + ks.jvmLauncher());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        argv.addAll(env);
        argv.add(HOOK.toString());
        argv.addAll(List.of(args));
        return Sh.run(Sh.inNs(lab.clientNs(), argv), null, Duration.ofSeconds(60));
    }

    /** A client config with the hook lines, these remotes ("ADDRESS PORT [PROTO]"), ping-restart after 3 s. */
    private Path config(boolean persistTun, String... remotes) throws IOException {
        return config(persistTun, true, remotes);
    }

    /**
     * {@code quickRestart}: ping-restart after 3 s, else the server's (10 s). The JVM hooks block OpenVPN for more
     * than a second each (2 s under load here), long enough for a short ping-restart to fire as soon as the tunnel
     * is up.
     */
    private Path config(boolean persistTun, boolean quickRestart, String... remotes) throws IOException {
        Path pki = work.resolve("pki");
        StringBuilder c = new StringBuilder("client\ndev " + dev + "\ndev-type tun\nnobind\n");
        for (String r : remotes) c.append("remote ").append(r).append('\n');
        c.append("ca ").append(pki.resolve("ca.crt")).append("\ncert ").append(pki.resolve("client.crt"))
                .append("\nkey ").append(pki.resolve("client.key")).append("\nremote-cert-tls server\n")
                .append(quickRestart ? "pull-filter ignore \"ping\"\nping 1\nping-restart 3\n" : "")
                .append("connect-retry 1 1\nserver-poll-timeout 2\n")
                .append(persistTun ? "persist-tun\n" : "")
                .append("script-security 2\nsetenv KILLSWITCH_STATE_DIR ").append(ks.stateDir)
                .append("\nsetenv KILLSWITCH_LAUNCHER ").append(ks.jvmLauncher())
                .append("\nup ").append(HOOK).append("\nroute-pre-down ").append(HOOK).append("\ndown ").append(HOOK)
                .append("\nverb 3\n");
        return writeConfig("client.conf", c.toString());
    }

    private Path writeConfig(String name, String text) throws IOException {
        Path f = work.resolve(name);
        Files.writeString(f, text);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    private boolean awaitLog(String needle, Duration timeout) {
        return awaitLogCount(needle, 1, timeout);
    }

    private boolean awaitLogCount(String needle, int times, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            String out = client.stdout();
            int n = 0;
            for (int at = out.indexOf(needle); at >= 0; at = out.indexOf(needle, at + 1)) n++;
            if (n >= times) return true;
            Proc.sleep(20);
        }
        return false;
    }

    private void resetCounters() {
        for (String c : List.of("tuna", "tun6a", "dnsa", "tunb", "tun6b", "dnsb", "plain", "plain6", "dnsplain")) {
            lab.resetCounter(c);
        }
    }

    private void awaitCount(String counter, long expected) {
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (lab.packets(counter) < expected && System.nanoTime() < deadline) Proc.sleep(20);
    }

    private String tunnels() {
        return set("tunnels");
    }

    private String set(String name) {
        Sh.Result r = lab.execInClient("nft", "list", "set", "inet", "killswitch", name);
        return r.ok() ? r.stdout() : "";
    }

    /** The table without its counters' values (which move with any traffic). */
    private String table() {
        return lab.execInClient("nft", "list", "table", "inet", "killswitch").orThrow().stdout()
                .replaceAll("packets \\d+ bytes \\d+", "");
    }
}
