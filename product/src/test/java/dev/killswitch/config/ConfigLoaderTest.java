package dev.killswitch.config;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    private static final Path FILE = Path.of("/etc/killswitch/killswitch.toml");

    static final String EXAMPLE = """
            [tunnel]
            interfaces = ["wg0", "tun*"]

            [[endpoint]]
            address = "203.0.113.10"
            port = 51820
            protocol = "udp"

            [[endpoint]]
            address = "2001:db8::10"
            port = 1194
            protocol = "tcp"

            [lan]
            allow = true
            networks = ["192.168.0.0/16", "fe80::/10"]

            [dns]
            servers = ["10.64.0.1", "fd00::53"]

            [inbound]
            tcp_ports = [22]
            """;

    @Test
    void readsEveryKey() throws Exception {
        Config c = ConfigLoader.parse(FILE, EXAMPLE);
        assertEquals(List.of("wg0", "tun*"), c.tunnelInterfaces());
        assertEquals("203.0.113.10:51820/udp", c.endpoints().get(0).toString());
        assertEquals("[2001:db8::10]:1194/tcp", c.endpoints().get(1).toString());
        assertTrue(c.lanAllow());
        assertEquals("[192.168.0.0/16, fe80::/10]", c.lanNetworks().toString());
        assertEquals("[10.64.0.1, fd00::53]", c.dnsServers().toString());
        assertEquals(List.of(22), c.inboundTcpPorts());
        assertEquals(FILE, c.source());
    }

    @Test
    void missingFileIsTheSafeDefault(@TempDir Path dir) throws Exception {
        Config c = ConfigLoader.load(dir.resolve("absent.toml"));
        assertEquals(Config.safeDefault(), c);
        assertFalse(c.lanAllow());
        assertTrue(c.tunnelInterfaces().isEmpty() && c.endpoints().isEmpty() && c.dnsServers().isEmpty());
    }

    @Test
    void emptyFileIsTheDefaultWithItsSource(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("k.toml"), "# nothing\n");
        Config c = ConfigLoader.load(f);
        assertEquals(Config.DEFAULT_LAN_NETWORKS, c.lanNetworks());
        assertEquals(f, c.source());
    }

    @Test
    void badAddressNamesFileLineAndKey() {
        String text = EXAMPLE.replace("address = \"2001:db8::10\"", "address = \"vpn.example.com\"");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(FILE, text));
        assertEquals(10, e.line());
        assertEquals("endpoint[1].address", e.key());
        assertEquals("/etc/killswitch/killswitch.toml:10: endpoint[1].address: 'vpn.example.com' is not an IPv4 or IPv6 address",
                e.getMessage());
    }

    @Test
    void hostileInterfaceNameIsRejected() {
        String text = EXAMPLE.replace("\"tun*\"", "\"tun0\\\"; flush ruleset; #\"");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(FILE, text));
        assertEquals(2, e.line());
        assertEquals("tunnel.interfaces[1]", e.key());
    }

    @Test
    void unknownKeyIsAnErrorNotIgnored() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[lan]\nallow = false\nalow = true\n"));
        assertEquals(3, e.line());
        assertEquals("lan.alow", e.key());
        assertTrue(e.problem().contains("known keys here: allow, allow_public, networks"), e.problem());
    }

    @Test
    void portOutOfRange() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[[endpoint]]\naddress = \"203.0.113.1\"\nport = 70000\n"));
        assertEquals(3, e.line());
        assertEquals("endpoint[0].port", e.key());
    }

    @Test
    void missingPortNamesTheEndpoint() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "\n[[endpoint]]\naddress = \"203.0.113.1\"\n"));
        assertEquals(2, e.line());
        assertEquals("endpoint[0]", e.key());
        assertTrue(e.problem().contains("missing key 'port'"));
    }

    @Test
    void wrongTypes() {
        assertEquals("lan.allow", assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[lan]\nallow = \"yes\"\n")).key());
        assertEquals("dns.servers", assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[dns]\nservers = \"10.0.0.1\"\n")).key());
        assertEquals("inbound.tcp_ports[0]", assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[inbound]\ntcp_ports = [\"22\"]\n")).key());
        assertEquals("endpoint[0].protocol", assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[[endpoint]]\naddress = \"203.0.113.1\"\nport = 1\nprotocol = \"icmp\"\n")).key());
    }

    @Test
    void dnsModeAndOverTls() throws Exception {
        Config c = ConfigLoader.parse(FILE, "[dns]\nmode = \"resolv-conf\"\nover_tls = \"opportunistic\"\n");
        assertEquals(DnsMode.RESOLV_CONF, c.dnsMode());
        assertEquals(DnsOverTls.OPPORTUNISTIC, c.dnsOverTls());
        assertEquals(DnsMode.AUTO, ConfigLoader.parse(FILE, EXAMPLE).dnsMode(), "auto is the default");
        assertEquals(DnsOverTls.DEFAULT, ConfigLoader.parse(FILE, EXAMPLE).dnsOverTls());
        for (String mode : List.of("auto", "resolved", "resolv-conf", "off")) {
            assertEquals(mode, ConfigLoader.parse(FILE, "[dns]\nmode = \"" + mode + "\"\n").dnsMode().configName());
        }
    }

    @Test
    void unknownDnsModeNamesFileLineAndKey() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[dns]\nservers = []\nmode = \"resolvconf\"\n"));
        assertEquals("/etc/killswitch/killswitch.toml:3: dns.mode: must be \"auto\", \"resolved\", \"resolv-conf\" or "
                + "\"off\", not 'resolvconf'", e.getMessage());
        assertEquals("dns.mode", assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[dns]\nmode = true\n")).key());
        assertEquals("dns.over_tls", assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[dns]\nover_tls = \"strict\"\n")).key());
        assertEquals("dns.moed", assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[dns]\nmoed = \"off\"\n")).key());
    }

    @Test
    void hostileResolverIsRejectedWithItsLine() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[dns]\nservers = [\"10.0.0.1\", \"10.0.0.2\\nnameserver 8.8.8.8\"]\n"));
        assertEquals("dns.servers[1]", e.key());
        assertEquals(2, e.line());
        assertTrue(e.problem().contains("'10.0.0.2\\u000anameserver 8.8.8.8' is not an IPv4 or IPv6 address"), e.problem());
    }

    @Test
    void duplicatesAreErrors() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[tunnel]\ninterfaces = [\"wg0\", \"wg0\"]\n"));
        assertEquals("tunnel.interfaces[1]", e.key());
    }

    @Test
    void aKeyOrTableWrittenTwiceIsNamedWithItsSecondLine() {
        ConfigException key = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[lan]\nallow = true\nallow = false\n\n[dns]\nmode = \"off\"\n"));
        assertEquals("lan.allow", key.key());
        assertEquals(3, key.line(), key.getMessage());
        assertTrue(key.getMessage().contains("first on line 2"), key.getMessage());
        ConfigException table = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[dns]\nmode = \"off\"\n[lan]\nallow = true\n[dns]\n"));
        assertEquals("dns", table.key());
        assertEquals(5, table.line(), table.getMessage());
        // two [[endpoint]] tables with the same keys are two endpoints, not a duplicate
        assertEquals(2, assertDoesNotThrow(() -> ConfigLoader.parse(FILE, """
                [[endpoint]]
                address = "203.0.113.9"
                port = 51820
                [[endpoint]]
                address = "203.0.113.10"
                port = 51820
                """)).endpoints().size());
    }

    @Test
    void tomlSyntaxErrorHasALine() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[tunnel]\ninterfaces = [\"wg0\"\n\n[lan]\n"));
        assertTrue(e.line() > 0, e.getMessage());
        assertTrue(e.getMessage().startsWith("/etc/killswitch/killswitch.toml:"), e.getMessage());
    }

    @Test
    void aDefaultRouteAsTheLanIsRefusedWithFileLineAndKey() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[lan]\nallow = true\nnetworks = [\"0.0.0.0/0\"]\n"));
        assertEquals("lan.networks[0]", e.key());
        assertEquals(3, e.line());
        assertTrue(e.getMessage().startsWith("/etc/killswitch/killswitch.toml:3: lan.networks[0]: '0.0.0.0/0' is every IPv4 "
                + "address (a default route)"), e.getMessage());
        ConfigException v6 = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[lan]\nnetworks = [\n  \"192.168.0.0/16\",\n  \"::/0\",\n]\n"));
        assertEquals("lan.networks[1]", v6.key());
        assertEquals(2, v6.line(), "the line of the key: the list's own lines are not indexed");
        assertTrue(v6.problem().contains("'::/0' is every IPv6 address"), v6.problem());
    }

    @Test
    void aDefaultRouteIsRefusedEvenWithAllowPublic() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[lan]\nallow_public = true\nnetworks = [\"::/0\"]\n"));
        assertEquals("lan.networks[0]", e.key());
        assertTrue(e.problem().contains("refused even with lan.allow_public"), e.problem());
        ConfigException halves = assertThrows(ConfigException.class, () -> ConfigLoader.parse(FILE,
                "[lan]\nallow_public = true\nnetworks = [\"0.0.0.0/1\", \"10.0.0.0/8\", \"128.0.0.0/1\"]\n"));
        assertEquals("lan.networks", halves.key());
        assertEquals(3, halves.line());
        assertTrue(halves.problem().contains("cover every IPv4 address between them, as 0.0.0.0/0 would"), halves.problem());
    }

    @Test
    void aPublicLanIsRefusedUnlessAllowPublicSaysSo() throws Exception {
        String text = "[lan]\nallow = false\nnetworks = [\"192.168.0.0/16\", \"8.8.8.0/24\"]\n";
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(FILE, text));
        assertEquals("lan.networks[1]", e.key());
        assertEquals(3, e.line());
        assertTrue(e.problem().startsWith("'8.8.8.0/24' covers public addresses"), e.problem());
        assertTrue(e.problem().contains("lan.allow_public = true"), "it names the way out: " + e.problem());

        Config c = ConfigLoader.parse(FILE, text.replace("allow = false", "allow = false\nallow_public = true"));
        assertTrue(c.lanAllowPublic());
        assertEquals("[192.168.0.0/16, 8.8.8.0/24]", c.lanNetworks().toString());
        assertFalse(ConfigLoader.parse(FILE, EXAMPLE).lanAllowPublic(), "off unless written");
        assertEquals("lan.allow_public", assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[lan]\nallow_public = \"yes\"\n")).key());
    }

    @Test
    void privateLinkLocalCgnatAndDocumentationRangesAreTheLan() throws Exception {
        Config c = ConfigLoader.parse(FILE, """
                [lan]
                networks = ["10.1.0.0/16", "172.16.0.0/12", "192.168.1.0/24", "169.254.0.0/16", "100.64.0.0/10",
                            "198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24", "224.0.0.251/32",
                            "fd00::/8", "fe80::/10", "2001:db8:1::/64", "ff02::fb/128"]
                """);
        assertEquals(13, c.lanNetworks().size());
        assertEquals(Config.DEFAULT_LAN_NETWORKS, ConfigLoader.parse(FILE, "[lan]\nallow = true\n").lanNetworks());
    }

    @Test
    void endpointsThatNoServerHasAreRefusedWithFileLineAndKey() {
        for (String address : List.of("0.0.0.0", "::", "224.0.0.1", "239.1.2.3", "ff02::1", "255.255.255.255",
                "127.0.0.1", "127.1.2.3", "::1")) {
            String text = "[[endpoint]]\naddress = \"203.0.113.1\"\nport = 51820\n\n[[endpoint]]\naddress = \"" + address
                    + "\"\nport = 51820\n";
            ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(FILE, text), address);
            assertEquals("endpoint[1].address", e.key(), address);
            assertEquals(6, e.line(), address);
            assertTrue(e.getMessage().startsWith("/etc/killswitch/killswitch.toml:6: endpoint[1].address: '" + address + "' is "),
                    e.getMessage());
        }
    }

    @Test
    void allowEthernetIsABooleanOffByDefault() throws Exception {
        assertFalse(ConfigLoader.parse(FILE, EXAMPLE).tunnelAllowEthernet());
        assertTrue(ConfigLoader.parse(FILE, "[tunnel]\ninterfaces = [\"veth-vpn\"]\nallow_ethernet = true\n").tunnelAllowEthernet());
        assertEquals("tunnel.allow_ethernet", assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[tunnel]\nallow_ethernet = 1\n")).key());
    }

    @Test
    void aProblemFoundLaterIsNamedWithTheLineTheFileHasNow(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("k.toml"), "# tunnels\n[tunnel]\ninterfaces = [\"wg0\", \"e*\"]\n");
        ConfigException e = ConfigLoader.problemAt(f, "tunnel.interfaces[1]", "'e*' matches eth0");
        assertEquals(f + ":3: tunnel.interfaces[1]: 'e*' matches eth0", e.getMessage());
        assertEquals(0, ConfigLoader.problemAt(dir.resolve("gone.toml"), "tunnel.interfaces[0]", "x").line());
    }

    @Test
    void overlappingLanNetworksAreRefusedHereNotByNft() {
        // nft would refuse the transaction ("conflicting intervals specified") with exit 3 and no line
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(FILE,
                "[lan]\nallow_public = true\nnetworks = [\"192.168.0.0/16\", \"fe80::/10\", \"128.0.0.0/1\"]\n"));
        assertEquals("lan.networks[2]", e.key());
        assertEquals(3, e.line());
        assertEquals("'128.0.0.0/1' overlaps '192.168.0.0/16' (lan.networks[0]); keep the larger one", e.problem());
    }

    @Test
    void theShippedExampleLoads() throws Exception {
        Config c = ConfigLoader.load(Path.of("hooks/killswitch.toml.example"));
        assertEquals(Config.DEFAULT_LAN_NETWORKS, c.lanNetworks());
        assertFalse(c.lanAllowPublic() || c.tunnelAllowEthernet());
    }

    @Test
    void gatewayAndGuests() throws Exception {
        Config c = ConfigLoader.parse(FILE, """
                [tunnel]
                interfaces = ["wg0"]
                [gateway]
                interfaces = ["eth1"]
                networks = ["192.168.10.0/24", "2001:db8:10::/64"]
                masquerade = true
                udp_ports = [123]
                [guests]
                interfaces = ["virbr0", "veth*"]
                tcp_ports = [445]
                """);
        assertEquals(new Gateway(List.of("eth1"), List.of(Network.parse("192.168.10.0/24"), Network.parse("2001:db8:10::/64")),
                true, List.of(), List.of(123)), c.gateway());
        assertEquals(new Guests(List.of("virbr0", "veth*"), List.of(445), List.of()), c.guests());
        assertEquals(Gateway.NONE, ConfigLoader.parse(FILE, EXAMPLE).gateway());
    }

    @Test
    void gatewayAndGuestsProblemsNameLineAndKey() {
        ConfigException overlap = assertThrows(ConfigException.class, () -> ConfigLoader.parse(FILE, """
                [tunnel]
                interfaces = ["wg0", "tun*"]
                [guests]
                interfaces = ["virbr0", "tunnel1"]
                """));
        assertEquals("guests.interfaces[1]", overlap.key());
        assertEquals(4, overlap.line());
        assertTrue(overlap.getMessage().contains("'tunnel1' also matches 'tun*' (tunnel.interfaces[1])"), overlap.getMessage());
        ConfigException both = assertThrows(ConfigException.class, () -> ConfigLoader.parse(FILE, """
                [gateway]
                interfaces = ["br*"]
                [guests]
                interfaces = ["br0"]
                """));
        assertEquals("guests.interfaces[0]", both.key());
        ConfigException missing = assertThrows(ConfigException.class, () -> ConfigLoader.parse(FILE, """
                [gateway]
                masquerade = true
                """));
        assertEquals("gateway", missing.key());
        assertTrue(missing.getMessage().contains("missing key 'interfaces'"), missing.getMessage());
        assertEquals("gateway.interfaces", assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[gateway]\ninterfaces = []\n")).key());
        assertEquals("guests.interfaces[0]", assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[guests]\ninterfaces = [\"br0;drop\"]\n")).key());
        assertEquals("gateway.networks[1]", assertThrows(ConfigException.class, () -> ConfigLoader.parse(FILE,
                "[gateway]\ninterfaces = [\"eth1\"]\nnetworks = [\"10.0.0.0/8\", \"10.1.0.0/16\"]\n")).key());
        assertEquals("guests.udp_ports[0]", assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[guests]\ninterfaces = [\"br0\"]\nudp_ports = [0]\n")).key());
    }
}
