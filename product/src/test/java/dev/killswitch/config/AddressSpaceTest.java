package dev.killswitch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AddressSpaceTest {

    private static List<Network> nets(String... cidrs) {
        return java.util.Arrays.stream(cidrs).map(Network::parse).toList();
    }

    @Test
    void networksWhollyInsideTheNonPublicRangesAreNotPublic() {
        for (String n : List.of("10.0.0.0/8", "10.20.30.0/24", "172.16.0.0/12", "172.31.255.0/24", "192.168.0.0/16",
                "192.168.178.1/32", "169.254.0.0/16", "100.64.0.0/10", "100.127.0.0/16", "192.0.2.0/24",
                "198.51.100.0/24", "203.0.113.128/25", "224.0.0.251/32", "fc00::/7", "fd12:3456::/48", "fe80::/10",
                "2001:db8::/32", "2001:db8:1::/64", "ff02::1/128")) {
            assertTrue(AddressSpace.isNotPublic(Network.parse(n)), n);
            assertNull(AddressSpace.lanNetworkProblem(Network.parse(n), false), n);
        }
    }

    @Test
    void networksThatReachBeyondThemArePublic() {
        // 10.0.0.0/7 holds 11.0.0.0/8; 172.16.0.0/11 holds 172.0.0.0/12; 100.0.0.0/9 is public; so is 8.8.8.8
        for (String n : List.of("10.0.0.0/7", "172.0.0.0/11", "192.168.0.0/15", "100.0.0.0/9", "8.8.8.8/32",
                "203.0.112.0/23", "128.0.0.0/1", "224.0.0.0/4", "239.255.255.250/32", "2000::/3", "2001:db8::/31",
                "fc00::/6", "ff00::/8", "2a00:1450::/32")) {
            assertFalse(AddressSpace.isNotPublic(Network.parse(n)), n);
            String problem = AddressSpace.lanNetworkProblem(Network.parse(n), false);
            assertNotNull(problem, n);
            assertTrue(problem.startsWith("'" + n + "' covers public addresses"), problem);
            assertNull(AddressSpace.lanNetworkProblem(Network.parse(n), true), "with lan.allow_public: " + n);
        }
    }

    @Test
    void aDefaultRouteIsNeverTheLan() {
        for (String n : List.of("0.0.0.0/0", "::/0")) {
            assertTrue(AddressSpace.lanNetworkProblem(Network.parse(n), true).contains("a default route"), n);
            assertTrue(AddressSpace.lanNetworkProblem(Network.parse(n), false).contains("a default route"), n);
        }
    }

    @Test
    void networksThatTogetherCoverAFamilyAreRefused() {
        assertNotNull(AddressSpace.lanNetworksProblem(nets("0.0.0.0/1", "128.0.0.0/1")));
        assertNotNull(AddressSpace.lanNetworksProblem(nets("128.0.0.0/2", "0.0.0.0/1", "192.0.0.0/2", "10.0.0.0/8")),
                "in any order, with overlaps");
        assertNotNull(AddressSpace.lanNetworksProblem(nets("192.168.0.0/16", "::/1", "8000::/1")));
        assertNull(AddressSpace.lanNetworksProblem(nets("0.0.0.0/1", "128.0.0.0/2", "224.0.0.0/3")), "a /3 short of all");
        assertNull(AddressSpace.lanNetworksProblem(nets("0.0.0.0/1", "::/1")), "one half of each family");
        assertNull(AddressSpace.lanNetworksProblem(Config.DEFAULT_LAN_NETWORKS));
        assertNull(AddressSpace.lanNetworksProblem(List.of()));
    }

    @Test
    void endpointsNoServerHasAreRefused() {
        for (String a : List.of("0.0.0.0", "0.1.2.3", "127.0.0.1", "127.255.255.254", "224.0.0.1", "239.255.255.250",
                "255.255.255.255", "::", "::1", "ff02::1", "ff0e::1")) {
            String problem = AddressSpace.endpointAddressProblem(IpAddress.parse(a));
            assertNotNull(problem, a);
            assertTrue(problem.startsWith("'" + a + "' is "), problem);
        }
        for (String a : List.of("203.0.113.10", "198.51.100.1", "10.0.0.1", "1.1.1.1", "223.255.255.255",
                "255.255.255.254", "2001:db8::10", "::2", "fe80::1", "2a00:1450::1")) {
            assertNull(AddressSpace.endpointAddressProblem(IpAddress.parse(a)), a);
        }
    }

    @Test
    void containment() {
        Network ten = Network.parse("10.0.0.0/8");
        assertTrue(ten.contains(Network.parse("10.255.0.0/16")));
        assertTrue(ten.contains(ten));
        assertFalse(ten.contains(Network.parse("10.0.0.0/7")));
        assertFalse(ten.contains(Network.parse("11.0.0.0/8")));
        assertFalse(ten.contains(Network.parse("fd00::/8")), "never across families");
        assertTrue(Network.parse("0.0.0.0/0").contains(IpAddress.parse("203.0.113.5")));
        assertEquals("4294967295", Network.parse("0.0.0.0/0").last().toString());
    }
}
