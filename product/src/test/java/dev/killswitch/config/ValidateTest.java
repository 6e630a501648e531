package dev.killswitch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ValidateTest {

    @ParameterizedTest
    @ValueSource(strings = {"wg0", "tun0", "eth0.100", "wg-home_1", "a", "abcdefghijklmno"})
    void acceptsKernelInterfaceNames(String name) {
        assertNull(Validate.interfaceNameProblem(name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "abcdefghijklmnop", "wg0;reboot", "wg0 ", "wg\"0", "wg0\n", "../x", "wg0*", "$(id)",
            "wg0}", "tun@x", ".", ".."})
    void rejectsAnythingElse(String name) {
        assertNotNull(Validate.interfaceNameProblem(name), name);
        assertThrows(IllegalArgumentException.class, () -> Validate.interfaceName(name));
    }

    @Test
    void patternsEndInOneStar() {
        assertNull(Validate.interfacePatternProblem("tun*"));
        assertNotNull(Validate.interfacePatternProblem("*"));
        assertNotNull(Validate.interfacePatternProblem("t*n*"));
        assertNotNull(Validate.interfacePatternProblem("tun;*"));
    }

    @Test
    void problemShowsControlCharactersEscaped() {
        String problem = Validate.interfaceNameProblem("wg\u001b[31m");
        assertTrue(problem.contains("\\u001b"), problem);
    }

    @Test
    void addressesAreLiteralsOnly() {
        assertTrue(Validate.isIpv4("203.0.113.10"));
        assertFalse(Validate.isIpv4("203.0.113.256"));
        assertFalse(Validate.isIpv4("203.0.113"));
        assertFalse(Validate.isIpv4("01.2.3.4x"));
        assertTrue(Validate.isIpv6("2001:db8::1"));
        assertTrue(Validate.isIpv6("::1"));
        // host names must never be looked up: they are rejected before any resolver is asked
        assertFalse(Validate.isIpv6("example.com"));
        assertFalse(Validate.isIpv6("cafe"));
        assertFalse(Validate.isIpv6("fe80::1%eth0"));
    }

    @Test
    void ipv6IsKeptInCanonicalForm() {
        assertEquals("2001:db8::10", IpAddress.parse("2001:DB8:0:0::10").text());
        assertEquals("2001:db8:0:1::", IpAddress.parse("2001:db8:0:1:0:0:0:0").text());
        assertEquals("::", IpAddress.parse("::").text());
        assertEquals("1:0:2:0:3:0:4:0", IpAddress.parse("1:0:2:0:3:0:4:0").text());
    }

    @Test
    void networksNeedZeroHostBits() {
        assertEquals("10.0.0.0/8", Network.parse("10.0.0.0/8").toString());
        assertEquals("fe80::/10", Network.parse("fe80::/10").toString());
        assertEquals("203.0.113.7/32", Network.parse("203.0.113.7").toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Network.parse("10.1.2.3/8"));
        assertTrue(e.getMessage().contains("did you mean 10.0.0.0/8"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Network.parse("10.0.0.0/33"));
        assertThrows(IllegalArgumentException.class, () -> Network.parse("10.0.0.0/x"));
    }

    @Test
    void interfacePatternsOverlap() {
        assertTrue(Validate.interfacePatternsOverlap("wg0", "wg0"));
        assertTrue(Validate.interfacePatternsOverlap("tun*", "tun0"));
        assertTrue(Validate.interfacePatternsOverlap("tun0", "tun*"));
        assertTrue(Validate.interfacePatternsOverlap("t*", "tun*"));
        assertTrue(Validate.interfacePatternsOverlap("veth*", "veth*"));
        assertFalse(Validate.interfacePatternsOverlap("wg0", "wg1"));
        assertFalse(Validate.interfacePatternsOverlap("tun*", "tap0"));
        assertFalse(Validate.interfacePatternsOverlap("br*", "virbr0"));
        assertFalse(Validate.interfacePatternsOverlap("wg0", "wg"));
    }
}
