package dev.killswitch.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Tunnel patterns against the links of this machine. A pattern in {@code tunnel.interfaces} lets all traffic
 * out of every link it matches, so one that matches a network card ({@code "e*"} and eth0) turns the kill
 * switch off on it without a word. What a link is comes from its type, as the kernel reports it in
 * /sys/class/net/NAME/type ({@link NetLinks} reads it): Ethernet (1), which is also Wi-Fi, veth, bridges,
 * bonds, VLANs and macvlans; InfiniBand (32); raw 802.11 (801 to 803). A TAP device (OpenVPN's "dev tap") is
 * of Ethernet type too, but a tunnel: the kernel gives TUN and TAP devices a tun_flags file. WireGuard and
 * TUN devices are type 65534 (ARPHRD_NONE), PPP 512; those are taken as tunnels. Pure: no I/O.
 */
public final class TunnelLinks {
    /** ARPHRD_ETHER, ARPHRD_INFINIBAND, ARPHRD_IEEE80211, _PRISM, _RADIOTAP (linux/if_arp.h). */
    private static final Set<Integer> NETWORK_CARD_TYPES = Set.of(1, 32, 801, 802, 803);

    private TunnelLinks() {}

    /**
     * A link as /sys/class/net shows it.
     *
     * @param type    the ARPHRD_* number of /sys/class/net/NAME/type
     * @param tunTap  whether it is a TUN or TAP device (it has /sys/class/net/NAME/tun_flags)
     * @param devType DEVTYPE of its uevent file (wlan, bridge, vlan, ...), or "" when it has none
     */
    public record Link(String name, int type, boolean tunTap, String devType) {
        public Link {
            devType = devType == null ? "" : devType;
        }

        /** Whether traffic on it leaves the machine outside any tunnel. */
        public boolean isNotATunnel() {
            return NETWORK_CARD_TYPES.contains(type) && !tunTap;
        }

        /** "eth0 (Ethernet-type link, ARPHRD 1)", "wlan0 (wlan, ARPHRD 1)". */
        public String describe() {
            String what = !devType.isEmpty() ? devType : type == 1 ? "Ethernet-type link" : "network card";
            return name + " (" + what + ", link type " + type + ")";
        }
    }

    /** A pattern of {@code tunnel.interfaces} (at {@code index}) and a link it matches that is no tunnel. */
    public record Match(int index, String pattern, Link link) {
        public String key() {
            return "tunnel.interfaces[" + index + "]";
        }

        public String problem() {
            return "'" + pattern + "' matches " + link.describe() + ", which is not a tunnel: traffic on it would "
                    + "bypass the block; name the tunnel interfaces only (e.g. wg0, tun*), or set "
                    + "tunnel.allow_ethernet = true if " + link.name() + " carries only tunnel traffic (a veth to a "
                    + "VPN's network namespace)";
        }
    }

    /** Whether a {@code tunnel.interfaces} entry matches an interface name, as nft's oifname does: "tun*" a prefix. */
    public static boolean matches(String pattern, String name) {
        if (pattern.endsWith("*")) return name.startsWith(pattern.substring(0, pattern.length() - 1));
        return name.equals(pattern);
    }

    /** Every pair of a pattern and a link it matches that is not a tunnel, in the order of the patterns. */
    public static List<Match> notTunnels(List<String> patterns, List<Link> links) {
        List<Match> out = new ArrayList<>();
        for (int i = 0; i < patterns.size(); i++) {
            for (Link link : links) {
                if (link.isNotATunnel() && matches(patterns.get(i), link.name())) out.add(new Match(i, patterns.get(i), link));
            }
        }
        return out;
    }

    /** What {@code enable} refuses: {@link #notTunnels} of the config, unless it says {@code tunnel.allow_ethernet}. */
    public static List<Match> refused(Config config, List<Link> links) {
        return config.tunnelAllowEthernet() ? List.of() : notTunnels(config.tunnelInterfaces(), links);
    }

    /**
     * What {@code status} warns of: the same, as sentences, for a link that appeared after {@code enable}
     * (a USB network adapter named like a tunnel pattern), or a config edited since.
     */
    public static List<String> warnings(Config config, List<Link> links) {
        return refused(config, links).stream()
                .map(m -> m.key() + ": '" + m.pattern() + "' matches " + m.link().describe()
                        + ", which is not a tunnel: traffic on it is NOT blocked")
                .toList();
    }
}
