package dev.killswitch.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Network;
import dev.killswitch.config.Protocol;
import java.time.Duration;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ExplainTest {
    private static final Protocol UDP = Protocol.UDP;
    private static final Protocol TCP = Protocol.TCP;

    private static Policy policy(boolean lan, Duration pause) {
        return new Policy(new TreeSet<>(List.of("wg0", "tun*")),
                List.of(new Endpoint(ip("203.0.113.9"), UDP, 51820), new Endpoint(ip("2001:db8::10"), TCP, 1194),
                        new Endpoint(ip("203.0.113.53"), UDP, 53)),
                lan ? List.of(Network.parse("192.168.0.0/16"), Network.parse("fe80::/10")) : List.of(),
                List.of(ip("10.64.0.1"), ip("fd00::53")), List.of(22), pause);
    }

    private static final Policy POLICY = policy(false, null);
    private static final Policy WITH_LAN = policy(true, null);
    private static final Policy NOTHING = new Policy(new TreeSet<>(), List.of(), List.of(), List.of(), List.of(), null);

    private static IpAddress ip(String s) {
        return IpAddress.parse(s);
    }

    private static Explain.Verdict decide(Policy p, String to, Protocol proto, Integer port, String via) {
        return Explain.decide(p, Packet.to(ip(to), proto, port, via));
    }

    @Test
    void theBriefsThreeExamplesReadAsTheRulesetSaysThem() {
        assertEquals("allowed: endpoint 203.0.113.9 udp/51820", decide(POLICY, "203.0.113.9", UDP, 51820, "eth0").summary());
        assertEquals("dropped: DNS only to the tunnels' resolvers (counter dropped_dns)",
                decide(POLICY, "198.51.100.1", UDP, 53, "eth0").summary());
        assertEquals("refused: nothing allows it (counter dropped_out)", decide(POLICY, "203.0.113.5", UDP, 9999, "eth0").summary());
    }

    @Test
    void loopbackComesFirstEvenForDns() {
        Explain.Verdict v = decide(POLICY, "127.0.0.53", UDP, 53, "lo");
        assertEquals(OutputRule.LOOPBACK, v.rule());
        assertTrue(v.allowed());
    }

    @Test
    void aPauseAllowsEverythingAfterLoopback() {
        Explain.Verdict v = decide(policy(false, Duration.ofSeconds(90)), "198.51.100.1", UDP, 53, "eth0");
        assertEquals(OutputRule.PAUSE, v.rule());
        assertEquals("allowed: the block is paused (90 s left; 'killswitch resume' ends it)", v.summary());
    }

    @Test
    void anEndpointIsExactlyAddressProtocolAndPort() {
        assertEquals(OutputRule.ENDPOINTS6, decide(POLICY, "2001:db8::10", TCP, 1194, "eth0").rule());
        Explain.Verdict wrongPort = decide(POLICY, "203.0.113.9", UDP, 51821, "eth0");
        assertEquals(OutputRule.REFUSED, wrongPort.rule());
        assertTrue(wrongPort.hints().contains("203.0.113.9 is an endpoint for udp/51820 only"), wrongPort.hints().toString());
        assertEquals(OutputRule.REFUSED, decide(POLICY, "203.0.113.9", TCP, 51820, "eth0").rule());
        assertEquals(OutputRule.REFUSED, decide(POLICY, "203.0.113.9", null, null, "eth0").rule(), "a ping to an endpoint");
    }

    @Test
    void anEndpointOnPort53ComesBeforeTheDnsRules() {
        assertEquals(OutputRule.ENDPOINTS4, decide(POLICY, "203.0.113.53", UDP, 53, "eth0").rule());
        assertEquals(OutputRule.DNS_REFUSED, decide(POLICY, "203.0.113.53", TCP, 53, "eth0").rule());
    }

    @Test
    void dnsGoesOnlyToTheTunnelsResolversThroughATunnel() {
        Explain.Verdict ok = decide(POLICY, "10.64.0.1", UDP, 53, "wg0");
        assertEquals(OutputRule.DNS4, ok.rule());
        assertEquals("allowed: DNS to the tunnels' resolver 10.64.0.1 through tunnel wg0", ok.summary());
        assertEquals(OutputRule.DNS6, decide(POLICY, "fd00::53", TCP, 853, "tun3").rule());
        Explain.Verdict outside = decide(POLICY, "10.64.0.1", UDP, 53, "eth0");
        assertEquals(OutputRule.DNS_REFUSED, outside.rule());
        assertTrue(outside.hints().get(0).contains("through eth0, which is not a granted tunnel"), outside.hints().toString());
        Explain.Verdict stray = decide(POLICY, "198.51.100.77", UDP, 853, "wg0");
        assertEquals(OutputRule.DNS_REFUSED, stray.rule(), "before the tunnel allowance");
        assertEquals("dropped_dns", stray.counter());
        assertEquals(Explain.Outcome.DROPPED, stray.outcome());
    }

    @Test
    void tcpRefusalsGetAReset() {
        Explain.Verdict dns = decide(POLICY, "198.51.100.1", TCP, 53, "eth0");
        assertEquals(Explain.Outcome.RESET, dns.outcome());
        assertEquals("refused with a TCP reset: DNS only to the tunnels' resolvers (counter dropped_dns)", dns.summary());
        Explain.Verdict plain = decide(POLICY, "203.0.113.5", TCP, 443, "eth0");
        assertEquals(Explain.Outcome.RESET, plain.outcome());
        assertEquals("refused: nothing allows it (counter dropped_out); TCP gets a reset", plain.summary());
        assertEquals(Explain.Outcome.DROPPED, decide(POLICY, "203.0.113.5", null, null, "eth0").outcome());
    }

    @Test
    void aTunnelByNameOrPattern() {
        assertEquals("allowed: through tunnel wg0", decide(POLICY, "203.0.113.5", TCP, 443, "wg0").summary());
        assertEquals("allowed: through tunnel tun3 (granted as \"tun*\")", decide(POLICY, "2001:db8::5", null, null, "tun3").summary());
        assertEquals(OutputRule.REFUSED, decide(POLICY, "203.0.113.5", TCP, 443, "wg1").rule());
    }

    @Test
    void dhcpOnlyFromTheClientPortsToWhereTheProtocolSends() {
        Explain.Verdict dhcp = Explain.decide(POLICY, new Packet(ip("255.255.255.255"), UDP, 67, 68, "eth0"));
        assertEquals(OutputRule.DHCP4, dhcp.rule());
        assertEquals(OutputRule.REFUSED, Explain.decide(POLICY, new Packet(ip("198.51.100.1"), UDP, 67, 68, "eth0")).rule(),
                "a renewal to the server itself needs the LAN");
        assertEquals(OutputRule.REFUSED, decide(POLICY, "255.255.255.255", UDP, 67, "eth0").rule(), "from an ephemeral port");
        assertEquals(OutputRule.DHCP6, Explain.decide(POLICY, new Packet(ip("ff02::1:2"), UDP, 547, 546, "eth0")).rule());
        assertEquals(OutputRule.REFUSED, Explain.decide(POLICY, new Packet(ip("2001:db8::1"), UDP, 547, 546, "eth0")).rule());
    }

    @Test
    void repliesFromAnInboundPort() {
        Explain.Verdict ssh = Explain.decide(POLICY, new Packet(ip("203.0.113.5"), TCP, 50123, 22, "eth0"));
        assertEquals(OutputRule.INBOUND_REPLIES, ssh.rule());
        assertEquals(OutputRule.REFUSED, Explain.decide(POLICY, new Packet(ip("203.0.113.5"), UDP, 50123, 22, "eth0")).rule());
    }

    @Test
    void theLanWhenAllowedButNeverItsDns() {
        assertEquals(OutputRule.REFUSED, decide(POLICY, "192.168.1.5", TCP, 80, "eth0").rule());
        Explain.Verdict lan = decide(WITH_LAN, "192.168.1.5", TCP, 80, "eth0");
        assertEquals("allowed: the LAN 192.168.0.0/16 (allow-lan on)", lan.summary());
        assertEquals(OutputRule.LAN6, decide(WITH_LAN, "fe80::1", UDP, 5353, "eth0").rule());
        assertEquals(OutputRule.DNS_REFUSED, decide(WITH_LAN, "192.168.1.1", UDP, 53, "eth0").rule());
    }

    @Test
    void aLinkToWhatIsBehindThisMachineButNotItsDns() {
        Downstream behind = new Downstream(new TreeSet<>(List.of("eth1", "lan*")), new TreeSet<>(List.of("eth1")),
                List.of(), List.of(), List.of(), List.of());
        Policy p = new Policy(new TreeSet<>(List.of("wg0")), List.of(), List.of(), List.of(), List.of(), null, behind);
        assertEquals("allowed: to eth1, behind this machine (gateway LAN side or guests' bridge)",
                decide(p, "192.168.10.5", TCP, 80, "eth1").summary());
        Explain.Verdict guest = decide(p, "192.168.122.5", null, null, "lan0");
        assertEquals(OutputRule.DOWNSTREAM, guest.rule());
        assertEquals("allowed: to lan0, behind this machine (gateway LAN side or guests' bridge \"lan*\")", guest.summary());
        assertEquals(OutputRule.DNS_REFUSED, decide(p, "192.168.10.1", UDP, 53, "eth1").rule(), "before the downstream allowance");
    }

    @Test
    void noTunnelSaysSo() {
        Explain.Verdict v = decide(NOTHING, "203.0.113.5", UDP, 9999, "eth0");
        assertEquals(List.of("eth0 is not a granted tunnel (no tunnel is granted)"), v.hints());
    }

    @Test
    void noRouteIsNotAFirewallDecision() {
        Explain.Verdict v = decide(POLICY, "203.0.113.5", UDP, 9999, null);
        assertNull(v.rule());
        assertNull(v.counter());
        assertEquals(Explain.Outcome.NOT_ROUTED, v.outcome());
    }

    @Test
    void packetsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> Packet.to(ip("203.0.113.5"), UDP, 0, "eth0"));
        assertThrows(IllegalArgumentException.class, () -> Packet.to(ip("203.0.113.5"), UDP, 65536, "eth0"));
        assertThrows(IllegalArgumentException.class, () -> Packet.to(ip("203.0.113.5"), UDP, null, "eth0"));
        assertThrows(IllegalArgumentException.class, () -> Packet.to(ip("203.0.113.5"), null, 53, "eth0"));
        assertThrows(IllegalArgumentException.class, () -> Packet.to(ip("203.0.113.5"), UDP, 53, "eth0; rm"));
        assertThrows(IllegalArgumentException.class, () -> new Packet(ip("203.0.113.5"), null, null, 68, "eth0"));
    }
}
