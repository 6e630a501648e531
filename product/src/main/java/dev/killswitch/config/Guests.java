package dev.killswitch.config;

import java.util.List;

/**
 * The {@code [guests]} table: bridges of this machine's own VMs and containers (virbr0, docker0, lxcbr0,
 * cni-podman0...). This machine serves them DHCP and DNS; their traffic reaches the internet only through a
 * tunnel. Their virtualisation tool does its own source NAT.
 *
 * @param interfaces interface names and "prefix*" patterns; empty when there are none
 * @param tcpPorts TCP ports of this machine that the guests may reach, besides DNS (53)
 * @param udpPorts the same for UDP, besides DNS (53), DHCP (67) and DHCPv6 (547)
 */
public record Guests(List<String> interfaces, List<Integer> tcpPorts, List<Integer> udpPorts) {
    public static final Guests NONE = new Guests(List.of(), List.of(), List.of());

    public Guests {
        interfaces = List.copyOf(interfaces);
        tcpPorts = List.copyOf(tcpPorts);
        udpPorts = List.copyOf(udpPorts);
    }
}
