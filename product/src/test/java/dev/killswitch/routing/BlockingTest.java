package dev.killswitch.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Network;
import dev.killswitch.config.Protocol;
import dev.killswitch.policy.Policy;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The analysis over iproute2's JSON as {@code ip -j} prints it (shapes taken from iproute2 6.1). */
class BlockingTest {
    private static final List<Network> LAN = List.of(Network.parse("10.0.0.0/8"), Network.parse("192.168.0.0/16"),
            Network.parse("fe80::/10"));

    private static Policy tunnels(String... names) {
        return new Policy(new TreeSet<>(List.of(names)), List.of(new Endpoint(IpAddress.parse("203.0.113.9"), Protocol.UDP, 51820)),
                List.of(), List.of(), List.of(), null);
    }

    /** What wg-quick makes of a full tunnel: its own table 51820 and two rules before main. */
    private static final String WG_RULES = """
            [{"priority":0,"src":"all","table":"local"},{"priority":32764,"src":"all","table":"main","suppress_prefixlen":0},
             {"priority":32765,"not":null,"src":"all","fwmark":"0xca6c","table":"51820"},
             {"priority":32766,"src":"all","table":"main"},{"priority":32767,"src":"all","table":"default"}]""";
    private static final String PLAIN_RULES = """
            [{"priority":0,"src":"all","table":"local"},{"priority":32766,"src":"all","table":"main"},
             {"priority":32767,"src":"all","table":"default"}]""";
    private static final String MAIN4 = """
            {"dst":"default","gateway":"198.51.100.1","dev":"eth0","protocol":"dhcp","metric":100,"flags":[]},
            {"dst":"198.51.100.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"198.51.100.2","flags":[]},
            {"type":"local","dst":"198.51.100.2","dev":"eth0","table":"local","protocol":"kernel","scope":"host","flags":[]},
            {"type":"broadcast","dst":"198.51.100.255","dev":"eth0","table":"local","protocol":"kernel","scope":"link","flags":[]}""";
    private static final String TUNNEL_VISION = """
            {"dst":"0.0.0.0/1","gateway":"198.51.100.1","dev":"eth0","protocol":"dhcp","metric":100,"flags":[]},
            {"dst":"128.0.0.0/1","gateway":"198.51.100.1","dev":"eth0","protocol":"dhcp","metric":100,"flags":[]}""";
    private static final String LINKS = """
            [{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"link_type":"loopback"},
             {"ifindex":2,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"link_type":"ether",
              "linkinfo":{"info_kind":"veth"}},
             {"ifindex":3,"ifname":"wg0","flags":["POINTOPOINT","NOARP","UP","LOWER_UP"],"link_type":"none",
              "linkinfo":{"info_kind":"wireguard"}}]""";

    private static Routing routing(String routes4, String rules, String links) throws Exception {
        return new Routing(IpJson.routes("[" + routes4 + "]", false), IpJson.rules(rules), IpJson.rules(PLAIN_RULES),
                IpJson.links(links));
    }

    private static List<String> kinds(Blocking.Report r) {
        return r.findings().stream().map(Blocking.Finding::kind).toList();
    }

    @Test
    void aWgQuickFullTunnelAloneStopsNothing() throws Exception {
        Blocking.Report r = Blocking.analyse(tunnels("wg0"), LAN, routing(MAIN4 + ","
                + "{\"dst\":\"default\",\"dev\":\"wg0\",\"table\":\"51820\",\"flags\":[]}", WG_RULES, LINKS));
        assertEquals(List.of(), r.findings());
        Blocking.DefaultRoute v4 = r.defaults().get(0);
        assertEquals("wg0", v4.route().dev());
        assertEquals("51820", v4.route().table());
        assertTrue(v4.throughTunnel());
        assertNull(r.defaults().get(1).route(), "no IPv6 default");
    }

    @Test
    void tunnelVisionRoutesAroundAWgQuickTunnelAreNamedByPrefixAndInterface() throws Exception {
        Blocking.Report r = Blocking.analyse(tunnels("wg0"), LAN, routing(MAIN4 + "," + TUNNEL_VISION + ","
                + "{\"dst\":\"default\",\"dev\":\"wg0\",\"table\":\"51820\",\"flags\":[]}", WG_RULES, LINKS));
        assertEquals(List.of("route-around-tunnel", "route-around-tunnel"), kinds(r));
        assertEquals("0.0.0.0/1", r.findings().get(0).route().destination().toString());
        assertEquals("eth0", r.findings().get(0).link());
        assertTrue(r.findings().get(1).text().startsWith("route 128.0.0.0/1 via 198.51.100.1 dev eth0 sends traffic around the tunnel"),
                r.findings().get(1).text());
    }

    @Test
    void tunnelVisionAroundATunnelInTheMainTable() throws Exception {
        String tunnelDefault = "{\"dst\":\"default\",\"dev\":\"wg0\",\"protocol\":\"static\",\"metric\":50,\"flags\":[]}";
        Blocking.Report r = Blocking.analyse(tunnels("wg0"), LAN, routing(MAIN4 + "," + tunnelDefault + "," + TUNNEL_VISION, PLAIN_RULES, LINKS));
        assertEquals(List.of("route-around-tunnel", "route-around-tunnel"), kinds(r));
        assertTrue(r.defaults().get(0).throughTunnel(), "metric 50 beats 100");
        assertTrue(r.defaults().get(0).overridden(), "the /1 routes take all of it");
    }

    @Test
    void openVpnsHalvesOverrideTheDefaultAndItsEndpointRouteIsTheTransport() throws Exception {
        String openvpn = """
                {"dst":"0.0.0.0/1","gateway":"10.8.0.1","dev":"tun0","flags":[]},
                {"dst":"128.0.0.0/1","gateway":"10.8.0.1","dev":"tun0","flags":[]},
                {"dst":"203.0.113.9","gateway":"198.51.100.1","dev":"eth0","flags":[]},
                {"dst":"10.8.0.0/24","dev":"tun0","protocol":"kernel","scope":"link","flags":[]},
                {"dst":"10.20.0.0/16","gateway":"198.51.100.1","dev":"eth0","protocol":"dhcp","flags":[]}""";
        String links = LINKS.replace("\"wg0\"", "\"tun0\"");
        Blocking.Report r = Blocking.analyse(tunnels("tun*"), LAN, routing(MAIN4 + "," + openvpn, PLAIN_RULES, links));
        assertEquals(List.of(), r.findings(), "the endpoint's host route and a LAN route are not around the tunnel");
        assertFalse(r.defaults().get(0).throughTunnel());
        assertTrue(r.defaults().get(0).overridden());
    }

    @Test
    void theHalvesOfATunnelAreBeatenByLowerMetricsOnThePhysicalLink() throws Exception {
        String halves = """
                {"dst":"0.0.0.0/1","dev":"tun0","metric":200,"flags":[]},
                {"dst":"128.0.0.0/1","dev":"tun0","metric":200,"flags":[]}""";
        String links = LINKS.replace("\"wg0\"", "\"tun0\"");
        Blocking.Report r = Blocking.analyse(tunnels("tun0"), LAN, routing(MAIN4 + "," + halves + "," + TUNNEL_VISION, PLAIN_RULES, links));
        assertEquals(List.of("route-around-tunnel", "route-around-tunnel"), kinds(r));
    }

    @Test
    void aDefaultRouteOutsideTheTunnelIsNamed() throws Exception {
        Blocking.Report r = Blocking.analyse(tunnels("wg0"), LAN, routing(MAIN4, PLAIN_RULES, LINKS));
        assertEquals(List.of("default-route"), kinds(r));
        assertTrue(r.findings().get(0).text().startsWith("the IPv4 default route (default via 198.51.100.1 dev eth0) points at eth0"),
                r.findings().get(0).text());
    }

    @Test
    void noTunnelGrantedIsTheReasonAndTheRoutesAreNot() throws Exception {
        Blocking.Report r = Blocking.analyse(tunnels(), LAN, routing(MAIN4 + "," + TUNNEL_VISION, PLAIN_RULES, LINKS));
        assertEquals(List.of("no-tunnel", "vpn-link-not-granted"), kinds(r));
        assertTrue(r.findings().get(0).text().startsWith("no tunnel granted"));
        assertEquals("eth0", r.defaults().get(0).route().dev());
    }

    @Test
    void aGrantedTunnelThatIsNotUp() throws Exception {
        Blocking.Report r = Blocking.analyse(tunnels("wg9"), LAN, routing(MAIN4, PLAIN_RULES, LINKS));
        assertEquals(List.of("tunnel-not-up", "default-route", "vpn-link-not-granted"), kinds(r));
    }

    @Test
    void vpnLinksUpButNotGrantedByKindOrType() throws Exception {
        String links = """
                [{"ifname":"lo","flags":["LOOPBACK","UP"],"link_type":"loopback"},
                 {"ifname":"wg0","flags":["UP"],"link_type":"none","linkinfo":{"info_kind":"wireguard"}},
                 {"ifname":"wg7","flags":["UP"],"link_type":"none","linkinfo":{"info_kind":"wireguard"}},
                 {"ifname":"tun7","flags":["NO-CARRIER","POINTOPOINT","UP"],"link_type":"none",
                  "linkinfo":{"info_kind":"tun","info_data":{"type":"tun"}}},
                 {"ifname":"tap7","flags":["NO-CARRIER","BROADCAST","UP"],"link_type":"ether",
                  "linkinfo":{"info_kind":"tun","info_data":{"type":"tap"}}},
                 {"ifname":"tun8","flags":["POINTOPOINT"],"link_type":"none","linkinfo":{"info_kind":"tun","info_data":{"type":"tun"}}},
                 {"ifname":"ppp0","flags":["UP"],"link_type":"ppp"},
                 {"ifname":"eth1","flags":["UP"],"link_type":"ether","linkinfo":{"info_kind":"veth"}}]""";
        Blocking.Report r = Blocking.analyse(tunnels("wg0"), LAN, routing(
                "{\"dst\":\"default\",\"dev\":\"wg0\",\"flags\":[]}", PLAIN_RULES, links));
        List<String> named = r.findings().stream().filter(f -> f.kind().equals("vpn-link-not-granted")).map(Blocking.Finding::link).toList();
        assertEquals(List.of("wg7", "tun7", "tap7", "ppp0"), named, "down tun8, eth1 and the granted wg0 are not named");
        assertTrue(r.findings().stream().anyMatch(f -> f.text().startsWith("tap7 (tap) is up but not granted")), r.findings().toString());
    }

    @Test
    void ipv6RoutesAndMultipathNextHops() throws Exception {
        String routes6 = """
                [{"dst":"2001:db8:1::/64","dev":"eth0","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},
                 {"dst":"fe80::/64","dev":"eth0","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},
                 {"dst":"::/1","protocol":"ra","metric":1024,"flags":[],"nexthops":[
                   {"gateway":"fe80::1","dev":"eth0","weight":1,"flags":[]},{"dev":"wg0","weight":1,"flags":[]}]},
                 {"dst":"default","dev":"wg0","metric":1024,"flags":[],"pref":"medium"},
                 {"type":"multicast","dst":"ff00::/8","dev":"eth0","table":"local","protocol":"kernel","metric":256,"flags":[]}]""";
        Routing routing = new Routing(IpJson.routes(routes6, true), IpJson.rules(PLAIN_RULES), IpJson.rules(PLAIN_RULES),
                IpJson.links(LINKS));
        Blocking.Report r = Blocking.analyse(tunnels("wg0"), LAN, routing);
        assertEquals(1, r.findings().size(), r.findings().toString());
        assertEquals("route ::/1 via fe80::1 dev eth0 sends traffic around the tunnel through eth0: what it carries is refused"
                + " (counter dropped_out); a DHCP server's classless static routes can do this (TunnelVision, CVE-2024-3661)",
                r.findings().get(0).text());
        assertTrue(r.defaults().get(1).throughTunnel());
    }

    @Test
    void rulesForMarkedOrNarrowedTrafficAreNotFollowed() throws Exception {
        List<RoutingRule> rules = IpJson.rules("""
                [{"priority":100,"src":"all","fwmark":"0x1","table":"100"},
                 {"priority":101,"src":"10.0.0.0","srclen":8,"table":"101"},
                 {"priority":102,"src":"all","iif":"eth1","table":"102"},
                 {"priority":103,"not":null,"src":"all","fwmark":"0xca6c","table":"51820"},
                 {"priority":104,"src":"all","action":"unreachable"}]""");
        assertEquals(List.of(false, false, false, true, true), rules.stream().map(RoutingRule::ordinaryTraffic).toList());
        assertNull(rules.get(4).table());
    }

    @Test
    void routeGetNamesTheDevice() throws Exception {
        assertEquals("eth0", IpJson.routeDevice("""
                [{"dst":"203.0.113.5","gateway":"198.51.100.1","dev":"eth0","prefsrc":"198.51.100.2","flags":[],"uid":0,"cache":[]}]"""));
        assertEquals("lo", IpJson.routeDevice("[{\"type\":\"local\",\"dst\":\"127.0.0.1\",\"dev\":\"lo\",\"table\":\"local\"}]"));
        assertNull(IpJson.routeDevice("[]"));
    }
}
