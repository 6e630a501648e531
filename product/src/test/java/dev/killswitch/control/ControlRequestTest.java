package dev.killswitch.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.IpAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ControlRequestTest {

    @Test
    void roundTripsEveryOp() throws Exception {
        for (ControlRequest r : List.of(ControlRequest.up("wg0"), ControlRequest.down("tun0"),
                ControlRequest.allowTunnel("tun0", List.of(IpAddress.parse("10.8.0.1"), IpAddress.parse("fd00::1"))),
                ControlRequest.allowLan(true), ControlRequest.allowLan(false), ControlRequest.pause(Duration.ofMinutes(5)),
                ControlRequest.simple("resume"), ControlRequest.simple("enable"), ControlRequest.simple("disable"),
                ControlRequest.allowEndpoints("wg0", "/etc/wireguard/wg0.conf"),
                ControlRequest.allowTunnel("wg0", List.of(), "/etc/wireguard/wg0.conf"))) {
            String line = r.toLine();
            assertTrue(line.endsWith("\n") && line.indexOf('\n') == line.length() - 1, line);
            assertEquals(r, ControlRequest.parse(line.trim()));
        }
    }

    @Test
    void parsesAHandWrittenLine() {
        ControlRequest r = ControlRequest.parse("{\"op\":\"up\",\"iface\":\"wg0\"}");
        assertEquals("up", r.op());
        assertEquals("wg0", r.iface());
        assertEquals(-1, r.pid());
        assertEquals(Duration.ofMillis(1500), ControlRequest.parse("{\"op\":\"pause\",\"ms\":1500}").pause());
    }

    @Test
    void refusesHostileInterfaceNames() {
        for (String bad : List.of("", "wg0; nft flush ruleset", "a/b", "../../etc", "x".repeat(16), "wg0\\n", "wg 0",
                "wg0\\u0000", "tun*", "$(reboot)", "wg0\\\"}")) {
            String line = "{\"op\":\"up\",\"iface\":\"" + bad + "\"}";
            assertThrows(IllegalArgumentException.class, () -> ControlRequest.parse(line), line);
            String line2 = "{\"op\":\"allow-tunnel\",\"iface\":\"" + bad + "\",\"dns\":[]}";
            assertThrows(IllegalArgumentException.class, () -> ControlRequest.parse(line2), line2);
        }
    }

    @Test
    void refusesEverythingElseMalformed() {
        for (String bad : List.of("", "   ", "not json", "[1,2]", "\"up\"", "{}", "{\"op\":\"flush\"}", "{\"op\":1}",
                "{\"op\":\"up\"}", "{\"op\":\"up\",\"iface\":7}", "{\"op\":\"up\",\"iface\":\"wg0\",\"extra\":1}",
                "{\"op\":\"up\",\"iface\":\"wg0\",\"dns\":[\"1.1.1.1\"]}",
                "{\"op\":\"allow-tunnel\",\"iface\":\"wg0\",\"dns\":[\"dns.example\"]}",
                "{\"op\":\"allow-tunnel\",\"iface\":\"wg0\",\"dns\":\"1.1.1.1\"}",
                "{\"op\":\"allow-lan\",\"allow\":\"yes\"}", "{\"op\":\"allow-lan\"}",
                "{\"op\":\"pause\"}", "{\"op\":\"pause\",\"ms\":0}", "{\"op\":\"pause\",\"ms\":-5}",
                "{\"op\":\"pause\",\"ms\":86400001}", "{\"op\":\"pause\",\"ms\":\"5m\"}",
                "{\"op\":\"up\",\"iface\":\"" + "a".repeat(9000) + "\"}",
                "{\"op\":\"allow-endpoints\",\"iface\":\"wg0\"}",
                "{\"op\":\"up\",\"iface\":\"wg0\",\"config\":\"/etc/wireguard/wg0.conf\"}",
                "{\"op\":\"allow-endpoints\",\"iface\":\"wg0\",\"config\":7}",
                "{\"op\":\"allow-endpoints\",\"iface\":\"wg0\",\"config\":\"wg0.conf\"}",
                "{\"op\":\"allow-endpoints\",\"iface\":\"wg0\",\"config\":\"/etc/../etc/shadow\"}",
                "{\"op\":\"allow-tunnel\",\"iface\":\"wg0\",\"config\":\"/etc/wg 0.conf\"}",
                "{\"op\":\"allow-tunnel\",\"iface\":\"wg0\",\"config\":\"/etc/$(id).conf\"}")) {
            assertThrows(IllegalArgumentException.class, () -> ControlRequest.parse(bad), bad);
        }
    }
}
