package dev.killswitch.nm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Endpoint;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each plugin's servers from its settings, as (address, protocol, port); host names listed, never resolved. */
class ProfileServersTest {
    static final String UUID = "5f1c0a44-2b5e-4c0e-9b7e-0a5f3c1d2e4f";

    static NmProfile vpn(String plugin, Map<String, String> data) {
        return new NmProfile(UUID, "v", "vpn", List.of(), "org.freedesktop.NetworkManager." + plugin, data, List.of());
    }

    static List<String> endpoints(NmProfile p) {
        return ProfileServers.of(p).endpoints().stream().map(Endpoint::toString).toList();
    }

    @Test
    void openvpnRemotesWithTheirOwnPortsAndProtocols() {
        assertEquals(List.of("203.0.113.5:1194/udp"), endpoints(vpn("openvpn", Map.of("remote", "203.0.113.5"))));
        assertEquals(List.of("203.0.113.5:443/tcp", "203.0.113.6:443/tcp"),
                endpoints(vpn("openvpn", Map.of("remote", "203.0.113.5, 203.0.113.6", "port", "443", "proto-tcp", "yes"))));
        // several remotes, split on blanks and commas, each with its own port and protocol
        assertEquals(List.of("203.0.113.5:1194/udp", "203.0.113.6:443/tcp", "203.0.113.7:1195/udp", "[2001:db8::5]:1194/tcp",
                        "[2001:db8::6]:1194/udp", "203.0.113.8:53/udp"),
                endpoints(vpn("openvpn", Map.of("remote",
                        "203.0.113.5:1194:udp,203.0.113.6:443:tcp-client 203.0.113.7:1195\t[2001:db8::5]:1194:tcp6, 2001:db8::6,"
                                + " 203.0.113.8:53:udp4"))));
        // an empty port or protocol takes the defaults; an entry the plugin skips is reported, the others stand
        ProfileServers.Servers s = ProfileServers.of(vpn("openvpn", Map.of("remote", "203.0.113.5::tcp 203.0.113.6:99999 203.0.113.7:1:sctp",
                "port", "1200")));
        assertEquals(List.of("203.0.113.5:1200/tcp"), s.endpoints().stream().map(Endpoint::toString).toList());
        assertEquals(2, s.problems().size(), s.problems().toString());
    }

    @Test
    void openvpnThroughAProxyConnectsToTheProxy() {
        assertEquals(List.of("198.51.100.50:3128/tcp"), endpoints(vpn("openvpn", Map.of("remote", "203.0.113.5",
                "proxy-type", "http", "proxy-server", "198.51.100.50", "proxy-port", "3128"))));
        assertEquals(List.of("198.51.100.50:1080/tcp"), endpoints(vpn("openvpn", Map.of("remote", "203.0.113.5",
                "proxy-type", "socks", "proxy-server", "198.51.100.50"))));
    }

    @Test
    void hostNamesAreListedNotResolvedAndNotAllowed() {
        ProfileServers.Servers s = ProfileServers.of(vpn("openvpn", Map.of("remote", "vpn.example.net:443:tcp, 203.0.113.5")));
        assertEquals(List.of("vpn.example.net 443/tcp"), s.hostNames());
        assertEquals(List.of("203.0.113.5:1194/udp"), s.endpoints().stream().map(Endpoint::toString).toList());
        assertEquals(List.of("gw.example.org 443/tcp", "gw.example.org 443/udp"),
                ProfileServers.of(vpn("openconnect", Map.of("gateway", "https://gw.example.org/group"))).hostNames());
    }

    @Test
    void unsafeOrMalformedAddressesAreRefusedWithAReason() {
        ProfileServers.Servers s = ProfileServers.of(vpn("openvpn", Map.of("remote", "127.0.0.1 0.0.0.0 ::ffff:203.0.113.5 a;b")));
        assertTrue(s.endpoints().isEmpty(), s.toString());
        assertEquals(4, s.problems().size(), s.problems().toString());
        assertTrue(s.hostNames().isEmpty());
    }

    @Test
    void wireguardPeersEndpoints() {
        NmProfile wg = new NmProfile(UUID, "wg", "wireguard", List.of(), null, Map.of(),
                List.of("203.0.113.8:51820", "[2001:db8::8]:51821", "wg.example.net:51820", "203.0.113.9"));
        ProfileServers.Servers s = ProfileServers.of(wg);
        assertEquals(List.of("203.0.113.8:51820/udp", "[2001:db8::8]:51821/udp"), s.endpoints().stream().map(Endpoint::toString).toList());
        assertEquals(List.of("wg.example.net 51820/udp"), s.hostNames());
        assertEquals(1, s.problems().size(), s.problems().toString());
    }

    @Test
    void theOtherPluginsGatewaysWithTheirDefaultPortsAndProtocols() {
        assertEquals(List.of("203.0.113.5:500/udp", "203.0.113.5:4500/udp"),
                endpoints(vpn("vpnc", Map.of("IPSec gateway", "203.0.113.5"))));
        assertEquals(List.of("203.0.113.5:500/udp", "203.0.113.5:10001/udp"), endpoints(vpn("vpnc",
                Map.of("IPSec gateway", "203.0.113.5", "NAT Traversal Mode", "cisco-udp", "Cisco UDP Encapsulation Port", "10001"))));
        assertEquals(List.of("203.0.113.5:443/tcp", "203.0.113.5:443/udp"),
                endpoints(vpn("openconnect", Map.of("gateway", "203.0.113.5"))));
        assertEquals(List.of("203.0.113.5:8443/tcp", "203.0.113.5:8443/udp"),
                endpoints(vpn("openconnect", Map.of("gateway", "https://203.0.113.5:8443/usergroup"))));
        assertEquals(List.of("[2001:db8::5]:443/tcp", "[2001:db8::5]:443/udp"),
                endpoints(vpn("openconnect", Map.of("gateway", "[2001:db8::5]"))));
        assertEquals(List.of("203.0.113.5:500/udp", "203.0.113.5:4500/udp"),
                endpoints(vpn("strongswan", Map.of("address", "203.0.113.5"))));
        assertEquals(List.of("203.0.113.5:500/udp", "203.0.113.5:4500/udp"),
                endpoints(vpn("libreswan", Map.of("right", "203.0.113.5"))));
        assertEquals(List.of("203.0.113.5:1701/udp"), endpoints(vpn("l2tp", Map.of("gateway", "203.0.113.5"))));
        assertEquals(List.of("203.0.113.5:1701/udp", "203.0.113.5:500/udp", "203.0.113.5:4500/udp"),
                endpoints(vpn("l2tp", Map.of("gateway", "203.0.113.5", "ipsec-enabled", "yes"))));
        ProfileServers.Servers pptp = ProfileServers.of(vpn("pptp", Map.of("gateway", "203.0.113.5")));
        assertEquals(List.of("203.0.113.5:1723/tcp"), pptp.endpoints().stream().map(Endpoint::toString).toList());
        assertTrue(pptp.problems().get(0).contains("GRE"), pptp.problems().toString());
        assertEquals(List.of("203.0.113.5:443/tcp"), endpoints(vpn("fortisslvpn", Map.of("gateway", "203.0.113.5"))));
        assertEquals(List.of("203.0.113.5:10443/tcp"), endpoints(vpn("fortisslvpn", Map.of("gateway", "203.0.113.5:10443"))));
    }

    @Test
    void anUnknownPluginOrANonVpnProfileGivesNothing() {
        ProfileServers.Servers s = ProfileServers.of(vpn("sstp", Map.of("gateway", "203.0.113.5")));
        assertTrue(s.endpoints().isEmpty());
        assertTrue(s.problems().get(0).contains("[[endpoint]]"), s.problems().toString());
        NmProfile eth = new NmProfile(UUID, "eth", "802-3-ethernet", List.of(), null, Map.of(), List.of());
        assertEquals(new ProfileServers.Servers(List.of(), List.of(), List.of()), ProfileServers.of(eth));
    }

    @Test
    void splitRemoteFollowsTheOpenvpnPlugin() {
        assertArrayEquals(new String[] {"2001:db8::1", null, null}, ProfileServers.splitRemote("2001:db8::1"));
        assertArrayEquals(new String[] {"2001:db8::1", "1194", null}, ProfileServers.splitRemote("[2001:db8::1]:1194"));
        assertArrayEquals(new String[] {"2001:db8::1", "1194", "udp"}, ProfileServers.splitRemote("[2001:db8::1]:1194:udp"));
        assertArrayEquals(new String[] {"h", null, "tcp"}, ProfileServers.splitRemote("h::tcp"));
        assertNull(ProfileServers.splitRemote(":1194"));
        assertNull(ProfileServers.splitRemote("h:0"));
        assertNull(ProfileServers.splitRemote("h:1:quic"));
    }

    @Test
    void fromSettingsReadsWhatGetSettingsGives() {
        NmProfile p = NmProfile.fromSettings(Map.of(
                "connection", Map.of("uuid", UUID, "id", "Office", "type", "vpn", "permissions", List.of("user:alice:")),
                "vpn", Map.of("service-type", "org.freedesktop.NetworkManager.openvpn", "data", Map.of("remote", "203.0.113.5"))));
        assertEquals("Office", p.id());
        assertTrue(p.userRestricted());
        assertEquals(List.of("alice"), p.users());
        assertEquals(List.of("203.0.113.5:1194/udp"), endpoints(p));
        NmProfile wg = NmProfile.fromSettings(Map.of(
                "connection", Map.of("uuid", UUID, "id", "wg", "type", "wireguard"),
                "wireguard", Map.of("peers", List.of(Map.of("public-key", "x", "endpoint", "203.0.113.8:51820"), Map.of("public-key", "y")))));
        assertEquals(List.of("203.0.113.8:51820"), wg.wireguardPeerEndpoints());
        assertTrue(!wg.userRestricted() && wg.isVpn());
    }
}
