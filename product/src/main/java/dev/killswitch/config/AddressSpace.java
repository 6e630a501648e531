package dev.killswitch.config;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Which networks the LAN allowance and which addresses an endpoint may name. Both open the block outside
 * the tunnel, so a value that opens far more than the user can have meant is refused, not taken: a LAN of
 * 0.0.0.0/0 turns the kill switch off, and a public range as the "LAN" is what a hostile network hands out
 * to have traffic bypass the tunnel (TunnelCrack, "LocalNet"). Pure: no I/O.
 */
public final class AddressSpace {

    /** A range of addresses and what it is. */
    record Range(Network network, String why) {}

    /**
     * A LAN network wholly inside one of these is not public. The documentation ranges are not routed on
     * the internet either (RFC 5737, RFC 3849), and the lab uses them as its LAN; the two multicast
     * ranges are link-scoped by definition (routers never forward them): mDNS, SSDP and the like.
     */
    static final List<Range> NOT_PUBLIC = List.of(
            range("10.0.0.0/8", "private, RFC 1918"),
            range("172.16.0.0/12", "private, RFC 1918"),
            range("192.168.0.0/16", "private, RFC 1918"),
            range("169.254.0.0/16", "link-local"),
            range("100.64.0.0/10", "carrier-grade NAT, RFC 6598"),
            range("192.0.2.0/24", "documentation, RFC 5737"),
            range("198.51.100.0/24", "documentation, RFC 5737"),
            range("203.0.113.0/24", "documentation, RFC 5737"),
            range("224.0.0.0/24", "link-local multicast, RFC 5771"),
            range("fc00::/7", "unique local, RFC 4193"),
            range("fe80::/10", "link-local"),
            range("2001:db8::/32", "documentation, RFC 3849"),
            range("ff02::/16", "link-local multicast, RFC 4291"));

    private static final List<Range> NOT_AN_ENDPOINT = List.of(
            range("0.0.0.0/8", "unspecified ('this host', RFC 1122): no server has it"),
            range("127.0.0.0/8", "loopback: always allowed, and no VPN server is there; name the server a local "
                    + "proxy connects to instead"),
            range("224.0.0.0/4", "multicast: a VPN server has a unicast address"),
            range("255.255.255.255/32", "the broadcast address: a VPN server has a unicast address"),
            range("::/128", "unspecified: no server has it"),
            range("::1/128", "loopback: always allowed, and no VPN server is there; name the server a local "
                    + "proxy connects to instead"),
            range("ff00::/8", "multicast: a VPN server has a unicast address"));

    private AddressSpace() {}

    private static Range range(String network, String why) {
        return new Range(Network.parse(network), why);
    }

    /** Whether no address of {@code n} is public: it lies wholly inside one of {@link #NOT_PUBLIC}. */
    public static boolean isNotPublic(Network n) {
        return NOT_PUBLIC.stream().anyMatch(r -> r.network().contains(n));
    }

    /**
     * Why {@code n} may not be a LAN network, or null when it may. A default route (prefix length 0) never
     * may; a network that is not wholly inside the private, link-local, CGNAT or documentation ranges only
     * with {@code allowPublic} (the config's {@code lan.allow_public}).
     */
    public static String lanNetworkProblem(Network n, boolean allowPublic) {
        if (n.prefix() == 0) {
            return "'" + n + "' is every " + family(n) + " address (a default route): allowing it as the LAN would turn "
                    + "the kill switch off; refused even with lan.allow_public";
        }
        if (allowPublic || isNotPublic(n)) return null;
        return "'" + n + "' covers public addresses: the LAN allowance opens the block outside the tunnel, and a "
                + "hostile network can hand out a public range as its LAN to pull traffic out of the tunnel "
                + "(TunnelCrack); list private ranges only (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, "
                + "100.64.0.0/10, fc00::/7, fe80::/10), or set lan.allow_public = true if you mean it";
    }

    /**
     * Why the networks together may not be the LAN, or null: when, like a /0, they cover every address of a
     * family between them (0.0.0.0/1 and 128.0.0.0/1). Refused even with {@code lan.allow_public}.
     */
    public static String lanNetworksProblem(List<Network> networks) {
        for (boolean v6 : new boolean[] {false, true}) {
            List<Network> family = networks.stream().filter(n -> n.v6() == v6).toList();
            if (family.size() > 1 && coversEverything(family, v6 ? 128 : 32)) {
                return String.join(", ", family.stream().map(Network::toString).toList()) + " cover every "
                        + (v6 ? "IPv6" : "IPv4") + " address between them, as " + (v6 ? "::/0" : "0.0.0.0/0")
                        + " would: allowing them as the LAN would turn the kill switch off; refused even with "
                        + "lan.allow_public";
            }
        }
        return null;
    }

    private static boolean coversEverything(List<Network> family, int bits) {
        List<Network> sorted = new ArrayList<>(family);
        sorted.sort(Comparator.comparing(Network::first));
        BigInteger next = BigInteger.ZERO;   // the lowest address not covered yet
        for (Network n : sorted) {
            if (n.first().compareTo(next) > 0) return false;
            if (n.last().compareTo(next) >= 0) next = n.last().add(BigInteger.ONE);
        }
        return next.equals(BigInteger.ONE.shiftLeft(bits));
    }

    /**
     * Why {@code a} cannot be a VPN server's address, or null when it can: unspecified (0.0.0.0/8, ::),
     * loopback (127.0.0.0/8, ::1), multicast (224.0.0.0/4, ff00::/8) or the broadcast address.
     */
    public static String endpointAddressProblem(IpAddress a) {
        for (Range r : NOT_AN_ENDPOINT) {
            if (r.network().contains(a)) return "'" + a + "' is " + r.why();
        }
        return null;
    }

    private static String family(Network n) {
        return n.v6() ? "IPv6" : "IPv4";
    }
}
