package dev.killswitch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class TunnelLinksTest {
    private static final TunnelLinks.Link ETH0 = new TunnelLinks.Link("eth0", 1, false, "");
    private static final TunnelLinks.Link WLAN0 = new TunnelLinks.Link("wlan0", 1, false, "wlan");
    private static final TunnelLinks.Link VETH = new TunnelLinks.Link("veth-vpn", 1, false, "");
    private static final TunnelLinks.Link BRIDGE = new TunnelLinks.Link("br0", 1, false, "bridge");
    private static final TunnelLinks.Link IB0 = new TunnelLinks.Link("ib0", 32, false, "");
    private static final TunnelLinks.Link WG0 = new TunnelLinks.Link("wg0", 65534, false, "wireguard");
    private static final TunnelLinks.Link TUN0 = new TunnelLinks.Link("tun0", 65534, true, "");
    private static final TunnelLinks.Link TAP0 = new TunnelLinks.Link("tap0", 1, true, "");
    private static final TunnelLinks.Link PPP0 = new TunnelLinks.Link("ppp0", 512, false, "");
    private static final TunnelLinks.Link LO = new TunnelLinks.Link("lo", 772, false, "");
    private static final List<TunnelLinks.Link> LAPTOP = List.of(LO, ETH0, WLAN0, WG0, TUN0, TAP0, PPP0, BRIDGE, VETH, IB0);

    private static Config config(boolean allowEthernet, String... patterns) {
        Config d = Config.safeDefault();
        return new Config(Path.of("/etc/killswitch/killswitch.toml"), List.of(patterns), allowEthernet, List.of(), false,
                d.lanNetworks(), false, List.of(), d.dnsMode(), d.dnsOverTls(), List.of());
    }

    @Test
    void networkCardsAreNoTunnelsAndTunTapWireGuardAndPppAre() {
        for (TunnelLinks.Link l : List.of(ETH0, WLAN0, VETH, BRIDGE, IB0)) assertTrue(l.isNotATunnel(), l.toString());
        for (TunnelLinks.Link l : List.of(WG0, TUN0, TAP0, PPP0, LO)) assertFalse(l.isNotATunnel(), l.toString());
    }

    @Test
    void patternsMatchAsNftsOifnameDoes() {
        assertTrue(TunnelLinks.matches("e*", "eth0"));
        assertTrue(TunnelLinks.matches("eth0", "eth0"));
        assertFalse(TunnelLinks.matches("eth0", "eth01"));
        assertFalse(TunnelLinks.matches("eth", "eth0"));
        assertTrue(TunnelLinks.matches("tun*", "tun"));
        assertFalse(TunnelLinks.matches("wg*", "awg0"));
    }

    @Test
    void aPatternThatMatchesANetworkCardIsNamedWithTheLink() {
        List<TunnelLinks.Match> m = TunnelLinks.notTunnels(List.of("wg0", "tun*", "e*", "w*"), LAPTOP);
        assertEquals(List.of("e* eth0", "w* wlan0"), m.stream().map(x -> x.pattern() + " " + x.link().name()).toList(),
                "wg0 and tun0 are tunnels; w* matches wg0 too, which is fine");
        assertEquals("tunnel.interfaces[2]", m.get(0).key());
        assertTrue(m.get(0).problem().startsWith("'e*' matches eth0 (Ethernet-type link, link type 1), which is not a tunnel"),
                m.get(0).problem());
        assertTrue(m.get(1).problem().contains("wlan0 (wlan, link type 1)"), m.get(1).problem());
        assertTrue(m.get(0).problem().contains("tunnel.allow_ethernet = true"), m.get(0).problem());
    }

    @Test
    void exactNamesAndBroadPatternsAlike() {
        assertEquals(1, TunnelLinks.notTunnels(List.of("eth0"), LAPTOP).size());
        assertEquals(List.of("br0", "eth0", "ib0", "veth-vpn", "wlan0"),
                TunnelLinks.notTunnels(List.of("*"), LAPTOP).stream().map(x -> x.link().name()).sorted().toList(),
                "a bare '*' is refused by the loader already; here it matches every card");
        assertTrue(TunnelLinks.notTunnels(List.of("wg*", "tun*", "tap*", "ppp*"), LAPTOP).isEmpty());
        assertTrue(TunnelLinks.notTunnels(List.of("e*"), List.of(LO, WG0)).isEmpty(), "no such link (yet)");
    }

    @Test
    void allowEthernetTakesThemOnPurpose() {
        assertEquals(1, TunnelLinks.refused(config(false, "veth-vpn"), LAPTOP).size());
        assertTrue(TunnelLinks.refused(config(true, "veth-vpn"), LAPTOP).isEmpty());
        assertTrue(TunnelLinks.warnings(config(true, "e*"), LAPTOP).isEmpty());
        assertEquals(List.of("tunnel.interfaces[1]: 'e*' matches eth0 (Ethernet-type link, link type 1), which is not a "
                + "tunnel: traffic on it is NOT blocked"), TunnelLinks.warnings(config(false, "wg0", "e*"), LAPTOP));
    }
}
