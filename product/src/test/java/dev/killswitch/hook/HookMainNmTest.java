package dev.killswitch.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.IpAddress;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The argument checks of {@code killswitch hook nm ...}, before any kill switch is loaded. */
class HookMainNmTest {

    private static HookMain.NmEvent parse(String... args) {
        return HookMain.parseNm(args);
    }

    @Test
    void vpnUpWithResolvers() {
        HookMain.NmEvent e = parse("nm", "vpn-up", "tun0", "10.8.0.1", "2001:db8::53");
        assertTrue(e.up());
        assertEquals("tun0", e.iface());
        assertEquals(List.of(IpAddress.parse("10.8.0.1"), IpAddress.parse("2001:db8::53")), e.dns());
    }

    @Test
    void vpnUpWithoutResolversAndVpnDown() {
        assertEquals(List.of(), parse("nm", "vpn-up", "tun0").dns());
        HookMain.NmEvent down = parse("nm", "vpn-down", "vpn.1_a-b");
        assertFalse(down.up());
        assertEquals("vpn.1_a-b", down.iface());
    }

    @Test
    void refusesHostileOrMalformedInterfaceNames() {
        for (String bad : List.of("", "tun0;reboot", "tun0\nnameserver", "a234567890123456", "..", ".", "tun 0",
                "tun0$(id)", "tün0", "*")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse("nm", "vpn-up", bad),
                    "accepted interface '" + bad + "'");
            assertFalse(e.getMessage().contains("\n"), "the message prints the name safely: " + e.getMessage());
        }
    }

    @Test
    void refusesResolversThatAreNotIpLiterals() {
        for (String bad : List.of("dns.example.net", "10.8.0.1\nnameserver 8.8.8.8", "256.1.1.1", "10.8.0", "", "10.8.0.1/32")) {
            assertThrows(IllegalArgumentException.class, () -> parse("nm", "vpn-up", "tun0", "10.8.0.1", bad),
                    "accepted resolver '" + bad + "'");
        }
    }

    @Test
    void refusesUnknownEventsExtraArgumentsAndMissingInterface() {
        assertThrows(IllegalArgumentException.class, () -> parse("nm", "up", "tun0"));
        assertThrows(IllegalArgumentException.class, () -> parse("nm", "pre-up", "tun0"));
        assertThrows(IllegalArgumentException.class, () -> parse("nm", "vpn-down", "tun0", "10.8.0.1"));
        assertThrows(IllegalArgumentException.class, () -> parse("nm", "vpn-up"));
        assertThrows(IllegalArgumentException.class, () -> parse("wg-quick", "vpn-up", "tun0"));
    }

    @Test
    void helpNamesTheNmHook() {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, HookMain.run("--help"));
        } finally {
            System.setOut(old);
        }
        String help = out.toString(StandardCharsets.UTF_8);
        assertTrue(help.contains("killswitch hook nm vpn-up IFACE [DNS...]"), help);
        assertTrue(help.contains("/etc/NetworkManager/dispatcher.d/90-killswitch"), help);
    }
}
