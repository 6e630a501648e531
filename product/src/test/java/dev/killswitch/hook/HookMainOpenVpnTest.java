package dev.killswitch.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import dev.killswitch.control.Request;
import dev.killswitch.control.Wire;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The JVM path's reading of {@code killswitch hook openvpn ...}, and the requests going through the socket's parser. */
class HookMainOpenVpnTest {

    private static Request parse(String... args) {
        Request r = HookMain.parseOpenVpn(args);
        try {
            assertEquals(r, Wire.request(Wire.line(r, 1)).request(), "the service reads back what was sent");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        return r;
    }

    @Test
    void eachEventBecomesItsRequest() {
        Request.AllowRemotes pre = (Request.AllowRemotes) parse("openvpn", "pre-up", "/etc/openvpn/client/work.conf");
        assertEquals("allow-remotes", pre.op());
        assertEquals("/etc/openvpn/client/work.conf", pre.config());

        Request.AllowTunnel up = (Request.AllowTunnel) parse("openvpn", "up", "tun0", "udp", "203.0.113.5", "1194", "10.8.0.1", "fd00:8::1");
        assertEquals("allow-tunnel", up.op());
        assertEquals(new Endpoint(IpAddress.parse("203.0.113.5"), Protocol.UDP, 1194), up.endpoint());
        assertEquals(List.of(IpAddress.parse("10.8.0.1"), IpAddress.parse("fd00:8::1")), up.dns());
        assertNull(((Request.AllowTunnel) parse("openvpn", "up", "tun0", "-", "-", "-")).endpoint());

        assertEquals("withdraw-tunnel", parse("openvpn", "down", "tun0", "restart").op());
        assertEquals("down", parse("openvpn", "down", "tun0", "exit").op());
    }

    @Test
    void hostileOrMalformedArgumentsAreRefused() {
        for (String[] args : List.of(
                new String[] {"openvpn", "pre-up", "relative.conf"},
                new String[] {"openvpn", "pre-up", "/etc/a.conf", "extra"},
                new String[] {"openvpn", "up", "tun0;reboot", "-", "-", "-"},
                new String[] {"openvpn", "up", "tun0", "udp", "203.0.113.5", "1194", "10.8.0.1;nft flush ruleset"},
                new String[] {"openvpn", "up", "tun0", "udp", "203.0.113.5", "01194"},
                new String[] {"openvpn", "up", "tun0", "udp", "203.0.113.5", "70000"},
                new String[] {"openvpn", "up", "tun0", "sctp", "203.0.113.5", "1194"},
                new String[] {"openvpn", "up", "tun0", "udp", "$(id)", "1194"},
                new String[] {"openvpn", "up", "tun0", "udp", "203.0.113.5"},
                new String[] {"openvpn", "down", "tun0"},
                new String[] {"openvpn", "down", "tun0", "later"},
                new String[] {"openvpn", "route-up", "tun0"})) {
            assertThrows(IllegalArgumentException.class, () -> HookMain.parseOpenVpn(args), String.join(" ", args));
        }
    }

    @Test
    void theSocketRefusesWhatTheScriptWouldNeverSend() {
        for (String line : List.of(
                "{\"op\":\"allow-remotes\",\"config\":\"/etc/a.conf\",\"iface\":\"tun0\"}",
                "{\"op\":\"allow-remotes\"}",
                "{\"op\":\"allow-tunnel\",\"iface\":\"tun0\",\"endpoint\":{\"address\":\"203.0.113.5\",\"port\":0,\"protocol\":\"udp\"}}",
                "{\"op\":\"allow-tunnel\",\"iface\":\"tun0\",\"endpoint\":{\"address\":\"x\",\"port\":1194,\"protocol\":\"udp\"}}",
                "{\"op\":\"allow-tunnel\",\"iface\":\"tun0\",\"endpoint\":\"203.0.113.5\"}",
                "{\"op\":\"down\",\"iface\":\"tun0\",\"endpoint\":{\"address\":\"203.0.113.5\",\"port\":1194,\"protocol\":\"udp\"}}",
                "{\"op\":\"withdraw-tunnel\",\"iface\":\"tun0\\\";\"}")) {
            assertThrows(IllegalArgumentException.class, () -> Wire.request(line), line);
        }
    }
}
