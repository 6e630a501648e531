package dev.killswitch.lab;

import static dev.killswitch.lab.Lab.ISP_V4;
import static dev.killswitch.lab.Lab.ISP_V6;
import static dev.killswitch.lab.Lab.PUBLIC_V4;
import static dev.killswitch.lab.Lab.PUBLIC_V6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.killswitch.lab.FrameSender.Outcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The link-level gate (issue 26): with killswitch enabled in the client namespace, not one frame leaves the
 * client's "physical" link outside what the kill switch allows, whoever writes it: an AF_PACKET socket, a
 * container on a macvlan of the link, a guest bridged with it, a link that appears after {@code enable}; and
 * the service's repair after {@code nft flush ruleset} holds it too. DHCP, SLAAC and neighbour resolution keep
 * working under it. Frames are counted at the ISP's end of each link by a {@code netdev} ingress meter
 * ({@link LinkMeter}), which sees every frame that arrives there, IP or not; each guarded count has an unguarded
 * contrast in the same test that must be above 0 (the proof that the harness counts what it should).
 */
class LinkGateLabTest {
    private static final int PORT = 9999;
    private static final int ENDPOINT_PORT = 51820;
    private static final String LAN_CONFIG = "[lan]\nallow = %s\nnetworks = [\"198.51.100.0/24\", \"2001:db8:1::/64\"]\n";
    private static final String DNS_OFF = "[dns]\nmode = \"off\"\n";
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final LabRig rig = new LabRig();
    private Lab lab;
    private KsCli ks;
    private String ispMac;

    @BeforeEach
    void setUp() {
        if (!FrameSender.available()) LabSupport.unavailable("no " + FrameSender.PYTHON + " (the lab's frame writer)");
        lab = rig.lab();
        ks = rig.ks();
        ispMac = FrameSender.mac(lab.ispNs(), lab.ispPhys());
    }

    // ---- 1. AF_PACKET ----

    @Test
    void framesWrittenWithAnAfPacketSocketDoNotLeaveTheLinkWhileEnabled() throws Exception {
        ks.writeConfig(DNS_OFF);
        LinkMeter meter = LinkMeter.on(lab.ispNs(), lab.ispPhys())
                .count("v4", "ip daddr " + PUBLIC_V4 + " udp dport " + FrameSender.PORT_V4V6)
                .count("v6", "ip6 daddr " + PUBLIC_V6 + " udp dport " + FrameSender.PORT_V4V6)
                .count("lldp", "ether type 0x88cc")
                .count("spoof", "ip daddr " + PUBLIC_V4 + " udp dport " + FrameSender.PORT_SPOOF)
                .count("bypass", "ip daddr " + PUBLIC_V4 + " udp dport " + FrameSender.PORT_BYPASS);

        Map<String, Outcome> openSent = sendOnPhys(FrameSender.ALL, 20);
        Proc.sleep(100);
        Map<String, Long> open = counts(meter, FrameSender.ALL);
        meter.reset();

        ks.check("enable");
        long droppedBefore = droppedLink();
        Map<String, Outcome> gatedSent = sendOnPhys(FrameSender.ALL, 20);
        Proc.sleep(100);
        Map<String, Long> gated = counts(meter, FrameSender.ALL);
        long dropped = droppedLink() - droppedBefore;
        meter.reset();

        ks.check("disable");
        Map<String, Outcome> afterSent = sendOnPhys(FrameSender.ALL, 20);
        Proc.sleep(100);
        Map<String, Long> after = counts(meter, FrameSender.ALL);

        String report = String.format("AF_PACKET on %s, 20 frames of each kind: at the ISP before enable %s, enabled %s "
                        + "(dropped_link +%d), after disable %s; the sender saw: before %s, enabled %s, after %s",
                lab.clientPhys(), open, gated, dropped, after, openSent, gatedSent, afterSent);
        System.out.println("[link-gate] " + report);
        for (String kind : FrameSender.ALL) {
            assertTrue(open.get(kind) > 0, "unguarded contrast: " + kind + " frames reach the ISP before enable: " + report);
            assertTrue(after.get(kind) > 0, "unguarded contrast: " + kind + " frames reach the ISP after disable: " + report);
        }
        assertEquals(zeros(FrameSender.ALL), gated, "frames at the ISP while enabled (spoof: skb->protocol ARP, "
                + "ethertype IPv4; bypass: PACKET_QDISC_BYPASS): " + report);
        assertTrue(dropped >= 5 * 20, "the gate's dropped_link counted the 100 frames it dropped: " + report);
    }

    // ---- 2. macvlan ----

    @Test
    void aMacvlanChildIsStoppedAtItsLowerLinkAndReachesTheLanOnlyWhenTheLanIsAllowed() throws Exception {
        ks.writeConfig(String.format(LAN_CONFIG, "false") + DNS_OFF);
        String child = lab.prefix() + "-m";
        Netns.add(child);
        try {
            Netns.sysctl(child, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
            Netns.ip(child, "link", "set", "lo", "up");
            Netns.ip(lab.clientNs(), "link", "add", "mv0", "link", lab.clientPhys(), "type", "macvlan", "mode", "bridge");
            Netns.ip(lab.clientNs(), "link", "set", "mv0", "netns", child);
            Lab.configureLink(child, "mv0", "198.51.100.20/24", "2001:db8:1::20/64");
            Netns.ip(child, "-4", "route", "add", "default", "via", ISP_V4);
            Netns.ip(child, "-6", "route", "add", "default", "via", ISP_V6);
            Lab.awaitLinkReady(child, "mv0");
            lab.startUdpSink(PORT);
            LinkMeter meter = LinkMeter.on(lab.ispNs(), lab.ispPhys())
                    .count("pub", "ip saddr 198.51.100.20 ip daddr " + PUBLIC_V4,
                            "ip6 saddr 2001:db8:1::20 ip6 daddr " + PUBLIC_V6)
                    .count("lan", "ip saddr 198.51.100.20 ip daddr " + ISP_V4 + " udp dport " + PORT,
                            "ip6 saddr 2001:db8:1::20 ip6 daddr " + ISP_V6 + " udp dport " + PORT);

            Map<String, Long> open = childBursts(child, meter);
            ks.check("enable");
            Map<String, Long> lanBlocked = childBursts(child, meter);
            ks.check("allow-lan", "on");
            Map<String, Long> lanAllowed = childBursts(child, meter);

            String report = String.format("macvlan child of %s, 25 IPv4 + 25 IPv6 datagrams to the public address (pub) "
                            + "and to the ISP router (lan): before enable %s; enabled, LAN blocked %s; LAN allowed %s",
                    lab.clientPhys(), open, lanBlocked, lanAllowed);
            System.out.println("[link-gate] " + report);
            assertTrue(open.get("pub") > 0, "unguarded contrast: the child's datagrams reach the ISP: " + report);
            assertEquals(0, lanBlocked.get("pub"), "the child's datagrams to the public address while enabled: " + report);
            assertEquals(0, lanBlocked.get("lan"), "the child's datagrams to the LAN while the LAN is blocked: " + report);
            assertEquals(0, lanAllowed.get("pub"), "the child's datagrams to the public address with the LAN allowed: " + report);
            assertTrue(lanAllowed.get("lan") > 0, "the child's datagrams to the LAN pass when it is allowed: " + report);
        } finally {
            Netns.delete(child);
        }
    }

    /** 25 + 25 datagrams from {@code ns} to the public addresses, then to the ISP router; what the meter saw of each. */
    private Map<String, Long> childBursts(String ns, LinkMeter meter) {
        meter.reset();
        FrameSender.udpBurst(ns, PUBLIC_V4, PORT, 25);
        FrameSender.udpBurst(ns, PUBLIC_V6, PORT, 25);
        FrameSender.udpBurst(ns, ISP_V4, PORT, 25);
        FrameSender.udpBurst(ns, ISP_V6, PORT, 25);
        Proc.sleep(100);
        return counts(meter, List.of("pub", "lan"));
    }

    // ---- 3. a bridged guest ----

    @Test
    void aBridgedGuestIsGatedTheSameWithBrNetfilterOffAndOn() throws Exception {
        ks.writeConfig(String.format(LAN_CONFIG, "true") + DNS_OFF
                + "[[endpoint]]\naddress = \"" + PUBLIC_V4 + "\"\nport = " + ENDPOINT_PORT + "\n");
        String c = lab.clientNs();
        String phys = lab.clientPhys();
        String guest = lab.prefix() + "-g";
        Netns.add(guest);
        boolean passed = false;
        try {
            // the usual libvirt/Proxmox layout: the host's addresses on br0, the physical link and the VM's tap its ports
            Netns.ip(c, "link", "add", "br0", "address", FrameSender.mac(c, phys), "type", "bridge", "forward_delay", "0");
            Netns.ip(c, "link", "set", phys, "master", "br0");
            Netns.ip(c, "addr", "flush", "dev", phys, "scope", "global");
            Lab.configureLink(c, "br0", Lab.CLIENT_V4 + "/24", Lab.CLIENT_V6 + "/64");
            Netns.ip(c, "-4", "route", "replace", "default", "via", ISP_V4, "dev", "br0");
            Netns.ip(c, "-6", "route", "replace", "default", "via", ISP_V6, "dev", "br0");
            Netns.sysctl(guest, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
            Netns.ip(guest, "link", "set", "lo", "up");
            Netns.ip(c, "link", "add", "vnet0", "type", "veth", "peer", "name", "eth0", "netns", guest);
            Netns.ip(c, "link", "set", "vnet0", "master", "br0", "up");
            Lab.configureLink(guest, "eth0", "198.51.100.30/24", "2001:db8:1::30/64");
            Netns.ip(guest, "-4", "route", "add", "default", "via", ISP_V4);
            Netns.ip(guest, "-6", "route", "add", "default", "via", ISP_V6);
            Lab.awaitLinkReady(c, "br0");
            Lab.awaitLinkReady(guest, "eth0");
            assertEquals(Probe.Outcome.REPLIED, ping(c, ISP_V4).outcome(), "the host reaches the ISP through br0");
            lab.startUdpSink(PORT);
            LinkMeter meter = LinkMeter.on(lab.ispNs(), lab.ispPhys())
                    .count("guest_pub", "ip saddr 198.51.100.30 ip daddr " + PUBLIC_V4,
                            "ip6 saddr 2001:db8:1::30 ip6 daddr " + PUBLIC_V6)
                    .count("guest_lan", "ip saddr 198.51.100.30 ip daddr " + ISP_V4 + " udp dport " + PORT,
                            "ip6 saddr 2001:db8:1::30 ip6 daddr " + ISP_V6 + " udp dport " + PORT)
                    .count("host_endpoint", "ip saddr " + Lab.CLIENT_V4 + " ip daddr " + PUBLIC_V4 + " udp dport " + ENDPOINT_PORT)
                    .count("host_pub", "ip saddr " + Lab.CLIENT_V4 + " ip daddr " + PUBLIC_V4 + " udp dport " + PORT);

            Map<String, Long> open = new LinkedHashMap<>();
            for (int brnf : new int[] {0, 1}) {
                brNetfilter(brnf);
                meter.reset();
                FrameSender.udpBurst(guest, PUBLIC_V4, PORT, 20);
                FrameSender.udpBurst(guest, PUBLIC_V6, PORT, 20);
                Proc.sleep(100);
                open.put("br_netfilter=" + brnf, meter.packets("guest_pub"));
            }

            ks.check("enable");
            Map<String, Map<String, Object>> gated = new LinkedHashMap<>();
            for (int brnf : new int[] {0, 1}) {
                brNetfilter(brnf);
                meter.reset();
                Map<String, Object> arm = new LinkedHashMap<>();
                FrameSender.udpBurst(guest, PUBLIC_V4, PORT, 20);
                FrameSender.udpBurst(guest, PUBLIC_V6, PORT, 20);
                FrameSender.udpBurst(guest, ISP_V4, PORT, 20);
                FrameSender.udpBurst(guest, ISP_V6, PORT, 20);
                arm.put("guest_ping_lan4", ping(guest, ISP_V4).outcome());
                arm.put("guest_ping_lan6", ping(guest, ISP_V6).outcome());
                Outcome endpoint = FrameSender.udpBurst(c, PUBLIC_V4, ENDPOINT_PORT, 10);
                Outcome hostPub = FrameSender.udpBurst(c, PUBLIC_V4, PORT, 10);
                arm.put("host_ping_lan4", ping(c, ISP_V4).outcome());
                Proc.sleep(100);
                for (String name : List.of("guest_pub", "guest_lan", "host_endpoint", "host_pub")) {
                    arm.put(name, meter.packets(name));
                }
                arm.put("host_endpoint_sender", endpoint.toString());
                arm.put("host_pub_sender", hostPub.toString());
                gated.put("br_netfilter=" + brnf, arm);
            }

            String report = String.format("bridged guest on br0 (ports %s, vnet0), 20 IPv4 + 20 IPv6 datagrams per "
                    + "burst; guest to the public address before enable: %s; enabled with the LAN allowed: %s", phys, open, gated);
            System.out.println("[link-gate] " + report);
            for (String mode : List.of("br_netfilter=0", "br_netfilter=1")) {
                Map<String, Object> arm = gated.get(mode);
                assertTrue(open.get(mode) > 0, "unguarded contrast, " + mode + ": the guest reaches the ISP: " + report);
                assertEquals(0L, arm.get("guest_pub"), mode + ": the guest's datagrams to the public address: " + report);
                assertTrue((Long) arm.get("guest_lan") > 0, mode + ": the guest's datagrams to the allowed LAN: " + report);
                assertEquals(Probe.Outcome.REPLIED, arm.get("guest_ping_lan4"), mode + ": the guest pings the LAN: " + report);
                assertEquals(Probe.Outcome.REPLIED, arm.get("guest_ping_lan6"), mode + ": the guest pings the LAN (IPv6): " + report);
                assertTrue((Long) arm.get("host_endpoint") > 0, mode + ": the host reaches its endpoint through br0: " + report);
                assertEquals(0L, arm.get("host_pub"), mode + ": the host's own datagrams to the public address: " + report);
                assertEquals(Probe.Outcome.REPLIED, arm.get("host_ping_lan4"), mode + ": the host pings the LAN: " + report);
            }
            assertEquals(gated.get("br_netfilter=0").get("guest_lan"), gated.get("br_netfilter=1").get("guest_lan"),
                    "the guest's LAN datagrams: the same count with br_netfilter off and on: " + report);
            passed = true;
        } finally {
            if (!passed) {
                System.out.println("[link-gate] the client's forward chain and bridge ports:\n"
                        + lab.execInClient("nft", "list", "chain", "inet", "killswitch", "forward").output()
                        + lab.execInClient("nft", "list", "set", "inet", "killswitch", "bridge_ports").output());
            }
            Netns.delete(guest);
        }
    }

    /** br_netfilter's calls into the IPv4 and IPv6 hooks for bridged frames, in the client namespace only. */
    private void brNetfilter(int on) {
        Netns.sysctl(lab.clientNs(), "net.bridge.bridge-nf-call-iptables=" + on, "net.bridge.bridge-nf-call-ip6tables=" + on);
    }

    // ---- 4. a link that appears after enable ----

    @Test
    void aLinkThatAppearsAfterEnableIsGatedAndGatedAgainWhenItReturns() throws Exception {
        ks.writeConfig(DNS_OFF);
        String name = lab.prefix() + "u0";
        String peer = lab.prefix() + "u1";
        List<String> kinds = List.of("v4", "v6", "lldp");

        // the contrast: the same link and frames with no kill switch
        long open = framesOnNewLink(name, peer, kinds).get("frames");
        Netns.ip(lab.clientNs(), "link", "del", name);

        ks.check("enable");
        Proc service = ks.startService(true);
        boolean passed = false;
        try {
            Map<String, Long> first = framesOnNewLink(name, peer, kinds);
            Netns.ip(lab.clientNs(), "link", "del", name);
            long goneMs = awaitChain(name, false, Duration.ofSeconds(2));
            Map<String, Long> again = framesOnNewLink(name, peer, kinds);
            String report = String.format("veth %s added after enable, 20 frames of each of %s to its peer: no kill "
                            + "switch %d of 60; enabled, chain egress_%s after %d ms, %d at the peer (dropped_link +%d); "
                            + "deleted (chain gone after %s), added again: chain after %d ms, %d at the peer (dropped_link +%d)",
                    name, kinds, open, name, first.get("chainMs"), first.get("frames"), first.get("dropped"),
                    goneMs < 0 ? "- (still listed 2 s later)" : goneMs + " ms", again.get("chainMs"), again.get("frames"),
                    again.get("dropped"));
            System.out.println("[link-gate] " + report);
            assertTrue(open > 0, "unguarded contrast: frames on the new link reach its peer: " + report);
            assertTrue(first.get("chainMs") >= 0, "chain egress_" + name + " within 5 s of the link: " + report);
            assertEquals(0, first.get("frames"), "frames at the peer of a link added after enable: " + report);
            assertTrue(again.get("chainMs") >= 0, "chain egress_" + name + " within 5 s of the link's return: " + report);
            assertEquals(0, again.get("frames"), "frames at the peer of the link deleted and added again: " + report);
            passed = true;
        } finally {
            if (!passed) System.out.println("[link-gate] the service's log:\n" + service.stderr());
            service.close();
        }
    }

    /**
     * Adds veth {@code name} (client) / {@code peer} (ISP), both up, waits (with the kill switch enabled) for the
     * chain of {@code name}, then writes 20 frames of each kind on it; the frames its peer's meter saw, the ms
     * until the chain was listed (-1: never, or no kill switch) and dropped_link's increase.
     */
    private Map<String, Long> framesOnNewLink(String name, String peer, List<String> kinds) {
        Netns.ip(lab.clientNs(), "link", "add", name, "type", "veth", "peer", "name", peer, "netns", lab.ispNs());
        Netns.ip(lab.ispNs(), "link", "set", peer, "up");
        Netns.ip(lab.clientNs(), "link", "set", name, "up");
        boolean enabled = lab.execInClient("nft", "list", "table", "inet", "killswitch").ok();
        long chainMs = enabled ? awaitChain(name, true, Duration.ofSeconds(5)) : -1;
        Lab.awaitLinkReady(lab.clientNs(), name);
        Lab.awaitLinkReady(lab.ispNs(), peer);
        try (LinkMeter meter = LinkMeter.on(lab.ispNs(), peer)
                .count("frames", "ip daddr " + PUBLIC_V4, "ip6 daddr " + PUBLIC_V6, "ether type 0x88cc")) {
            long droppedBefore = droppedLink();
            FrameSender.send(lab.clientNs(), name, FrameSender.mac(lab.ispNs(), peer), kinds, 20);
            Proc.sleep(100);
            Map<String, Long> out = new LinkedHashMap<>();
            out.put("frames", meter.packets("frames"));
            out.put("chainMs", chainMs);
            out.put("dropped", droppedLink() - droppedBefore);
            return out;
        }
    }

    /** Milliseconds until {@code egress_<name>} is listed ({@code present}) or no longer listed; -1 when not within {@code timeout}. */
    private long awaitChain(String name, boolean present, Duration timeout) {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        while (true) {
            boolean listed = lab.execInClient("nft", "list", "chain", "netdev", "killswitch", "egress_" + name).ok();
            if (listed == present) return (System.nanoTime() - start) / 1_000_000;
            if (System.nanoTime() > deadline) return -1;
            Proc.sleep(20);
        }
    }

    // ---- 5. repair ----

    @Test
    void twentyFlushesOfTheRulesetLetNoPacketAndNoFrameOut() throws Exception {
        ks.writeConfig(DNS_OFF);
        List<String> kinds = List.of("v4", "v6", "lldp");
        lab.startUdpSink(PORT);
        lab.countPlaintextAtIsp("plain", 0);
        lab.countOnPhysicalAtIsp("pacer_ip", "ip daddr " + PUBLIC_V4 + " udp dport " + PORT);
        LinkMeter meter = LinkMeter.on(lab.ispNs(), lab.ispPhys())
                .count("frames", "ip daddr " + PUBLIC_V4, "ip6 daddr " + PUBLIC_V6, "ether type 0x88cc")
                .count("pacer_l2", "ip daddr " + PUBLIC_V4 + " udp dport " + PORT);

        // the contrast: 1 s of the same senders with no kill switch
        PacerRun openPacer = lab.startPacer(PUBLIC_V4, PORT, 5000, 1000);
        Proc openFrames = FrameSender.start(lab.clientNs(), lab.clientPhys(), ispMac, kinds, 300, 1000);
        openPacer.awaitFinish(Duration.ofSeconds(20));
        FrameSender.finish(openFrames, Duration.ofSeconds(20));
        Proc.sleep(100);
        long openPlain = lab.packets("plain");
        long openFrameCount = meter.packets("frames");
        lab.resetCounter("plain");
        lab.resetCounter("pacer_ip");
        meter.reset();

        ks.check("enable");
        Proc service = ks.startService(true);
        boolean passed = false;
        try {
            NmFixture.awaitTrue(() -> lab.execInClient("nft", "list", "table", "inet", "killswitch_guard").ok(),
                    Duration.ofSeconds(10), "the guard table");
            boolean linkGuard = lab.execInClient("nft", "list", "table", "netdev", "killswitch_guard").ok();
            PacerRun pacer = lab.startPacer(PUBLIC_V4, PORT, 5000, 6000);
            Proc frames = lab.startInClient(FrameSender.command(lab.clientPhys(), ispMac, kinds, 0,
                    "--pps", "300", "--duration-ms", "5000"));
            FrameSender.awaitStarted(frames);
            Proc.sleep(300);
            List<Long> backMs = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                lab.execInClient("nft", "flush", "ruleset").orThrow();
                long flushed = System.nanoTime();
                Proc.sleep(150);
                backMs.add(bothTablesListed() ? (System.nanoTime() - flushed) / 1_000_000 : -1);
            }
            boolean back = awaitQuietly(this::bothTablesListed, Duration.ofSeconds(5));
            Map<String, Outcome> sent = FrameSender.finish(frames, Duration.ofSeconds(20));
            PacerRun.Totals totals = pacer.stop();
            Proc.sleep(200);
            long plain = lab.packets("plain");
            long frameCount = meter.packets("frames");
            long pacerIp = lab.packets("pacer_ip");
            long pacerL2 = meter.packets("pacer_l2");
            String report = String.format("20 flushes of the ruleset 150 ms apart, a UDP pacer at 5,000 pps and AF_PACKET "
                            + "frames (300/s each of %s): no kill switch, 1 s: %d packets (IP layer) and %d frames at the "
                            + "ISP; service running: %d packets and %d frames (of them the pacer's: %d packets, %d frames; "
                            + "the rest written by AF_PACKET); netdev guard table held: %s; both tables back "
                            + "at the end: %s; pacer %s; frames %s; per flush, ms from the flush to a check 150 ms later that "
                            + "found both tables listed (-1: not yet): %s", kinds, openPlain, openFrameCount, plain, frameCount, pacerIp, pacerL2, linkGuard, back, totals,
                    sent, backMs);
            System.out.println("[link-gate] " + report);
            assertTrue(openPlain > 0 && openFrameCount > 0, "unguarded contrast: packets and frames reach the ISP: " + report);
            assertEquals(0, plain, "packets at the ISP's IP layer over the 20 flushes: " + report);
            assertEquals(0, frameCount, "frames at the ISP's link over the 20 flushes: " + report);
            assertTrue(linkGuard, "the service holds table netdev killswitch_guard: " + report);
            assertTrue(back, "tables inet and netdev killswitch back after the flushes: " + report);
            assertTrue(totals.eperm() > 0, "the pacer ran under the block: " + report);
            passed = true;
        } finally {
            if (!passed) System.out.println("[link-gate] the service's log:\n" + service.stderr());
            service.close();
        }
    }

    private boolean bothTablesListed() {
        return lab.execInClient("nft", "list", "table", "inet", "killswitch").ok()
                && lab.execInClient("nft", "list", "table", "netdev", "killswitch").ok();
    }

    // ---- 6. DHCP, SLAAC, neighbours ----

    @Test
    void dhcpSlaacAndNeighbourResolutionWorkUnderTheGateWithTheTunnelDownUpAndDownAgain() throws Exception {
        LabSupport.assumeTools("dnsmasq", "busybox");
        // the stand-in tunnel is a veth, which is a tunnel only when the config says so
        ks.writeConfig(String.format(LAN_CONFIG, "false") + DNS_OFF
                + "[tunnel]\ninterfaces = [\"ktun0\"]\nallow_ethernet = true\n");
        String phys = lab.clientPhys();
        String clientMac = FrameSender.mac(lab.clientNs(), phys);
        FakeTunnel tunnel = lab.addFakeTunnel("ktun0");
        LinkMeter meter = LinkMeter.on(lab.ispNs(), lab.ispPhys())
                .count("dhcp_out", "udp sport 68 udp dport 67")
                .count("rs_out", "icmpv6 type nd-router-solicit")
                .count("arp_out", "ether saddr " + clientMac + " ether type arp")
                .count("ns_out", "ether saddr " + clientMac + " icmpv6 type nd-neighbor-solicit");
        LinkMeter viaTunnel = LinkMeter.on(lab.ispNs(), tunnel.ispIf()).count("through", "udp dport " + PORT);
        Path dir = Files.createTempDirectory("ks-gate-dhcp");
        try {
            ks.check("enable");
            lab.startInIsp("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
                    "--interface=" + lab.ispPhys(), "--bind-interfaces", "--dhcp-range=198.51.100.50,198.51.100.60,2m",
                    "--no-ping", "--dhcp-leasefile=" + dir.resolve("leases"), "--pid-file=" + dir.resolve("pid"));
            // a router that answers solicitations only; each phase's bounce of the link makes the kernel solicit
            Proc ra = lab.startInIsp(RaResponder.command(lab.ispPhys(), "2001:db8:7::"));
            RaResponder.awaitReady(ra);
            Netns.sysctl(lab.clientNs(), "net.ipv6.conf." + phys + ".keep_addr_on_down=1");

            List<Phase> phases = new ArrayList<>();
            phases.add(phase("no tunnel", meter, ra));
            ks.check("up", "ktun0");
            lab.defaultRouteVia(tunnel);
            long sent = 0;
            for (int i = 0; i < 5; i++) if (lab.udpSend(PUBLIC_V4, PORT).outcome() == Probe.Outcome.SENT) sent++;
            Proc.sleep(100);
            long flowed = viaTunnel.packets("through");
            phases.add(phase("tunnel ktun0 up", meter, ra));
            ks.check("down", "ktun0");
            lab.defaultRouteViaPhysical();
            phases.add(phase("tunnel withdrawn", meter, ra));

            String report = "under the gate: " + phases + "; with ktun0 up, " + sent + " of 5 datagrams sent, "
                    + flowed + " arrived through it";
            System.out.println("[link-gate] " + report);
            for (Phase p : phases) {
                assertTrue(p.lease() != null, p.name() + ": a DHCP lease under the gate: " + report);
                assertTrue(p.slaac(), p.name() + ": a SLAAC address under the gate: " + report);
                assertEquals(Probe.Outcome.REPLIED, p.ping4(), p.name() + ": the ISP router answers over IPv4: " + report);
                assertEquals(Probe.Outcome.REPLIED, p.ping6(), p.name() + ": the ISP router answers over IPv6: " + report);
                assertTrue(p.arp() > 0 && p.ns() > 0, p.name() + ": neighbours resolved through the gate: " + report);
            }
            assertEquals(5, flowed, "the tunnel's own traffic flows while it is up: " + report);
        } finally {
            Sh.run("rm", "-rf", dir.toString());
        }
    }

    /**
     * What one phase of the DHCP test saw: the leased address (null: none), whether SLAAC configured an address,
     * the milliseconds each took, the pings to the ISP router after the neighbour cache was flushed (the LAN
     * allowed for them), and the frames the meter counted for each.
     */
    private record Phase(String name, String lease, long leaseMs, long dhcpFrames, boolean slaac, long slaacMs,
            long rsFrames, Probe.Outcome ping4, Probe.Outcome ping6, long arp, long ns) {
        @Override
        public String toString() {
            return String.format("%s: DHCP lease %s after %d ms (%d DHCP frames at the ISP), SLAAC %s after %d ms "
                            + "(%d RS), ping %s %s, ping %s %s (ARP %d, NS %d)", name,
                    lease == null ? "NOT obtained" : lease, leaseMs, dhcpFrames, slaac ? "configured" : "NOT configured",
                    slaacMs, rsFrames, ISP_V4, ping4, ISP_V6, ping6, arp, ns);
        }
    }

    /**
     * A lease from the ISP's dnsmasq (busybox udhcpc writes its DISCOVER and REQUEST with a packet socket, below
     * the inet table), a SLAAC address after the link's global addresses are removed and the link bounced, and
     * neighbour resolution with the cache flushed and the LAN allowed (then refused again).
     */
    private Phase phase(String name, LinkMeter meter, Proc ra) throws Exception {
        String phys = lab.clientPhys();
        meter.reset();
        long leaseStart = System.nanoTime();
        Sh.Result lease = lab.execInClient(Duration.ofSeconds(30), "busybox", "udhcpc", "-i", phys, "-n", "-q",
                "-t", "8", "-T", "1", "-s", "/bin/true");
        long leaseMs = NmFixture.ms(leaseStart);
        Matcher leased = Pattern.compile("lease of (198\\.51\\.100\\.\\d+) obtained").matcher(lease.output());
        String address = lease.ok() && leased.find() ? leased.group(1) : null;

        Netns.ip(lab.clientNs(), "-6", "addr", "flush", "dev", phys, "scope", "global", "to", "2001:db8:7::/64");
        long slaacStart = System.nanoTime();
        Netns.ip(lab.clientNs(), "link", "set", phys, "down");
        Netns.ip(lab.clientNs(), "link", "set", phys, "up");
        boolean slaac = awaitQuietly(() -> Netns.ip(lab.clientNs(), "-6", "addr", "show", "dev", phys, "scope", "global")
                .stdout().contains("inet6 2001:db8:7:"), Duration.ofSeconds(5));
        long slaacMs = NmFixture.ms(slaacStart);
        Lab.awaitLinkReady(lab.clientNs(), phys);
        long dhcpFrames = meter.packets("dhcp_out");
        long rsFrames = meter.packets("rs_out");
        if (!slaac) System.out.println("[link-gate] " + name + ": the RA responder: " + ra.stdout().replace('\n', ';'));

        ks.check("allow-lan", "on");
        meter.reset();
        Netns.ip(lab.clientNs(), "neigh", "flush", "dev", phys);
        Probe ping4 = ping(lab.clientNs(), ISP_V4);
        Probe ping6 = ping(lab.clientNs(), ISP_V6);
        Proc.sleep(100);
        long arp = meter.packets("arp_out");
        long ns = meter.packets("ns_out");
        ks.check("allow-lan", "off");
        return new Phase(name, address, leaseMs, dhcpFrames, slaac, slaacMs, rsFrames, ping4.outcome(),
                ping6.outcome(), arp, ns);
    }

    // ---- helpers ----

    private Map<String, Outcome> sendOnPhys(List<String> kinds, int count) {
        return FrameSender.send(lab.clientNs(), lab.clientPhys(), ispMac, kinds, count);
    }

    private static Map<String, Long> counts(LinkMeter meter, List<String> names) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String name : names) out.put(name, meter.packets(name));
        return out;
    }

    private static Map<String, Long> zeros(List<String> names) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String name : names) out.put(name, 0L);
        return out;
    }

    /** A ping from {@code ns} that may take a few tries (a neighbour being resolved); the last outcome. */
    private static Probe ping(String ns, String addr) {
        Probe p = Probes.ping(ns, addr);
        for (int i = 0; i < 4 && p.outcome() != Probe.Outcome.REPLIED; i++) p = Probes.ping(ns, addr);
        return p;
    }

    private static boolean awaitQuietly(java.util.function.BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) return false;
            Proc.sleep(50);
        }
        return true;
    }

    /** The gate's {@code dropped_link} counter in the client namespace; 0 when there is none. */
    private long droppedLink() {
        Sh.Result r = lab.execInClient("nft", "-j", "list", "counter", "netdev", "killswitch", "dropped_link");
        if (!r.ok()) return 0;
        try {
            for (JsonNode item : JSON.readTree(r.stdout()).path("nftables")) {
                if (item.has("counter")) return item.get("counter").path("packets").asLong();
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException(r.describe(), e);
        }
        return 0;
    }
}
