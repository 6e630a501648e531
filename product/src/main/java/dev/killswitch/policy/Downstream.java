package dev.killswitch.policy;

import dev.killswitch.config.Network;
import java.util.Collections;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What the table holds for the networks behind this machine: the LAN of a gateway and the bridges of local
 * VMs and containers ("downstream"). This machine serves them DHCP, DNS and the listed ports; their
 * traffic goes out only through a tunnel.
 *
 * @param interfaces every downstream interface name or "prefix*" pattern (gateway LAN side and guests)
 * @param gateway those of the gateway's LAN side
 * @param gatewaySources the sources the gateway forwards from its LAN side (0.0.0.0/0 and ::/0 when the
 *                       config names no networks); empty when there is no gateway
 * @param masquerade the sources whose packets leave through a tunnel with the tunnel's address; empty when
 *                   masquerading is off
 * @param tcpPorts TCP ports of this machine that downstream may reach besides DNS
 * @param udpPorts the same for UDP, besides DNS, DHCP and DHCPv6
 */
public record Downstream(SortedSet<String> interfaces, SortedSet<String> gateway, List<Network> gatewaySources,
        List<Network> masquerade, List<Integer> tcpPorts, List<Integer> udpPorts) {
    public static final Downstream NONE = new Downstream(new TreeSet<>(), new TreeSet<>(), List.of(), List.of(),
            List.of(), List.of());

    public Downstream {
        interfaces = Collections.unmodifiableSortedSet(new TreeSet<>(interfaces));
        gateway = Collections.unmodifiableSortedSet(new TreeSet<>(gateway));
        gatewaySources = List.copyOf(gatewaySources);
        masquerade = List.copyOf(masquerade);
        tcpPorts = List.copyOf(tcpPorts);
        udpPorts = List.copyOf(udpPorts);
    }
}
