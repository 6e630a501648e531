package dev.killswitch.config;

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
        assertTrue(e.problem().contains("known keys here: allow, networks"), e.problem());
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
    void tomlSyntaxErrorHasALine() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(FILE, "[tunnel]\ninterfaces = [\"wg0\"\n\n[lan]\n"));
        assertTrue(e.line() > 0, e.getMessage());
        assertTrue(e.getMessage().startsWith("/etc/killswitch/killswitch.toml:"), e.getMessage());
    }
}
