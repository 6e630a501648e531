package dev.killswitch.lab;

import static dev.killswitch.lab.NetworkManagerLab.SERVER_TUN_V4;
import static dev.killswitch.lab.NetworkManagerLab.SERVER_TUN_V6;
import static dev.killswitch.lab.NetworkManagerLab.TARGET_V4;
import static dev.killswitch.lab.NmFixture.awaitTrue;
import static dev.killswitch.lab.NmFixture.ms;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * killswitch with a real NetworkManager 1.42 and an OpenVPN connection (network-manager-openvpn against
 * an openvpn server at the ISP), driven by nmcli, with the dispatcher script dispatcher.d/90-killswitch
 * installed in NetworkManager's private dispatcher.d. Leaks are counted at the ISP with real packets.
 */
class NetworkManagerLabTest {

    private static final int PORT = 9999;
    /**
     * What a typical "kill switch" dispatcher script does: block everything (but the VPN server) once
     * NetworkManager reports the VPN down, unblock when it is up. The dispatcher gives scripts no PATH.
     */
    private static final String REACTIVE = """
            #!/bin/sh
            PATH=/usr/sbin:/usr/bin:/sbin:/bin
            case $2 in
              vpn-up) nft delete table inet reactive 2>/dev/null; exit 0 ;;
              vpn-down) nft -f - <<'EOF'
            table inet reactive {
              chain out {
                type filter hook output priority 0; policy drop;
                oif lo accept
                ip daddr 203.0.113.5 udp dport 1194 accept
              }
            }
            EOF
              ;;
            esac
            exit 0
            """;

    private NmFixture.Rig rig;
    private Lab lab;
    private NetworkManagerLab nm;
    private KsCli ks;

    @BeforeEach
    void setUp() throws Exception {
        LabSupport.assumeNetworkManagerLab();
        rig = NmFixture.Rig.open(NetworkManagerLabTest::launcher);
        lab = rig.lab();
        nm = rig.nm();
        ks = rig.ks();
        lab.startUdpSink(PORT);
        nm.countThroughTunnel("tun", PORT);
        nm.countPlaintext("plain");
    }

    @AfterEach
    void tearDown() {
        if (rig != null) rig.close();
    }

    /** /opt/killswitch/bin/killswitch inside NetworkManager's mount namespace: this build, this config. */
    private static String launcher(KsCli ks) {
        return "#!/bin/sh\n"
                + "export KILLSWITCH_CONFIG='" + ks.config + "' KILLSWITCH_STATE_DIR='" + ks.stateDir + "'\n"
                + "exec '" + KsCli.javaBin() + "' -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp '" + KsCli.classPath()
                + "' dev.killswitch.cli.Main \"$@\"\n";
    }

    private void installKillswitchScript() throws Exception {
        nm.installDispatcherScript("90-killswitch",
                Files.readString(LabSupport.projectDir().resolve("dispatcher.d/90-killswitch")));
    }

    @Test
    void vpnUpThroughTheDispatcherOpensOnlyTheTunnel() throws Exception {
        ks.check("enable");
        installKillswitchScript();
        PacerRun pacer = lab.startPacer(TARGET_V4, PORT, 2000, 15_000);
        Proc.sleep(300);
        assertEquals(0, lab.packets("tun"));

        long start = System.nanoTime();
        Sh.Result up = nm.vpnUp();
        long activatedMs = ms(start);
        assertTrue(up.ok(), up.describe());
        awaitTrue(() -> lab.packets("tun") > 0, Duration.ofSeconds(10), "a packet through the tunnel");
        long firstPacketMs = ms(start);
        awaitTrue(() -> nm.exec("cat", "/etc/resolv.conf").stdout().contains("nameserver " + SERVER_TUN_V4),
                Duration.ofSeconds(5), "resolv.conf pointing at the tunnel's resolver");
        Proc.sleep(500);
        PacerRun.Totals totals = pacer.stop();

        String resolv = nm.exec("cat", "/etc/resolv.conf").orThrow().stdout();
        assertFalse(resolv.contains("198.51.100.1"), resolv);
        assertTrue(lab.packets("tun") > 500, "traffic flows through the tunnel: " + totals);
        assertTrue(totals.eperm() > 0, "refused before the tunnel was up: " + totals);
        assertEquals(0, lab.packets("plain"), "plaintext packets at the ISP: " + totals);
        System.out.printf("[nm-lab] nmcli connection up returned (VPN activated) after %d ms; first packet through the "
                + "tunnel %d ms after nmcli started (%d ms after activation); plaintext at the ISP: %d; %s%n",
                activatedMs, firstPacketMs, firstPacketMs - activatedMs, lab.packets("plain"), totals);
    }

    private static final String RESTART = "NetworkManager restarted";
    private static final List<String> FAULTS = List.of("kill -9 openvpn", "nmcli down", RESTART);

    @Test
    void faultsUnderKillswitchLeakNothingWhileAReactiveDispatcherLeaks() throws Exception {
        Map<String, Long> reactive = new LinkedHashMap<>();
        Map<String, Long> killswitch = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();

        nm.installDispatcherScript("90-reactive", REACTIVE);
        for (String fault : FAULTS) {
            reactive.put(fault, faultRound(fault, false, notes));
        }
        nm.removeDispatcherScript("90-reactive");
        lab.execInClient("nft", "delete", "table", "inet", "reactive");

        ks.check("enable");
        installKillswitchScript();
        for (String fault : FAULTS) {
            killswitch.put(fault, faultRound(fault, true, notes));
        }
        System.out.println("[nm-lab] plaintext packets at the ISP per fault at 10,000 pps: killswitch " + killswitch
                + "; reactive vpn-down dispatcher script " + reactive);
        notes.forEach(n -> System.out.println("[nm-lab]   " + n));
        killswitch.forEach((fault, plain) -> assertEquals(0L, plain, "killswitch, " + fault));
    }

    /** VPN up, 10,000 pps through it, the fault, 1.5 s more; returns the plaintext packets counted at the ISP. */
    private long faultRound(String fault, boolean withKillswitch, List<String> notes) {
        String guard = withKillswitch ? "killswitch" : "reactive";
        Sh.Result up = nm.vpnUp();
        assertTrue(up.ok(), up.describe());
        lab.resetCounter("tun");
        awaitTrue(() -> {
            // the dispatcher's vpn-up (grant, or removal of the reactive block) runs after nmcli returns
            return lab.udpSend(TARGET_V4, PORT).outcome() == Probe.Outcome.SENT && lab.packets("tun") > 0;
        }, Duration.ofSeconds(10), guard + ": traffic through the tunnel");
        PacerRun pacer = lab.startPacer(TARGET_V4, PORT, 10_000, 20_000);
        Proc.sleep(500);
        lab.resetCounter("plain");
        long tunBefore = lab.packets("tun");
        switch (fault) {
            case "kill -9 openvpn" -> nm.killClientOpenvpn();
            case "nmcli down" -> {
                Sh.Result down = nm.vpnDown();
                assertTrue(down.ok(), down.describe());
            }
            case RESTART -> nm.restartNetworkManager();
            default -> throw new IllegalArgumentException(fault);
        }
        Proc.sleep(1500);
        PacerRun.Totals totals = pacer.stop();
        long plain = lab.packets("plain");
        assertTrue(tunBefore > 2000, guard + ", " + fault + ": traffic went through the tunnel before: " + tunBefore);
        if (fault.equals(RESTART)) {
            // the VPN's openvpn and tun outlive NetworkManager, which then lists no VPN and dispatches no
            // vpn-down: the tunnel carried on (or not) by itself. Ended here, by PID, to start the next round clean.
            long tunAfter = lab.packets("tun") - tunBefore;
            notes.add(guard + ", " + fault + ": the tun " + (nm.clientTunExists() ? "outlived" : "did not outlive")
                    + " NetworkManager and carried " + tunAfter + " more packets");
            if (nm.clientOpenvpnPid().isPresent()) nm.killClientOpenvpn();
        }
        awaitTrue(() -> !nm.clientTunExists() && nm.vpnState().isEmpty(), Duration.ofSeconds(10),
                guard + ": the VPN gone after " + fault);
        if (withKillswitch && !fault.equals(RESTART)) {
            assertTrue(totals.eperm() > 1000, "the block refused the sender's packets: " + totals);
        }
        notes.add(guard + ", " + fault + ": " + plain + " plaintext; " + totals);
        return plain;
    }

    @Test
    void theDispatcherAloneKeepsDnsAndGrantsRightAcrossUpAndDown() throws Exception {
        installKillswitchScript();   // no enable: the first hook installs the baseline
        nm.startTunnelResolverV6(TARGET_V4);
        nm.countDns6ThroughTunnel("dns6tun");
        nm.countDnsOnPhysical("dnsplain");
        List<String> dnsNotes = new ArrayList<>();
        // the control: with no block loaded yet, the same query leaves on the physical link and is counted
        String open = nm.dnsLookup("v6.example.net", SERVER_TUN_V6, 5000);
        assertTrue(open.contains("\"answered\":true") && lab.packets("dnsplain") > 0, open);
        dnsNotes.add("no block: " + open + ", " + lab.packets("dnsplain") + " on the physical link");
        lab.resetCounter("dnsplain");
        for (int round = 1; round <= 2; round++) {
            Sh.Result up = nm.vpnUp();
            assertTrue(up.ok(), up.describe());
            // both resolvers: the IPv6 one comes from $VPN_IP6_NAMESERVERS
            awaitTrue(() -> ruleset().contains("\"" + nm.clientTun() + "\"")
                            && nm.exec("cat", "/etc/resolv.conf").stdout().contains("nameserver " + SERVER_TUN_V4)
                            && nm.exec("cat", "/etc/resolv.conf").stdout().contains("nameserver " + SERVER_TUN_V6),
                    Duration.ofSeconds(10), "round " + round + ": the tunnel granted and both its resolvers in resolv.conf");
            String resolv = nm.exec("cat", "/etc/resolv.conf").orThrow().stdout();
            assertFalse(resolv.contains("198.51.100.1"), resolv);
            assertTrue(NmFixture.dnsSet(lab, "dns6").contains(SERVER_TUN_V6), NmFixture.dnsSet(lab, "dns6"));
            assertTrue(NmFixture.dnsSet(lab, "dns4").contains(SERVER_TUN_V4), NmFixture.dnsSet(lab, "dns4"));
            assertEquals(Probe.Outcome.SENT, lab.udpSend(TARGET_V4, PORT).outcome());
            if (round == 1) {
                // a real query to the IPv6 resolver: answered, and counted arriving through the tunnel
                lab.resetCounter("dns6tun");
                String answered = nm.dnsLookup("v6.example.net", SERVER_TUN_V6, 5000);
                assertTrue(answered.contains("\"answered\":true"), answered);
                assertTrue(lab.packets("dns6tun") > 0, "the query arrived through the tunnel");
                dnsNotes.add("up: " + answered + ", " + lab.packets("dns6tun") + " through the tunnel");
            }

            Sh.Result down = nm.vpnDown();
            assertTrue(down.ok(), down.describe());
            awaitTrue(() -> !ruleset().contains("\"" + nm.clientTun() + "\""), Duration.ofSeconds(10),
                    "round " + round + ": the tunnel's grant withdrawn");
            awaitTrue(() -> java.util.Arrays.equals(NmFixture.ORIGINAL_RESOLV_CONF, readResolvConf()), Duration.ofSeconds(5),
                    "round " + round + ": resolv.conf back as it was");
            assertArrayEquals(NmFixture.ORIGINAL_RESOLV_CONF, readResolvConf());
            assertTrue(ruleset().contains("table inet killswitch"), "the block stays after vpn-down");
            assertFalse(NmFixture.dnsSet(lab, "dns6").contains(SERVER_TUN_V6), "the IPv6 resolver withdrawn");
            assertEquals(Probe.Outcome.EPERM, lab.udpSend(TARGET_V4, PORT).outcome(), "blocked after vpn-down");
            if (round == 1) {
                // the route to the resolver now takes the physical link: only the block keeps the query in
                String route = lab.execInClient("ip", "-6", "route", "get", SERVER_TUN_V6).orThrow().stdout();
                assertTrue(route.contains("dev " + lab.clientPhys()), route);
                long tunBefore = lab.packets("dns6tun");
                String blocked = nm.dnsLookup("v6.example.net", SERVER_TUN_V6, 1500);
                assertTrue(blocked.contains("\"answered\":false") && !blocked.contains("\"eperm\":0"), blocked);
                assertEquals(tunBefore, lab.packets("dns6tun"));
                dnsNotes.add("down: " + blocked);
            }
        }
        assertEquals(0, lab.packets("plain"));
        assertEquals(0, lab.packets("dnsplain"), "DNS on the physical link");
        System.out.println("[nm-lab] dispatcher, IPv6 resolver " + SERVER_TUN_V6 + ": " + dnsNotes
                + "; DNS packets on the physical link: " + lab.packets("dnsplain"));
    }

    @Test
    void aHostileInterfaceNameIsRefusedAndChangesNothing() throws Exception {
        ks.check("enable");
        Path script = nm.installDispatcherScript("90-killswitch",
                Files.readString(LabSupport.projectDir().resolve("dispatcher.d/90-killswitch")));
        String rulesBefore = ruleset();
        byte[] resolvBefore = readResolvConf();
        Path marker = nm.workDir().resolve("pwned");
        for (String hostile : List.of("tun0;touch " + marker, "$(touch " + marker + ")", "`touch " + marker + "`",
                "tun0 " + lab.clientPhys(), lab.clientPhys() + "\n", "a234567890123456", "..", "*", "")) {
            for (String action : List.of("vpn-up", "vpn-down")) {
                Sh.Result r = Sh.run(nm.argv("env", "-i", "VPN_IP_IFACE=" + hostile, "VPN_IP4_NAMESERVERS=10.8.0.1",
                        "/bin/sh", script.toString(), lab.clientPhys(), action), null, Duration.ofSeconds(30));
                assertNotEquals(0, r.exitCode(), "accepted '" + hostile + "': " + r.describe());
                assertTrue(r.stderr().contains("refused"), r.describe());
            }
        }
        assertFalse(Files.exists(marker), "a command in VPN_IP_IFACE ran");
        assertEquals(rulesBefore, ruleset(), "the ruleset changed");
        assertArrayEquals(resolvBefore, readResolvConf(), "resolv.conf changed");
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(TARGET_V4, PORT).outcome());

        // the same script with a valid name does reach killswitch (so the refusals above were the checks)
        Sh.Result ok = Sh.run(nm.argv("env", "-i", "VPN_IP_IFACE=ksnmtest0", "VPN_IP4_NAMESERVERS=10.8.0.1 8.8.8.8;x",
                "VPN_IP6_NAMESERVERS=2001:db8:8::53 2001:db8:8::66;touch${IFS}" + marker + " $(touch${IFS}" + marker + ")",
                "/bin/sh", script.toString(), lab.clientPhys(), "vpn-up"), null, Duration.ofSeconds(30));
        assertEquals(0, ok.exitCode(), ok.describe());
        assertTrue(ruleset().contains("\"ksnmtest0\""), ruleset());
        assertFalse(ruleset().contains("8.8.8.8"), "a dropped nameserver was passed on");
        assertTrue(NmFixture.dnsSet(lab, "dns6").contains("2001:db8:8::53"), NmFixture.dnsSet(lab, "dns6"));
        assertFalse(NmFixture.dnsSet(lab, "dns6").contains("2001:db8:8::66"), "a dropped IPv6 nameserver was passed on");
        assertFalse(Files.exists(marker), "a command in VPN_IP6_NAMESERVERS ran");
        assertEquals(0, lab.packets("plain"));
    }

    private String ruleset() {
        return lab.execInClient("nft", "-s", "list", "ruleset").orThrow().stdout();
    }

    private byte[] readResolvConf() {
        try {
            return Files.readAllBytes(lab.resolvConf());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

}
