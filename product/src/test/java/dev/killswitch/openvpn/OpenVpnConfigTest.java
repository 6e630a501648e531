package dev.killswitch.openvpn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.ConfigException;
import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class OpenVpnConfigTest {
    private static final Path FILE = Path.of("/etc/openvpn/client/work.conf");

    private static Endpoint ep(String a, String proto, int port) {
        return new Endpoint(IpAddress.parse(a), Protocol.parse(proto), port);
    }

    private static OpenVpnConfig parse(String text) throws ConfigException {
        return OpenVpnConfig.parse(FILE, text);
    }

    @Test
    void remotesTakeTheirOwnPortAndProtoElseTheConfigsElse1194Udp() throws Exception {
        OpenVpnConfig c = parse("""
                client
                dev tun0
                remote 203.0.113.10
                remote 203.0.113.11 443
                remote 2001:db8::1 8443 tcp-client
                remote-random
                """);
        assertEquals("tun0", c.dev());
        assertEquals(List.of(ep("203.0.113.10", "udp", 1194), ep("203.0.113.11", "udp", 443), ep("2001:db8::1", "tcp", 8443)),
                c.endpoints());
        // port and proto count wherever they stand, as in OpenVPN
        OpenVpnConfig d = parse("remote 203.0.113.10\ndev tun1\nport 1195\nproto tcp\nremote 203.0.113.10 1195\n");
        assertEquals(List.of(ep("203.0.113.10", "tcp", 1195)), d.endpoints(), "the same server once");
    }

    @Test
    void connectionBlocksStartFromTheValuesAboveThemAndSkipInlineFiles() throws Exception {
        OpenVpnConfig c = parse("""
                dev vpn0
                dev-type tun
                proto tcp
                <ca>
                remote 192.0.2.99 1
                </ca>
                <connection>
                remote 203.0.113.10 1194 udp
                </connection>
                <connection>
                remote 203.0.113.11
                port 8443
                </connection>
                """);
        assertEquals(List.of(ep("203.0.113.10", "udp", 1194), ep("203.0.113.11", "tcp", 8443)), c.endpoints());
    }

    @Test
    void refusalsNameFileLineAndKey() {
        assertMessage("dev tun0\nremote vpn.example.com 1194\n", "/etc/openvpn/client/work.conf:2: remote: 'vpn.example.com' names a host");
        assertMessage("dev tun0\n<connection>\nremote vpn.example.com\n</connection>\n", ":3: connection[0].remote: 'vpn.example.com' names a host");
        assertMessage("dev tun\nremote 203.0.113.10\n", ":1: dev: 'tun' lets the kernel choose");
        assertMessage("remote 203.0.113.10\n", "dev: missing");
        assertMessage("dev tun0\n", "remote: missing");
        assertMessage("dev tun0\nremote 203.0.113.10 99999\n", ":2: remote: '99999' is not a port");
        assertMessage("dev tun0\nproto tcp-server\nremote 203.0.113.10\n", ":2: proto: 'tcp-server' is not a client protocol");
        assertMessage("dev tun0\nremote 203.0.113.10\nhttp-proxy 192.0.2.1 3128\n", ":3: http-proxy:");
        assertMessage("dev tun0;reboot\nremote 203.0.113.10\n", ":1: dev:");
        assertMessage("dev tun0\nremote 203.0.113.10\n<connection>\nremote 203.0.113.11\n", "<connection>: the block is not closed");
    }

    @Test
    void theExampleConfigParses() throws Exception {
        OpenVpnConfig c = parse(Files.readString(Path.of("hooks/openvpn/client.conf.example")));
        assertEquals("tun0", c.dev());
        assertEquals(List.of(ep("203.0.113.10", "udp", 1194), ep("203.0.113.11", "tcp", 443)), c.endpoints());
    }

    @Test
    void quotedWordsAndComments() {
        assertEquals(List.of("remote", "203.0.113.10", "1194"), OpenVpnConfig.words("remote \"203.0.113.10\" '1194' # x"));
        assertEquals(List.of("up", "/a b/c"), OpenVpnConfig.words("up /a\\ b/c"));
    }

    private static void assertMessage(String text, String part) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(text));
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
