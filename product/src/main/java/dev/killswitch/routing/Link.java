package dev.killswitch.routing;

import java.util.Set;

/**
 * One network interface, as {@code ip -d -j link show} lists it.
 *
 * @param kind the driver's kind ("wireguard", "tun", "veth", "bridge", "macvlan"), or "" for none (a real NIC)
 * @param tunType for kind "tun": "tun" or "tap", else ""
 * @param linkType "ether", "none" (a tun), "ppp", "loopback", ...
 * @param up administratively up (flag UP)
 * @param master the bridge or bond this link is a port of ({@code master}), or ""
 * @param lower the link it sits on ({@code link}: a macvlan's or vlan's lower, a veth's peer), or ""
 */
public record Link(String name, String kind, String tunType, String linkType, boolean up, String master, String lower) {
    private static final Set<String> VPN_LINK_TYPES = Set.of("none", "ppp");

    /** A link that is no port and sits on nothing. */
    public Link(String name, String kind, String tunType, String linkType, boolean up) {
        this(name, kind, tunType, linkType, up, "", "");
    }

    /** A link a VPN makes: WireGuard, a tun or tap device (OpenVPN, wireguard-go), or a PPP link. */
    public boolean vpnLike() {
        return kind.equals("wireguard") || kind.equals("tun") || VPN_LINK_TYPES.contains(linkType);
    }

    /** "wireguard", "tun", "tap", "ppp". */
    public String vpnKind() {
        if (kind.equals("tun")) return tunType.isEmpty() ? "tun" : tunType;
        if (!kind.isEmpty()) return kind;
        return linkType.equals("none") ? "tun" : linkType;
    }
}
