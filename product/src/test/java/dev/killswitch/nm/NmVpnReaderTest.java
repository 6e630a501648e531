package dev.killswitch.nm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.IpAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** IP6Config's Nameservers entries ({@code ay}, 16 bytes each) to addresses. */
class NmVpnReaderTest {

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        return b;
    }

    @Test
    void sixteenBytesBecomeTheCanonicalIpv6Address() {
        // fd00:8::1, as busctl showed it in the lab: aay 1 16 253 0 0 8 0 0 0 0 0 0 0 0 0 0 0 1
        assertEquals(IpAddress.parse("fd00:8::1"), NmVpnReader.ipv6(bytes(253, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)));
        IpAddress a = NmVpnReader.ipv6(bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0, 0x53));
        assertEquals("2001:db8::abcd:53", a.text());
        assertTrue(a.v6());
        assertEquals("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", NmVpnReader.ipv6(bytes(0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff,
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)).text());
    }

    @Test
    void aListOfBytesIsTakenLikeAnArray() {
        List<Byte> list = new ArrayList<>();
        for (byte b : bytes(0x20, 0x01, 0x0d, 0xb8, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)) list.add(b);
        assertEquals(IpAddress.parse("2001:db8:8::1"), NmVpnReader.ipv6(list));
        assertEquals(IpAddress.parse("2001:db8:8::1"), NmVpnReader.ipv6(list.toArray(new Byte[0])));
    }

    @Test
    void anyOtherLengthIsRefused() {
        for (byte[] bad : List.of(new byte[0], bytes(10, 8, 0, 1), new byte[15], new byte[17], new byte[32])) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NmVpnReader.ipv6(bad),
                    "accepted " + bad.length + " bytes");
            assertTrue(e.getMessage().contains(bad.length + " bytes"), e.getMessage());
        }
    }

    @Test
    void anIpv4MappedAddressOrSomethingElseIsRefused() {
        // ::ffff:10.8.0.1 would be sent as IPv4, past the dns6 set: not an IPv6 resolver
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NmVpnReader.ipv6(bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 8, 0, 1)));
        assertTrue(e.getMessage().contains("IPv4-mapped"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NmVpnReader.ipv6(null));
        assertThrows(IllegalArgumentException.class, () -> NmVpnReader.ipv6("fd00:8::1"));
        assertThrows(IllegalArgumentException.class, () -> NmVpnReader.ipv6(List.of(1, 2, 3)));
    }
}
