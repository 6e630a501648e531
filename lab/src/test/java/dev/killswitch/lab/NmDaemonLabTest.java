package dev.killswitch.lab;

import static dev.killswitch.lab.NetworkManagerLab.SERVER_TUN_V4;
import static dev.killswitch.lab.NetworkManagerLab.SERVER_TUN_V6;
import static dev.killswitch.lab.NetworkManagerLab.TARGET_V4;
import static dev.killswitch.lab.NmFixture.awaitTrue;
import static dev.killswitch.lab.NmFixture.ms;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code killswitch daemon} with a real NetworkManager 1.42 and an OpenVPN connection, with NO dispatcher
 * script: the daemon alone (D-Bus, inside the lab's mount namespace and its own system bus) grants and
 * withdraws the VPN. Leaks are counted at the ISP with real packets.
 */
class NmDaemonLabTest {

    private static final int PORT = 9999;

    private NmFixture.Rig rig;
    private Lab lab;
    private NetworkManagerLab nm;
    private KsCli ks;
    private NmFixture.Service service;

    @BeforeEach
    void setUp() throws Exception {
        LabSupport.assumeNetworkManagerLab();
        rig = NmFixture.Rig.open(null);
        lab = rig.lab();
        nm = rig.nm();
        ks = rig.ks();
        service = new NmFixture.Service(ks, "nm-daemon");
        lab.startUdpSink(PORT);
        nm.countThroughTunnel("tun", PORT);
        nm.countPlaintext("plain");
    }

    @AfterEach
    void tearDown() {
        if (service != null) service.close();
        if (rig != null) rig.close();
    }

    @Test
    void theDaemonAloneGrantsWithdrawsAndIgnoresSpoofedSignals() throws Exception {
        long testStart = System.nanoTime();
        ks.check("enable");
        service.start();
        Map<String, Long> plaintext = new LinkedHashMap<>();
        nm.startTunnelResolverV6(TARGET_V4);
        nm.countDns6ThroughTunnel("dns6tun");
        nm.countDnsOnPhysical("dnsplain");

        // a) up: traffic through the tunnel, DNS at the VPN's resolver, nothing in plaintext
        PacerRun pacer = lab.startPacer(TARGET_V4, PORT, 2000, 30_000);
        Proc.sleep(300);
        assertEquals(0, lab.packets("tun"));
        long start = System.nanoTime();
        Sh.Result up = nm.vpnUp();
        long activatedMs = ms(start);
        assertTrue(up.ok(), up.describe());
        long activatedAt = System.nanoTime();
        awaitTrue(() -> lab.packets("tun") > 0, Duration.ofSeconds(10), "a packet through the tunnel");
        long firstPacketMs = ms(activatedAt);
        // both resolvers: the IPv6 one from the VPN's Ip6Config
        awaitTrue(() -> nm.exec("cat", "/etc/resolv.conf").stdout().contains("nameserver " + SERVER_TUN_V4)
                        && nm.exec("cat", "/etc/resolv.conf").stdout().contains("nameserver " + SERVER_TUN_V6),
                Duration.ofSeconds(5), "resolv.conf pointing at the tunnel's resolvers");
        String resolv = nm.exec("cat", "/etc/resolv.conf").orThrow().stdout();
        assertFalse(resolv.contains("198.51.100.1"), resolv);
        assertTrue(NmFixture.dnsSet(lab, "dns6").contains(SERVER_TUN_V6), NmFixture.dnsSet(lab, "dns6"));
        assertTrue(NmFixture.dnsSet(lab, "dns4").contains(SERVER_TUN_V4), NmFixture.dnsSet(lab, "dns4"));
        Proc.sleep(300);
        PacerRun.Totals totals = pacer.stop();
        // a real query to the IPv6 resolver: answered, and counted arriving through the tunnel
        String answered = nm.dnsLookup("v6.example.net", SERVER_TUN_V6, 5000);
        assertTrue(answered.contains("\"answered\":true"), answered);
        long dns6Through = lab.packets("dns6tun");
        assertTrue(dns6Through > 0, "the query arrived through the tunnel");
        assertTrue(totals.eperm() > 0, "refused before the daemon granted the tunnel: " + totals);
        assertEquals(0, lab.packets("plain"), "plaintext at the ISP on up: " + totals);
        plaintext.put("up", lab.packets("plain"));

        // c) a spoofed VpnStateChanged / StateChanged "disconnected" from another process: nothing changes
        String active = activePath(up.stdout());
        Sh.Result spoof = nm.exec("dbus-send", "--system", "--type=signal", active,
                "org.freedesktop.NetworkManager.VPN.Connection.VpnStateChanged", "uint32:7", "uint32:2");
        assertTrue(spoof.ok(), spoof.describe());
        Sh.Result spoof2 = nm.exec("dbus-send", "--system", "--type=signal", active,
                "org.freedesktop.NetworkManager.Connection.Active.StateChanged", "uint32:4", "uint32:2");
        assertTrue(spoof2.ok(), spoof2.describe());
        // and a spoofed NameOwnerChanged handing the name to the spoofer: followed, it would read the spoofer's properties
        Sh.Result spoof3 = nm.exec("dbus-send", "--system", "--type=signal", "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameOwnerChanged", "string:org.freedesktop.NetworkManager", "string::1.1",
                "string::1.999");
        assertTrue(spoof3.ok(), spoof3.describe());
        awaitTrue(() -> service.stderr().contains("ignored VpnStateChanged on " + active)
                        && service.stderr().contains("ignored StateChanged on " + active)
                        && service.stderr().contains("ignored NameOwnerChanged"),
                Duration.ofSeconds(5), "the daemon logging the spoofed signals as ignored");
        Proc.sleep(500);
        assertTrue(granted(), "the grant stays after a spoofed signal: " + ruleset());
        lab.resetCounter("tun");
        assertEquals(Probe.Outcome.SENT, lab.udpSend(TARGET_V4, PORT).outcome(), "traffic still flows after the spoof");
        awaitTrue(() -> lab.packets("tun") > 0, Duration.ofSeconds(2), "the packet through the tunnel after the spoof");

        // b) faults at 10,000 pps
        plaintext.put("kill -9 openvpn", fault(nm::killClientOpenvpn));
        awaitTrue(() -> !granted() && !ownedFile().contains(nm.clientTun()), Duration.ofSeconds(10),
                "the daemon withdrawing the grant after kill -9 of openvpn");

        upAndGranted();
        plaintext.put("nmcli down", fault(() -> assertTrue(nm.vpnDown().ok())));
        awaitTrue(() -> !granted(), Duration.ofSeconds(10), "the daemon withdrawing the grant after nmcli down");
        assertFalse(ks.check("status", "--json").stdout().contains("\"" + nm.clientTun() + "\""), "state after down");
        awaitTrue(() -> java.util.Arrays.equals(NmFixture.ORIGINAL_RESOLV_CONF, readResolvConf()), Duration.ofSeconds(5),
                "resolv.conf back as it was after nmcli down");
        assertFalse(NmFixture.dnsSet(lab, "dns6").contains(SERVER_TUN_V6), "the IPv6 resolver withdrawn");
        // the route to the resolver now takes the physical link: only the block keeps the query in
        String route = lab.execInClient("ip", "-6", "route", "get", SERVER_TUN_V6).orThrow().stdout();
        assertTrue(route.contains("dev " + lab.clientPhys()), route);
        String blocked = nm.dnsLookup("v6.example.net", SERVER_TUN_V6, 1500);
        assertTrue(blocked.contains("\"answered\":false") && !blocked.contains("\"eperm\":0"), blocked);
        assertEquals(dns6Through, lab.packets("dns6tun"), "nothing more through the tunnel after down");

        // the daemon killed with -9; the VPN goes down while it is dead; the restarted daemon reconciles at start
        upAndGranted();
        plaintext.put("kill -9 daemon, nmcli down", fault(() -> {
            service.kill9();
            assertTrue(nm.vpnDown().ok());
        }));
        assertTrue(granted(), "nobody withdrew the grant while the daemon was dead");
        service.start();
        // the log line comes after the state and DNS are written: killing the daemon before it is another fault
        awaitTrue(() -> !granted() && service.stderr().contains("is no longer activated: withdrew its grant"),
                Duration.ofSeconds(10), "the restarted daemon withdrawing the stale grant");
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(TARGET_V4, PORT).outcome(), "blocked with no VPN");

        // and the other way: the VPN comes up while the daemon is dead; the restarted one grants it
        service.kill9();
        Sh.Result up2 = nm.vpnUp();
        assertTrue(up2.ok(), up2.describe());
        Proc.sleep(500);
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(TARGET_V4, PORT).outcome(), "no grant without the daemon");
        service.start();
        awaitTrue(this::granted, Duration.ofSeconds(10), "the restarted daemon granting the VPN that came up meanwhile");
        lab.resetCounter("tun");
        awaitTrue(() -> lab.udpSend(TARGET_V4, PORT).outcome() == Probe.Outcome.SENT && lab.packets("tun") > 0,
                Duration.ofSeconds(5), "traffic through the tunnel after the restart");

        // a process killed between its nft change and its state write: the kernel lacks a grant the state has;
        // the restarted daemon reloads the table from the state
        service.kill9();
        lab.execInClient("nft", "flush", "set", "inet", "killswitch", "tunnels").orThrow();
        assertFalse(granted());
        service.start();
        awaitTrue(() -> granted() && service.stderr().contains("reloaded it from the state"), Duration.ofSeconds(10),
                "the restarted daemon putting the grant the state has back into the kernel");
        assertTrue(nm.vpnDown().ok());
        awaitTrue(() -> !granted(), Duration.ofSeconds(10), "withdrawn after the last down");

        // NetworkManager restarted with the VPN up: the new NetworkManager lists no VPN, so the daemon withdraws
        // the grant (fail closed: a tun that outlived NetworkManager carries nothing more)
        upAndGranted();
        plaintext.put("NetworkManager restarted", fault(() -> {
            nm.restartNetworkManager();
            awaitTrue(() -> !granted(), Duration.ofSeconds(10), "the grant withdrawn once NetworkManager lists no VPN");
        }, true));
        // and the daemon follows its new owner on the bus (else it would ignore its signals)
        assertTrue(service.stderr().contains("org.freedesktop.NetworkManager is now owned by :"), service.stderr());
        upAndGranted();
        assertTrue(nm.vpnDown().ok());
        awaitTrue(() -> !granted(), Duration.ofSeconds(10), "withdrawn after down with the restarted NetworkManager");

        // d) the daemon's memory after all that
        String rss = Files.readAllLines(Path.of("/proc", Long.toString(service.pid()), "status")).stream()
                .filter(l -> l.startsWith("VmRSS:")).findFirst().orElse("VmRSS: ?").replaceAll("\\s+", " ");
        long rssPid = service.pid();
        assertTrue(service.proc().isAlive(), "the daemon still runs");
        assertTrue(ruleset().contains("table inet killswitch"), "the block stays");

        // the bus gone: the service says so, goes on serving its control socket, and the block stays
        long bus = Long.parseLong(Files.readString(nm.workDir().resolve("dbus.pid")).trim());
        ProcessHandle.of(bus).ifPresent(ProcessHandle::destroyForcibly);
        awaitTrue(() -> service.stderr().contains("lost the connection to the system bus"), Duration.ofSeconds(10),
                "the service noticing the bus gone");
        assertTrue(service.proc().isAlive(), "the service goes on without a bus: " + service.proc().describe());
        Sh.Result lan = ks.check("allow-lan", "on");
        assertTrue(lan.stderr().contains("to the daemon over"), "the control socket still answers: " + lan.describe());
        ks.check("allow-lan", "off");
        assertTrue(ruleset().contains("table inet killswitch"), "the block stays without the bus");
        plaintext.forEach((fault, plain) -> assertEquals(0L, plain, "plaintext at the ISP, " + fault));
        assertEquals(0, lab.packets("dnsplain"), "DNS on the physical link");
        System.out.printf("[nm-daemon] nmcli connection up returned (VPN activated) after %d ms; first packet through "
                        + "the tunnel %d ms after activation; plaintext at the ISP per fault at 10,000 pps: %s; daemon %s "
                        + "(pid %d); test took %d ms%n",
                activatedMs, firstPacketMs, plaintext, rss, rssPid, ms(testStart));
        System.out.printf("[nm-daemon] IPv6 resolver %s: up %s, %d through the tunnel; after down %s; DNS packets on the "
                + "physical link: %d%n", SERVER_TUN_V6, answered, dns6Through, blocked, lab.packets("dnsplain"));
    }

    @Test
    void theControlSocketTakesRootsChangesRefusesOthersAndTheCliActsDirectlyWithoutIt() throws Exception {
        long testStart = System.nanoTime();
        ks.check("enable");
        service.start();
        Path sock = ks.stateDir.resolve("control.sock");
        assertTrue(Files.exists(sock), "the daemon's control socket");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));

        // root's CLI goes through the socket: same stdout, the daemon logs who asked, the kernel has it
        long t0 = System.nanoTime();
        Sh.Result up = ks.check("up", "ksctl7");
        long upMs = ms(t0);
        assertTrue(up.stdout().contains("killswitch: tunnel ksctl7 allowed"), up.describe());
        assertTrue(up.stderr().contains("to the daemon over " + sock), up.describe());
        awaitTrue(() -> service.stderr().contains("did up ksctl7, asked by root (pid "), Duration.ofSeconds(5),
                "the daemon logging who asked for up");
        assertTrue(service.stderr().contains("over the control socket"), service.stderr());
        assertTrue(ruleset().contains("\"ksctl7\""), ruleset());
        // a hostile name is refused by the CLI before anything is sent, and the hook path goes through the socket too
        Sh.Result bad = ks.run("up", "ks;reboot");
        assertEquals(2, bad.exitCode(), bad.describe());
        Sh.Result hookDown = ks.hook(java.util.List.of(), "nm", "vpn-down", "ksctl7");
        assertTrue(hookDown.ok(), hookDown.describe());
        assertTrue(hookDown.stderr().contains("to the daemon over " + sock), hookDown.describe());
        assertFalse(ruleset().contains("\"ksctl7\""), ruleset());

        // nobody: the folders opened up on purpose, the socket's 0600 alone keeps nobody from connecting;
        // with the socket opened up as well, the peer check refuses it, clearly, and the daemon logs who it was
        String request = "{\"op\":\"up\",\"iface\":\"ksctl8\",\"pid\":1}\n";
        Path top = ks.stateDir.getParent();
        String topMode = PosixFilePermissions.toString(Files.getPosixFilePermissions(top));
        String stateMode = PosixFilePermissions.toString(Files.getPosixFilePermissions(ks.stateDir));
        try {
            Files.setPosixFilePermissions(top, PosixFilePermissions.fromString("rwx--x--x"));
            Files.setPosixFilePermissions(ks.stateDir, PosixFilePermissions.fromString("rwx--x--x"));
            Sh.Result denied = Sh.run(nm.argv(asNobody("socat", "-t5", "-", "UNIX-CONNECT:" + sock)), request, Duration.ofSeconds(10));
            assertFalse(denied.ok(), denied.describe());
            assertTrue(denied.stderr().contains("Permission denied"), denied.describe());
            Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rw-rw-rw-"));
            Sh.Result refused = Sh.run(nm.argv(asNobody("socat", "-t5", "-", "UNIX-CONNECT:" + sock)), request, Duration.ofSeconds(10));
            assertTrue(refused.stdout().contains("\"ok\":false")
                    && refused.stdout().contains("only root may change the kill switch (you are uid 65534 / user nobody)"),
                    refused.describe());
        } finally {
            Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rw-------"));
            Files.setPosixFilePermissions(ks.stateDir, PosixFilePermissions.fromString(stateMode));
            Files.setPosixFilePermissions(top, PosixFilePermissions.fromString(topMode));
        }
        awaitTrue(() -> service.stderr().contains("refused a request from user nobody (uid 65534"), Duration.ofSeconds(5),
                "the daemon logging the refusal");
        // the request claimed pid 1; the log gives the pid the kernel lists on the other end (ss -x -p)
        Matcher kernelPid = Pattern.compile("user nobody \\(uid 65534, pid 1 as it says, (\\d+) by the kernel\\)")
                .matcher(service.stderr());
        assertTrue(kernelPid.find() && !kernelPid.group(1).equals("1"), service.stderr());
        assertFalse(ruleset().contains("\"ksctl8\""), ruleset());

        // enable --persist and disable go through the service too; --persist's file is written by the CLI
        Path boot = ks.stateDir.getParent().resolve("boot.nft");
        Sh.Result persist = ks.check("enable", "--persist=" + boot);
        assertTrue(persist.stderr().contains("'enable' to the daemon over " + sock), persist.describe());
        assertTrue(Files.readString(boot).contains("table inet killswitch"), "the boot file written");
        Sh.Result off = ks.check("disable");
        assertTrue(off.stderr().contains("'disable' to the daemon over " + sock), off.describe());
        assertFalse(lab.execInClient("nft", "list", "table", "inet", "killswitch").ok(), "disabled");
        Proc.sleep(3500); // past one --resync: the service does not put a disabled block back by itself
        assertFalse(lab.execInClient("nft", "list", "table", "inet", "killswitch").ok(), "still disabled after a resync");
        ks.check("enable");

        // the daemon killed: its socket file stays, nobody answers, the CLI acts directly
        service.kill9();
        assertTrue(Files.exists(sock), "kill -9 leaves the socket file");
        Sh.Result direct = ks.check("up", "ksctl9");
        assertTrue(direct.stdout().contains("killswitch: tunnel ksctl9 allowed"), direct.describe());
        assertFalse(direct.stderr().contains("to the daemon"), direct.describe());
        assertTrue(ruleset().contains("\"ksctl9\""), ruleset());
        // the stale file does not block the next start; SIGTERM removes the socket
        service.start();
        assertTrue(service.stderr().contains("removed a stale " + sock), service.stderr());
        assertTrue(ks.check("down", "ksctl9").stderr().contains("to the daemon over"), "down through the restarted daemon");
        assertFalse(ruleset().contains("\"ksctl9\""), ruleset());
        assertTrue(service.term(), "the daemon stops on SIGTERM");
        assertFalse(Files.exists(sock), "the socket is removed on a clean stop");
        Sh.Result lan = ks.check("allow-lan", "on");
        assertFalse(lan.stderr().contains("to the daemon"), lan.describe());
        System.out.printf("[nm-daemon] control socket: 'killswitch up' through the daemon took %d ms (JVM start "
                + "included); test took %d ms%n", upMs, ms(testStart));
    }

    private static java.util.List<String> asNobody(String... argv) {
        java.util.List<String> out = new java.util.ArrayList<>(java.util.List.of("setpriv", "--reuid=65534", "--regid=65534",
                "--clear-groups"));
        out.addAll(java.util.List.of(argv));
        return out;
    }

    /** 10,000 pps through the tunnel, the fault, 1.5 s more; returns the plaintext packets counted at the ISP. */
    private long fault(Runnable fault) {
        return fault(fault, false);
    }

    private long fault(Runnable fault, boolean mayOrphanTheVpn) {
        return NmFixture.plaintextAcross(lab, nm, PORT, fault, mayOrphanTheVpn);
    }

    /**
     * The service starts on a bus with no NetworkManager on it: it serves its control socket at once, and when
     * NetworkManager starts later it follows it (NameOwnerChanged), without a restart, and grants its VPN.
     */
    @Test
    void theServiceStartsBeforeNetworkManagerAndFollowsItOnceItAppears() throws Exception {
        ks.check("enable");
        nm.stopNetworkManager();
        service.start();
        assertTrue(service.stderr().contains("on the system bus; NetworkManager is not"), service.stderr());
        // the control socket answers with no NetworkManager
        Sh.Result lan = ks.run("allow-lan", "on");
        assertTrue(lan.ok() && lan.stderr().contains("to the daemon"), lan.describe());
        assertTrue(ks.run("allow-lan", "off").ok());

        long started = System.nanoTime();
        nm.startNetworkManagerAgain();
        awaitTrue(() -> service.stderr().contains("org.freedesktop.NetworkManager is now owned by :"), Duration.ofSeconds(10),
                "the service to see NetworkManager appear: " + service.stderr());
        System.out.printf("[nm-daemon] NetworkManager started after the service: seen %d ms after its start%n", ms(started));
        nm.nmcli("--wait", "15", "connection", "up", NetworkManagerLab.PHYS_NAME).orThrow();
        PacerRun pacer = lab.startPacer(TARGET_V4, PORT, 2000, 30_000);
        upAndGranted();
        nm.vpnDown().orThrow();
        awaitTrue(() -> !granted(), Duration.ofSeconds(10), "the grant withdrawn after vpn down");
        PacerRun.Totals totals = pacer.stop();
        assertEquals(0, lab.packets("plain"), "plaintext at the ISP: " + totals);
    }

    private void upAndGranted() {
        Sh.Result up = nm.vpnUp();
        assertTrue(up.ok(), up.describe());
        lab.resetCounter("tun");
        awaitTrue(() -> lab.udpSend(TARGET_V4, PORT).outcome() == Probe.Outcome.SENT && lab.packets("tun") > 0,
                Duration.ofSeconds(10), "the daemon granting the tunnel");
    }



    private boolean granted() {
        return NmFixture.granted(lab, nm);
    }

    private byte[] readResolvConf() {
        try {
            return Files.readAllBytes(lab.resolvConf());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private String ownedFile() {
        try {
            Path f = ks.stateDir.resolve("nm-daemon-grants");
            return Files.exists(f) ? Files.readString(f) : "";
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private String ruleset() {
        return lab.execInClient("nft", "list", "table", "inet", "killswitch").orThrow().stdout();
    }

    private static String activePath(String nmcliUp) {
        Matcher m = Pattern.compile("(/org/freedesktop/NetworkManager/ActiveConnection/\\d+)").matcher(nmcliUp);
        assertTrue(m.find(), nmcliUp);
        return m.group(1);
    }

}
