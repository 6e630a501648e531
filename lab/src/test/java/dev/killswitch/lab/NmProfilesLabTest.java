package dev.killswitch.lab;

import static dev.killswitch.lab.NetworkManagerLab.TARGET_V4;
import static dev.killswitch.lab.NmFixture.awaitTrue;
import static dev.killswitch.lab.NmFixture.ms;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.TestInstance;

/**
 * The service reads NetworkManager's saved VPN profiles (real NetworkManager 1.42, network-manager-openvpn,
 * an openvpn server at the ISP) and allows exactly their servers outside the tunnel, with an EMPTY
 * killswitch.toml: no [[endpoint]] written by hand. One lab and one service for all the cases (they take
 * seconds each; the lab takes longer to build). Leaks are counted at the ISP with real packets.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NmProfilesLabTest {
    private static final int PORT = 9999;

    private NmFixture.Rig rig;
    private Lab lab;
    private NetworkManagerLab nm;
    private KsCli ks;
    private NmFixture.Service service;
    private final Map<String, Object> report = new LinkedHashMap<>();

    @BeforeAll
    void setUp() throws Exception {
        LabSupport.assumeNetworkManagerLab();
        rig = NmFixture.Rig.open(null);
        lab = rig.lab();
        nm = rig.nm();
        ks = rig.ks();
        service = new NmFixture.Service(ks, "nm-profiles");
        ks.writeConfig("");
        lab.startUdpSink(PORT);
        nm.countThroughTunnel("tun", PORT);
        nm.countPlaintext("plain");
        nm.countDnsOnPhysical("dnsplain");
        ks.check("enable");
        service.start();
    }

    @AfterAll
    void tearDown() {
        if (service != null) service.close();
        if (rig != null) rig.close();
        System.out.println("[nm-profiles] " + report);
    }

    /** Empty config: the VPN's own profile gives its server; it connects, carries traffic, and faults leak nothing. */
    @Test
    @Order(1)
    void anEmptyConfigLetsTheVpnConnectAndItsFaultsLeakNothing() throws Exception {
        awaitTrue(() -> endpoints4().contains("203.0.113.5 . udp . 1194"), Duration.ofSeconds(10),
                "the lab VPN profile's server allowed: " + endpoints4());
        assertEquals(1, elements(endpoints4()), "exactly the profile's server: " + endpoints4());
        String status = ks.check("status", "--json").stdout();
        assertTrue(status.contains("\"id\" : \"" + NetworkManagerLab.VPN_NAME + "\"") && status.contains("\"counts\" : true"), status);

        long start = System.nanoTime();
        upAndGranted();
        report.put("nmcli up to a packet through the tunnel, ms", ms(start));
        Map<String, Long> plaintext = new LinkedHashMap<>();
        plaintext.put("kill -9 openvpn", fault(nm::killClientOpenvpn));
        awaitTrue(() -> !NmFixture.granted(lab, nm), Duration.ofSeconds(10), "the grant withdrawn after kill -9 of openvpn");
        upAndGranted();
        plaintext.put("nmcli down", fault(() -> assertTrue(nm.vpnDown().ok())));
        upAndGranted();
        plaintext.put("kill -9 of the service, then nmcli down", fault(() -> {
            service.kill9();
            assertTrue(nm.vpnDown().ok());
        }));
        service.start();
        awaitTrue(() -> !NmFixture.granted(lab, nm), Duration.ofSeconds(10), "the restarted service withdrawing the grant");
        assertTrue(endpoints4().contains("203.0.113.5 . udp . 1194"), "the profile's server stays allowed: " + endpoints4());
        report.put("plaintext at the ISP at 10,000 pps", plaintext);
        plaintext.forEach((fault, n) -> assertEquals(0L, n, "plaintext at the ISP, " + fault));
        assertEquals(0, lab.packets("dnsplain"), "DNS on the physical link");
    }

    /** A profile added while the service runs is allowed at once; an edited remote moves the hole; a removed one closes. */
    @Test
    @Order(2)
    void addedEditedAndRemovedProfilesMoveTheHoles() throws Exception {
        Proc monitor = Sh.start(nm.argv("dbus-monitor", "--system",
                "type='signal',interface='org.freedesktop.NetworkManager.Settings',member='NewConnection'"));
        try {
            Proc.sleep(300);   // the monitor on the bus
            long before = System.currentTimeMillis();
            nm.nmcli("connection", "add", "type", "vpn", "con-name", "addedvpn", "vpn-type", "openvpn",
                    "connection.autoconnect", "no", "vpn.data", openvpnData("203.0.113.20:1195:tcp-client")).orThrow();
            long holeAt = awaitHole("203.0.113.20 . tcp . 1195", true);
            assertTrue(monitor.awaitOutput("member=NewConnection", Duration.ofSeconds(10)), "NewConnection seen: " + monitor.describe());
            // the line of NewConnection itself (the monitor first prints the bus's NameAcquired/NameLost to it)
            Matcher t = Pattern.compile("signal time=(\\d+)\\.(\\d{6})[^\n]*member=NewConnection").matcher(monitor.stdout());
            assertTrue(t.find(), monitor.stdout());
            long signalAt = Long.parseLong(t.group(1)) * 1000 + Long.parseLong(t.group(2)) / 1000;
            report.put("NewConnection to the hole in the kernel, ms", holeAt - signalAt);
            report.put("nmcli connection add started to the hole, ms", holeAt - before);
        } finally {
            monitor.close();
        }
        // a NewConnection from another process on the bus: ignored (it would only make the service read again)
        Sh.Result spoof = nm.exec("dbus-send", "--system", "--type=signal", "/org/freedesktop/NetworkManager/Settings",
                "org.freedesktop.NetworkManager.Settings.NewConnection", "objpath:/org/freedesktop/NetworkManager/Settings/999");
        assertTrue(spoof.ok(), spoof.describe());
        awaitTrue(() -> service.stderr().contains("ignored NewConnection on /org/freedesktop/NetworkManager/Settings from"),
                Duration.ofSeconds(5), "the service ignoring a NewConnection not sent by NetworkManager");
        // edited: the hole moves (the old one closes in the same transaction)
        nm.nmcli("connection", "modify", "addedvpn", "vpn.data", openvpnData("203.0.113.21:1196 203.0.113.22"))
                .orThrow();
        awaitHole("203.0.113.21 . udp . 1196", true);
        assertTrue(endpoints4().contains("203.0.113.22 . udp . 1194"), "the second remote, default port: " + endpoints4());
        assertFalse(endpoints4().contains("203.0.113.20"), "the old remote's hole closed: " + endpoints4());
        // removed: withdrawn
        nm.nmcli("connection", "delete", "addedvpn").orThrow();
        awaitHole("203.0.113.21 . udp . 1196", false);
        assertFalse(endpoints4().contains("203.0.113.22"), endpoints4());
        assertTrue(endpoints4().contains("203.0.113.5 . udp . 1194"), "the lab VPN's own stays: " + endpoints4());
    }

    /** A host-name remote: never resolved, listed in status with what to do, the VPN does not connect, no DNS leaves. */
    @Test
    @Order(3)
    void aHostNameRemoteIsListedAndNeverResolved() throws Exception {
        nm.nmcli("connection", "add", "type", "vpn", "con-name", "namedvpn", "vpn-type", "openvpn",
                "connection.autoconnect", "no", "vpn.data", openvpnData("vpn.example.net:1194:udp")).orThrow();
        awaitTrue(() -> ks.run("status").stdout().contains("vpn.example.net 1194/udp"), Duration.ofSeconds(10),
                "status listing the host name");
        String text = ks.run("status").stdout();
        assertTrue(text.contains("'namedvpn'") && text.contains("HOST NAME(S) not resolved")
                && text.contains("write the server's IP address in the profile, or add it as an [[endpoint]]"), text);
        String json = ks.run("status", "--json").stdout();
        assertTrue(json.contains("\"host_names\" : [ \"vpn.example.net 1194/udp\" ]") && json.contains("\"what_to_do\""), json);
        assertTrue(json.contains("\"networkmanager_profiles_changed_at\" : \""), json);
        System.out.println("[nm-profiles] status with a host-name profile:\n" + text);
        lab.resetCounter("dnsplain");
        lab.resetCounter("plain");
        Sh.Result up = nm.nmcli("--wait", "6", "connection", "up", "namedvpn");
        assertFalse(up.ok(), "the VPN must not connect: " + up.describe());
        assertNotEquals("activated", nmState("namedvpn"));
        nm.nmcli("connection", "down", "namedvpn");
        nm.nmcli("connection", "delete", "namedvpn").orThrow();
        report.put("host-name VPN: DNS packets on the physical link", lab.packets("dnsplain"));
        assertEquals(0, lab.packets("dnsplain"), "DNS on the physical link while the VPN tried its host name");
        assertEquals(0, lab.packets("plain"), "plaintext on the physical link");
    }

    /**
     * A profile restricted to a user, with a server of that user's choosing: no hole until the config names it. A
     * probe from the client to its address and port is refused, and passes once named.
     */
    @Test
    @Order(4)
    void aUserRestrictedProfileOpensNothingUntilTheConfigNamesIt() throws Exception {
        lab.countOnPhysicalAtIsp("userprobe", "ip daddr 203.0.113.30 udp dport 4444");
        nm.nmcli("connection", "add", "type", "vpn", "con-name", "nobodys-vpn", "vpn-type", "openvpn",
                "connection.autoconnect", "no", "connection.permissions", "user:nobody",
                "vpn.data", openvpnData("203.0.113.30:4444:udp")).orThrow();
        awaitTrue(() -> ks.run("status").stdout().contains("'nobodys-vpn'"), Duration.ofSeconds(10), "status listing it");
        String text = ks.run("status").stdout();
        assertTrue(text.contains("NOT allowed: restricted to nobody"), text);
        assertFalse(endpoints4().contains("203.0.113.30"), endpoints4());
        assertEquals(Probe.Outcome.EPERM, lab.udpSend("203.0.113.30", 4444).outcome(), "the user's server is blocked");
        assertEquals(0, lab.packets("userprobe"));

        ks.writeConfig("[networkmanager]\nprofiles = [\"nobodys-vpn\"]\n");
        ks.check("enable");
        awaitHole("203.0.113.30 . udp . 4444", true);
        assertEquals(Probe.Outcome.SENT, lab.udpSend("203.0.113.30", 4444).outcome(), "named: its server passes");
        awaitTrue(() -> lab.packets("userprobe") == 1, Duration.ofSeconds(5), "the probe counted at the ISP");
        // and system_profiles = false: only the named one counts, the lab VPN's server closes
        ks.writeConfig("[networkmanager]\nsystem_profiles = false\nprofiles = [\"nobodys-vpn\"]\n");
        ks.check("enable");
        awaitHole("203.0.113.5 . udp . 1194", false);
        assertTrue(endpoints4().contains("203.0.113.30 . udp . 4444"), endpoints4());
        ks.writeConfig("");
        ks.check("enable");
        awaitHole("203.0.113.30 . udp . 4444", false);
        awaitHole("203.0.113.5 . udp . 1194", true);
        assertEquals(Probe.Outcome.EPERM, lab.udpSend("203.0.113.30", 4444).outcome(), "blocked again");
        assertEquals(1, lab.packets("userprobe"));
        nm.nmcli("connection", "delete", "nobodys-vpn").orThrow();
    }

    /**
     * NetworkManager's own WireGuard connection cannot activate here (no kernel module), but its profile can be
     * saved: its peer's endpoint, and nothing else, passes.
     */
    @Test
    @Order(5)
    void aWireGuardProfilesPeerEndpointAndNothingElsePasses() throws Exception {
        lab.countOnPhysicalAtIsp("wgok", "ip daddr 203.0.113.8 udp dport 51820");
        lab.countOnPhysicalAtIsp("wgother", "ip daddr 203.0.113.8 udp dport != 51820");
        lab.countOnPhysicalAtIsp("wgtcp", "ip daddr 203.0.113.8 tcp dport 51820");
        String priv = Sh.check("wg", "genkey").stdout().trim();
        String peer = Sh.check(List.of("wg", "pubkey"), Sh.check("wg", "genkey").stdout()).stdout().trim();
        Path conf = nm.workDir().resolve("kswg0.conf");
        Files.writeString(conf, "[Interface]\nPrivateKey = " + priv + "\nAddress = 10.9.0.2/32\n\n[Peer]\nPublicKey = " + peer
                + "\nEndpoint = 203.0.113.8:51820\nAllowedIPs = 0.0.0.0/0\n");
        nm.nmcli("connection", "import", "type", "wireguard", "file", conf.toString()).orThrow();
        nm.nmcli("connection", "modify", "kswg0", "connection.autoconnect", "no");
        awaitHole("203.0.113.8 . udp . 51820", true);
        assertEquals(Probe.Outcome.SENT, lab.udpSend("203.0.113.8", 51820).outcome(), "the peer's endpoint passes");
        assertEquals(Probe.Outcome.EPERM, lab.udpSend("203.0.113.8", 51821).outcome(), "another port does not");
        assertEquals(Probe.Outcome.EPERM, lab.udpSend("203.0.113.9", 51820).outcome(), "another address does not");
        assertNotEquals(Probe.Outcome.CONNECTED, lab.tcpConnect("203.0.113.8", 51820, 1000).outcome(), "nor TCP to it");
        awaitTrue(() -> lab.packets("wgok") == 1, Duration.ofSeconds(5), "the endpoint probe counted at the ISP");
        assertEquals(0, lab.packets("wgother"));
        assertEquals(0, lab.packets("wgtcp"));
        String json = ks.run("status", "--json").stdout();
        assertTrue(json.contains("\"type\" : \"wireguard\"") && json.contains("203.0.113.8:51820/udp"), json);
        nm.nmcli("connection", "delete", "kswg0").orThrow();
        awaitHole("203.0.113.8 . udp . 51820", false);
    }

    /**
     * Roaming: the VPN up over the first uplink, traffic at 10,000 pps, then the physical connection switched to a
     * second link and profile. NetworkManager brings the VPN back by itself (the uplinks' connection.secondaries
     * name it); no plaintext and no DNS leave on either link meanwhile, and resolv.conf follows the VPN back.
     */
    @Test
    @Order(6)
    void roamingToAnotherUplinkLeaksNothingAndTheVpnComesBack() throws Exception {
        String isp2 = nm.addSecondUplink();
        lab.countAtIsp("plain2", "iifname \"" + isp2 + "\" ip daddr 203.0.113.0/24 udp dport != " + NetworkManagerLab.VPN_PORT);
        lab.countAtIsp("plain2v6", "iifname \"" + isp2 + "\" ip6 daddr 2001:db8::/32 udp dport " + PORT);
        lab.countAtIsp("dns2", "iifname \"" + isp2 + "\" meta l4proto { tcp, udp } th dport { 53, 853 }");
        String uuid = nm.vpnUuid();
        for (String uplink : List.of(NetworkManagerLab.PHYS_NAME, NetworkManagerLab.PHYS2_NAME)) {
            nm.nmcli("connection", "modify", uplink, "connection.secondaries", uuid).orThrow();
        }
        upAndGranted();
        PacerRun pacer = lab.startPacer(TARGET_V4, PORT, 10_000, 30_000);
        Proc.sleep(500);
        for (String c : List.of("plain", "dnsplain", "plain2", "plain2v6", "dns2")) lab.resetCounter(c);
        long tunBefore = lab.packets("tun");
        long start = System.nanoTime();
        nm.nmcli("--wait", "20", "connection", "down", NetworkManagerLab.PHYS_NAME).orThrow();
        // NetworkManager 1.42 fails the new uplink's secondary ("connect-failed") when the old VPN's openvpn has
        // not exited yet, which a busy machine makes likely: wait for it, as a person switching networks does
        awaitTrue(() -> nm.clientOpenvpnPid().isEmpty() && !nm.clientTunExists(), Duration.ofSeconds(15),
                "the first uplink's openvpn gone");
        Sh.Result up2 = nm.nmcli("--wait", "20", "connection", "up", NetworkManagerLab.PHYS2_NAME);
        assertTrue(up2.ok(), up2.describe() + "\n" + nm.networkManagerLog());
        long backAt;
        try {
            awaitTrue(() -> "activated".equals(nm.vpnState()), Duration.ofSeconds(20),
                    "NetworkManager activating the VPN again as the new uplink's secondary");
            long tunAtReconnect = lab.packets("tun");
            awaitTrue(() -> lab.packets("tun") > tunAtReconnect + 100, Duration.ofSeconds(20),
                    "traffic through the tunnel again over the second uplink");
            backAt = ms(start);
        } finally {
            pacer.stop();
        }
        assertTrue(tunBefore > 2000, "traffic through the tunnel before the switch: " + tunBefore);
        awaitTrue(() -> readResolvConf().contains("nameserver " + NetworkManagerLab.SERVER_TUN_V4), Duration.ofSeconds(5),
                "resolv.conf pointing at the VPN's resolver again");
        String route = lab.execInClient("ip", "route", "get", NetworkManagerLab.SERVER_TUN_V4).orThrow().stdout();
        assertTrue(route.contains("dev " + nm.clientTun()), route);
        Map<String, Long> leaks = new LinkedHashMap<>();
        for (String c : List.of("plain", "dnsplain", "plain2", "plain2v6", "dns2")) leaks.put(c, lab.packets(c));
        report.put("roaming: switch started to traffic through the tunnel again, ms", backAt);
        report.put("roaming: plaintext and DNS counted at the ISP on both links", leaks);
        leaks.forEach((c, n) -> assertEquals(0L, n, "counted at the ISP while roaming: " + c));
        String endpoints = endpoints4();
        assertEquals(1, elements(endpoints), "still only the profile's server: " + endpoints);
    }

    private String readResolvConf() {
        try {
            return Files.readString(lab.resolvConf());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    // ---- helpers ----

    private String openvpnData(String remote) {
        Path pki = nm.workDir().resolve("pki");
        return "remote=" + remote + ", connection-type=tls, ca=" + pki.resolve("ca.crt") + ", cert=" + pki.resolve("client.crt")
                + ", key=" + pki.resolve("client.key") + ", cert-pass-flags=4, dev-type=tun, remote-cert-tls=server";
    }

    /** Waits until the endpoints4 set has (or lacks) {@code element}; returns the wall-clock ms when it was seen so. */
    private long awaitHole(String element, boolean present) {
        awaitTrue(() -> endpoints4().contains(element) == present, Duration.ofSeconds(15),
                (present ? "the hole " : "the hole closed ") + element + ": " + endpoints4());
        return System.currentTimeMillis();
    }

    private String endpoints4() {
        return lab.execInClient("nft", "list", "set", "inet", "killswitch", "endpoints4").orThrow().stdout();
    }

    private String nmState(String name) {
        Sh.Result r = nm.nmcli("-g", "GENERAL.STATE", "connection", "show", name);
        return r.ok() ? r.stdout().trim() : "";
    }

    /** The elements "address . protocol . port" in a listed set. */
    private static int elements(String set) {
        Matcher m = Pattern.compile("[0-9.]+ \\. (udp|tcp) \\. \\d+").matcher(set);
        int n = 0;
        while (m.find()) n++;
        return n;
    }

    private void upAndGranted() {
        Sh.Result up = nm.vpnUp();
        assertTrue(up.ok(), up.describe());
        lab.resetCounter("tun");
        awaitTrue(() -> lab.udpSend(TARGET_V4, PORT).outcome() == Probe.Outcome.SENT && lab.packets("tun") > 0,
                Duration.ofSeconds(10), "the service granting the tunnel");
    }

    private long fault(Runnable fault) {
        return NmFixture.plaintextAcross(lab, nm, PORT, fault, false);
    }


}
