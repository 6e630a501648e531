package dev.killswitch.lab;

import static dev.killswitch.lab.Lab.ISP_V4;
import static dev.killswitch.lab.Lab.PUBLIC_V4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.killswitch.cli.Main;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code explain} against the kernel: for each packet, what explain names (the rule and its counter) is what the
 * kernel's table did with a real packet sent right after; and {@code status} names what stops traffic (routes
 * around a granted tunnel, VPN links not granted, no tunnel) read from the lab's real routes and links.
 */
class ExplainLabTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SINK = 9999;
    private static final int ENDPOINT_PORT = 51820;
    @RegisterExtension
    final LabRig rig = new LabRig();
    private Lab lab;
    private KsCli ks;

    @BeforeEach
    void setUp() throws Exception {
        lab = rig.lab();
        ks = rig.ks();
        // the physical subnet is the LAN here: the ISP's router 198.51.100.1 stands for the LAN's
        ks.writeConfig("""
                [[endpoint]]
                address = "%s"
                port = %d
                protocol = "udp"

                [lan]
                allow = false
                networks = ["198.51.100.0/24"]

                [dns]
                servers = ["10.64.0.1"]
                mode = "off"
                """.formatted(PUBLIC_V4, ENDPOINT_PORT));
        lab.startUdpSink(SINK);
        lab.startUdpSink(ENDPOINT_PORT);
    }

    /** One packet: how to send it, and what reaching the ISP looks like (an nft match at its prerouting). */
    private record Case(String name, List<String> explainArgs, Supplier<Probe> send, String ispMatch) {}

    @Test
    void theCounterExplainNamesIsTheOneTheRealPacketMoves() throws Exception {
        ks.check("enable");
        String phys = lab.clientPhys();
        List<Case> cases = List.of(
                new Case("endpoint", List.of(PUBLIC_V4, "" + ENDPOINT_PORT, "udp"), () -> lab.udpSend(PUBLIC_V4, ENDPOINT_PORT),
                        "ip daddr " + PUBLIC_V4 + " udp dport " + ENDPOINT_PORT),
                new Case("dns_udp", List.of(ISP_V4, "53"), () -> lab.udpSend(ISP_V4, 53), "ip daddr " + ISP_V4 + " udp dport 53"),
                new Case("dns_tcp", List.of(ISP_V4, "853", "tcp"), () -> lab.tcpConnect(ISP_V4, 853, 1000),
                        "ip daddr " + ISP_V4 + " tcp dport 853"),
                new Case("plain_udp", List.of(PUBLIC_V4, "" + SINK, "udp"), () -> lab.udpSend(PUBLIC_V4, SINK),
                        "ip daddr " + PUBLIC_V4 + " udp dport " + SINK),
                new Case("plain_tcp", List.of(PUBLIC_V4, "443", "tcp"), () -> lab.tcpConnect(PUBLIC_V4, 443, 1000),
                        "ip daddr " + PUBLIC_V4 + " tcp dport 443"),
                new Case("lan_blocked", List.of(ISP_V4, "" + SINK), () -> lab.udpSend(ISP_V4, SINK),
                        "ip daddr " + ISP_V4 + " udp dport " + SINK));
        Map<String, String> expected = Map.of(
                "endpoint", "allowed: endpoint 203.0.113.5 udp/51820",
                "dns_udp", "dropped: DNS only to the tunnels' resolvers (counter dropped_dns)",
                "dns_tcp", "refused with a TCP reset: DNS only to the tunnels' resolvers (counter dropped_dns)",
                "plain_udp", "refused: nothing allows it (counter dropped_out)",
                "plain_tcp", "refused: nothing allows it (counter dropped_out); TCP gets a reset",
                "lan_blocked", "refused: nothing allows it (counter dropped_out)");
        List<String> report = new ArrayList<>();
        for (Case c : cases) report.add(check(c, phys, expected.get(c.name())));

        ks.check("allow-lan", "on");
        report.add(check(new Case("lan_allowed", List.of(ISP_V4, "" + SINK), () -> lab.udpSend(ISP_V4, SINK),
                "ip daddr " + ISP_V4 + " udp dport " + SINK), phys, "allowed: the LAN 198.51.100.0/24 (allow-lan on)"));
        // the LAN allowance comes after the DNS refusal: the LAN router still gets no query
        report.add(check(new Case("lan_dns", List.of(ISP_V4, "53"), () -> lab.udpSend(ISP_V4, 53),
                "ip daddr " + ISP_V4 + " udp dport 53 "), phys, "dropped: DNS only to the tunnels' resolvers (counter dropped_dns)"));
        System.out.println("[explain lab]\n  " + String.join("\n  ", report));
    }

    /**
     * Asks explain (--json), sends the packet, and checks: an allowance let it reach the ISP and moved no drop
     * counter; a drop moved the counter explain named, not the other, and nothing reached the ISP.
     */
    private String check(Case c, String phys, String summary) throws Exception {
        List<String> args = new ArrayList<>(List.of("explain", "--json"));
        args.addAll(c.explainArgs());
        Sh.Result r = ks.run(args.toArray(String[]::new));
        JsonNode x = JSON.readTree(r.stdout());
        assertEquals(summary, x.path("summary").asText(), c.name() + ": " + r.describe());
        assertEquals(phys, x.path("interface").asText(), c.name() + ": the route's interface");
        boolean allowed = x.path("outcome").asText().equals("allowed");
        assertEquals(allowed ? Main.OK : Main.CHECK_FAILED, r.exitCode(), c.name() + ": " + r.describe());
        assertTrue(x.path("kernel_matches_config").asBoolean(), r.describe());

        lab.countOnPhysicalAtIsp(c.name(), c.ispMatch());
        long out = kernelCounter("dropped_out");
        long dns = kernelCounter("dropped_dns");
        Probe probe = c.send().get();
        Proc.sleep(200);
        long outAfter = kernelCounter("dropped_out") - out;
        long dnsAfter = kernelCounter("dropped_dns") - dns;
        long atIsp = lab.packets(c.name());
        String seen = c.name() + ": explain said '" + summary + "'; the probe " + probe.outcome() + ", dropped_out +" + outAfter
                + ", dropped_dns +" + dnsAfter + ", at the ISP " + atIsp;
        if (allowed) {
            assertTrue(atIsp >= 1, seen);
            assertEquals(0, outAfter + dnsAfter, seen);
        } else {
            String counter = x.path("counter").asText();
            assertTrue((counter.equals("dropped_out") ? outAfter : dnsAfter) >= 1, seen);
            assertEquals(0, counter.equals("dropped_out") ? dnsAfter : outAfter, seen);
            assertEquals(0, atIsp, seen);
            Probe.Outcome expected = x.path("protocol").asText().equals("tcp") ? Probe.Outcome.REFUSED : Probe.Outcome.EPERM;
            assertEquals(expected, probe.outcome(), seen + " (a TCP reset reads as 'connection refused'): " + probe.detail());
        }
        return seen;
    }

    private long kernelCounter(String name) throws Exception {
        Sh.Result r = lab.execInClient("nft", "-j", "list", "counter", "inet", "killswitch", name).orThrow();
        for (JsonNode item : JSON.readTree(r.stdout()).path("nftables")) {
            if (item.has("counter")) return item.get("counter").path("packets").asLong();
        }
        throw new AssertionError("no counter " + name + ": " + r.describe());
    }

    private JsonNode status(int exitCode) throws Exception {
        Sh.Result r = ks.run("status", "--json");
        assertEquals(exitCode, r.exitCode(), r.describe());
        return JSON.readTree(r.stdout());
    }

    private static List<String> kinds(JsonNode status) {
        List<String> kinds = new ArrayList<>();
        status.path("blocking").forEach(f -> kinds.add(f.path("kind").asText()));
        return kinds;
    }

    @Test
    void statusSaysNoTunnelIsGranted() throws Exception {
        ks.check("enable");
        JsonNode s = status(Main.OK);
        assertEquals(List.of("no-tunnel"), kinds(s), s.toString());
        assertTrue(s.path("blocking").get(0).path("text").asText().startsWith("no tunnel granted"), s.toString());
        assertEquals(lab.clientPhys(), s.path("default_routes").path("ipv4").path("interface").asText(), s.toString());
        Sh.Result text = ks.run("status");
        assertTrue(text.stdout().contains("  blocking:   - no tunnel granted"), text.stdout());
    }

    /**
     * TunnelVision (CVE-2024-3661) against a wg-quick style full tunnel: the tunnel's table and rules, then a
     * DHCP server's 0.0.0.0/1 and 128.0.0.0/1 via the physical link. The block drops what they carry; status
     * (still exit 0: the kernel holds the config) names both routes, and explain and the kernel agree on it.
     * Then a second VPN link, up and not granted.
     */
    @Test
    void statusNamesRoutesAroundTheTunnelAndVpnLinksNotGranted() throws Exception {
        ks.check("enable");
        String phys = lab.clientPhys();
        // the "tunnel": a tun device (no process behind it: nothing needs to pass it here), routed as wg-quick does
        lab.execInClient("ip", "tuntap", "add", "dev", "wg0", "mode", "tun").orThrow();
        lab.execInClient("ip", "link", "set", "wg0", "up").orThrow();
        for (String family : List.of("-4", "-6")) {
            lab.execInClient("ip", family, "route", "add", "default", "dev", "wg0", "table", "51820").orThrow();
            lab.execInClient("ip", family, "rule", "add", "not", "fwmark", "51820", "table", "51820").orThrow();
            lab.execInClient("ip", family, "rule", "add", "table", "main", "suppress_prefixlength", "0").orThrow();
        }
        ks.check("up", "wg0");
        JsonNode before = status(Main.OK);
        assertEquals(List.of(), kinds(before), before.toString());
        assertTrue(before.path("default_routes").path("ipv4").path("through_tunnel").asBoolean(), before.toString());

        lab.execInClient("ip", "-4", "route", "add", "0.0.0.0/1", "via", ISP_V4, "dev", phys).orThrow();
        lab.execInClient("ip", "-4", "route", "add", "128.0.0.0/1", "via", ISP_V4, "dev", phys).orThrow();
        JsonNode s = status(Main.OK);
        assertEquals(List.of("route-around-tunnel", "route-around-tunnel"), kinds(s), s.toString());
        for (int i = 0; i < 2; i++) {
            JsonNode f = s.path("blocking").get(i);
            assertEquals(i == 0 ? "0.0.0.0/1" : "128.0.0.0/1", f.path("prefix").asText(), f.toString());
            assertEquals(phys, f.path("interface").asText(), f.toString());
            assertEquals(ISP_V4, f.path("via").asText(), f.toString());
        }
        Sh.Result text = ks.run("status");
        assertTrue(text.stdout().contains("route 0.0.0.0/1 via " + ISP_V4 + " dev " + phys + " sends traffic around the tunnel"),
                text.stdout());
        assertTrue(text.stdout().contains("kernel:     matches the config"), text.stdout());
        System.out.println("[status lab] TunnelVision:\n" + text.stdout());

        // what the routes carry: explain names the physical link and the refusal, and the kernel counts it there
        Sh.Result x = ks.run("explain", PUBLIC_V4, "" + SINK);
        assertEquals(Main.CHECK_FAILED, x.exitCode(), x.describe());
        assertTrue(x.stdout().contains("via " + phys) && x.stdout().contains("refused: nothing allows it (counter dropped_out)"),
                x.stdout());
        System.out.println("[explain lab] " + x.stdout());
        lab.countPlaintextAtIsp("plain", 0);
        long out = kernelCounter("dropped_out");
        lab.udpSend(PUBLIC_V4, SINK);
        Proc.sleep(200);
        assertTrue(kernelCounter("dropped_out") > out, "dropped_out counted the packet the /1 route sent to " + phys);
        assertEquals(0, lab.packets("plain"), "nothing reached the ISP");

        // a second VPN link, up and not granted
        lab.execInClient("ip", "tuntap", "add", "dev", "tun7", "mode", "tun").orThrow();
        lab.execInClient("ip", "link", "set", "tun7", "up").orThrow();
        JsonNode second = status(Main.OK);
        assertEquals(List.of("route-around-tunnel", "route-around-tunnel", "vpn-link-not-granted"), kinds(second), second.toString());
        JsonNode f = second.path("blocking").get(2);
        assertEquals("tun7", f.path("interface").asText());
        assertTrue(f.path("text").asText().startsWith("tun7 (tun) is up but not granted"), f.toString());
    }
}
