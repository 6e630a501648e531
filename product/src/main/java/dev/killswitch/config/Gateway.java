package dev.killswitch.config;

import java.util.List;

/**
 * The {@code [gateway]} table: this machine routes a LAN, and the clients on it reach the internet only
 * through a tunnel, exactly as the machine itself does.
 *
 * @param interfaces the LAN side: interface names and "prefix*" patterns (checked by
 *                   {@link Validate#interfacePatternProblem}); empty when this machine is no gateway
 * @param networks the LAN's own networks: only packets from them are forwarded to a tunnel (a client cannot
 *                 send with a spoofed source); empty means any source on the LAN side
 * @param masquerade the LAN's packets leave through the tunnel with the tunnel's address (source NAT), for a
 *                   VPN server that routes only the address it gave this machine
 * @param tcpPorts TCP ports of this machine that the LAN side may reach, besides DNS (53)
 * @param udpPorts the same for UDP, besides DNS (53), DHCP (67) and DHCPv6 (547)
 */
public record Gateway(List<String> interfaces, List<Network> networks, boolean masquerade, List<Integer> tcpPorts,
        List<Integer> udpPorts) {
    public static final Gateway NONE = new Gateway(List.of(), List.of(), false, List.of(), List.of());

    public Gateway {
        interfaces = List.copyOf(interfaces);
        networks = List.copyOf(networks);
        tcpPorts = List.copyOf(tcpPorts);
        udpPorts = List.copyOf(udpPorts);
    }
}
