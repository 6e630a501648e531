package dev.killswitch.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Network;
import dev.killswitch.config.Protocol;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The link-level gate's chain against the output chain it mirrors, and how {@code explain} reads it. */
class GateRuleTest {
    private static final Gate GATE = new Gate(List.of("eth0", "tun-lab"), List.of("tun-lab"), List.of());

    private static Policy policy(boolean lan, Duration pause, List<String> granted) {
        return new Policy(new TreeSet<>(granted),
                List.of(new Endpoint(ip("203.0.113.9"), Protocol.UDP, 51820), new Endpoint(ip("2001:db8::10"), Protocol.TCP, 1194),
                        new Endpoint(ip("203.0.113.53"), Protocol.UDP, 53)),
                lan ? List.of(Network.parse("192.168.0.0/16"), Network.parse("fe80::/10")) : List.of(),
                List.of(ip("10.64.0.1")), List.of(22), pause).withGate(GATE);
    }

    private static IpAddress ip(String s) {
        return IpAddress.parse(s);
    }

    /** Every kind of packet the output chain tells apart, leaving by {@code link}. */
    private static List<Packet> packets(String link) {
        List<Packet> all = new ArrayList<>();
        for (String to : List.of("203.0.113.9", "203.0.113.53", "2001:db8::10", "192.168.1.5", "198.51.100.1", "10.64.0.1",
                "255.255.255.255", "ff02::1:2", "fe80::1", "203.0.113.5")) {
            all.add(Packet.to(ip(to), null, null, link));
            for (Protocol p : Protocol.values()) {
                for (int port : List.of(53, 853, 67, 547, 1194, 51820, 9999)) {
                    all.add(Packet.to(ip(to), p, port, link));
                    for (int from : List.of(22, 68, 546)) all.add(new Packet(ip(to), p, port, from, link));
                }
            }
        }
        return all;
    }

    @Test
    void onAGatedPhysicalLinkTheGateLetsOutExactlyWhatTheOutputChainLetsOut() {
        int allowed = 0;
        for (Policy p : List.of(policy(false, null, List.of()), policy(true, null, List.of("wg0")),
                policy(false, Duration.ofSeconds(30), List.of()))) {
            for (Packet k : packets("eth0")) {
                boolean output = Explain.decide(p, k).allowed();
                Explain.LinkVerdict gate = Explain.decideAtLink(p, k);
                assertEquals(output, gate.allowed(), k.describe() + " lan=" + p.lanAllowed() + " pause=" + p.pause() + ": "
                        + Explain.decide(p, k).summary() + " / " + gate.summary());
                if (output) allowed++;
            }
        }
        assertTrue(allowed > 100, "the comparison saw allowances too: " + allowed);
    }

    @Test
    void aFrameWrittenBelowIpIsJudgedByTheGateAndNamesItsRule() {
        Policy p = policy(false, null, List.of());
        Explain.LinkVerdict raw = Explain.decideAtLink(p, Packet.to(ip("203.0.113.5"), Protocol.UDP, 9999, "eth0"));
        assertFalse(raw.allowed());
        assertEquals("refused", raw.rule());
        assertEquals("the link-level gate on eth0 drops it: nothing lets it out of a physical link (counter dropped_link)", raw.summary());
        Explain.LinkVerdict dns = Explain.decideAtLink(policy(true, null, List.of()), Packet.to(ip("192.168.1.1"), Protocol.UDP, 53, "eth0"));
        assertEquals("the link-level gate on eth0 drops it: DNS never leaves by a physical link (counter dropped_link)", dns.summary());
        Explain.LinkVerdict endpoint = Explain.decideAtLink(p, Packet.to(ip("203.0.113.9"), Protocol.UDP, 51820, "eth0"));
        assertEquals("the link-level gate on eth0 lets it out: endpoint 203.0.113.9 udp/51820", endpoint.summary());
    }

    @Test
    void aLinkWithoutAGatePassesAndAGrantedTunnelPassesItsOwnGate() {
        Policy p = policy(false, null, List.of("tun-lab"));
        Explain.LinkVerdict wg = Explain.decideAtLink(p, Packet.to(ip("203.0.113.5"), Protocol.UDP, 9999, "wg0"));
        assertTrue(wg.allowed());
        assertFalse(wg.gated());
        Explain.LinkVerdict tunnel = Explain.decideAtLink(p, Packet.to(ip("203.0.113.5"), Protocol.UDP, 9999, "tun-lab"));
        assertEquals("tunnel", tunnel.rule());
        assertTrue(tunnel.allowed());
        Explain.LinkVerdict notGranted = Explain.decideAtLink(policy(false, null, List.of()),
                Packet.to(ip("203.0.113.5"), Protocol.UDP, 9999, "tun-lab"));
        assertFalse(notGranted.allowed(), "named like a tunnel, but not granted: " + notGranted.summary());
        Packet out = Packet.to(ip("203.0.113.5"), Protocol.UDP, 9999, "eth0");
        Gate loadedWithTheGrant = new Gate(List.of("eth0", "tun-lab"), List.of("eth0", "tun-lab"), List.of());
        Explain.LinkVerdict grantedByUp = Explain.decideAtLink(policy(false, null, List.of("eth0")).withGate(loadedWithTheGrant), out);
        assertTrue(grantedByUp.allowed(), "a link loaded as granted with 'up' carries traffic: " + grantedByUp.summary());
        Explain.LinkVerdict chainWithoutTheTest = Explain.decideAtLink(policy(false, null, List.of("eth0")), out);
        assertFalse(chainWithoutTheTest.allowed(), "an egress chain loaded without the grant's test drops it, as the kernel "
                + "would: " + chainWithoutTheTest.summary());
    }

    @Test
    void theGateDecidesTheTunnelsTransportFirstByItsEthernetHeaderThenDropsMislabelledFrames() {
        List<GateRule> order = List.of(GateRule.values());
        assertEquals(List.of(GateRule.ENDPOINTS4, GateRule.ENDPOINTS6, GateRule.MISLABELLED4, GateRule.MISLABELLED6,
                GateRule.ARP), order.subList(0, 5));
        assertEquals("ether type ip ip daddr . meta l4proto . th dport @endpoints4 accept", GateRule.ENDPOINTS4.rule().nft());
        assertEquals("ether type ip6 ip6 daddr . meta l4proto . th dport @endpoints6 accept", GateRule.ENDPOINTS6.rule().nft());
        assertEquals("meta protocol ip ether type != ip counter name \"dropped_link\" drop", GateRule.MISLABELLED4.rule().nft());
        assertEquals("ether type arp accept", GateRule.ARP.rule().nft());
        assertEquals("counter name \"dropped_link\" drop", GateRule.REFUSED.rule().nft());
        for (GateRule r : GateRule.values()) {
            String nft = r.rule().nft();
            assertFalse(nft.contains("oifname") || nft.contains("nfproto") || nft.contains("ct "),
                    "a netdev chain cannot use this (or never sees it on a gated link): " + nft);
        }
    }
}
