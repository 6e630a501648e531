package dev.killswitch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.killswitch.config.Protocol;
import java.util.List;
import org.junit.jupiter.api.Test;

/** explain's arguments are checked before anything runs: a literal, a port, a protocol, an interface name. */
class ExplainArgsTest {

    @Test
    void addressPortAndProtocol() {
        Commands.ExplainArgs a = Commands.ExplainArgs.parse(List.of("2001:DB8::5", "443", "TCP"), null, null);
        assertEquals("2001:db8::5", a.address().text());
        assertEquals(443, a.port());
        assertEquals(Protocol.TCP, a.protocol());
        assertEquals(Protocol.UDP, Commands.ExplainArgs.parse(List.of("203.0.113.5", "53"), null, null).protocol(), "udp by default");
        Commands.ExplainArgs ping = Commands.ExplainArgs.parse(List.of("203.0.113.5"), null, null);
        assertNull(ping.port());
        assertNull(ping.protocol());
        Commands.ExplainArgs dhcp = Commands.ExplainArgs.parse(List.of("255.255.255.255", "67", "udp"), "68", "eth0");
        assertEquals(68, dhcp.sourcePort());
        assertEquals("eth0", dhcp.iface());
    }

    @Test
    void hostileOrMalformedInputIsRefused() {
        for (List<String> bad : List.<List<String>>of(List.of("example.com"), List.of("-1.2.3.4"), List.of("203.0.113.5; reboot"),
                List.of("::ffff:203.0.113.5"), List.of("fe80::1%eth0"), List.of("203.0.113.5", "0"),
                List.of("203.0.113.5", "65536"), List.of("203.0.113.5", "+53"), List.of("203.0.113.5", "53", "icmp"),
                List.of("203.0.113.5", "tcp"), List.of("203.0.113.5", "1", "udp", "x"), List.of())) {
            assertThrows(IllegalArgumentException.class, () -> Commands.ExplainArgs.parse(bad, null, null), bad.toString());
        }
        assertThrows(IllegalArgumentException.class, () -> Commands.ExplainArgs.parse(List.of("203.0.113.5"), "68", null),
                "a source port without a protocol");
        assertThrows(IllegalArgumentException.class, () -> Commands.ExplainArgs.parse(List.of("203.0.113.5", "67"), "99999", null));
        assertThrows(IllegalArgumentException.class, () -> Commands.ExplainArgs.parse(List.of("203.0.113.5"), null, "eth0 up"));
        assertThrows(IllegalArgumentException.class, () -> Commands.ExplainArgs.parse(List.of("203.0.113.5"), null, "a-very-long-name0"));
    }

    @Test
    void badInputExitsTwoBeforeReadingAnything() {
        assertEquals(2, Main.run("--config", "/nonexistent/killswitch.toml", "--state-dir", "/nonexistent/state",
                "explain", "not-an-address"));
        assertEquals(2, Main.run("--config", "/nonexistent/killswitch.toml", "--state-dir", "/nonexistent/state",
                "explain", "203.0.113.5", "70000"));
    }
}
