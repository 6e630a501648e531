package dev.killswitch.policy;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Network;
import java.time.Duration;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The ruleset to hold in the kernel, as plain data: what each named set of the table contains.
 * The rules themselves never change at run time; only these contents do.
 *
 * @param tunnels interface names and "prefix*" patterns allowed to carry traffic
 * @param endpoints VPN servers reachable outside the tunnel (address, protocol, port)
 * @param lan networks reachable outside the tunnel; empty while the LAN is not allowed
 * @param dns resolvers reachable on ports 53 and 853, only through a tunnel
 * @param inboundTcp local TCP ports that accept connections on any interface
 * @param pause time left of a manual pause, or null when not paused
 * @param downstream the gateway's LAN side and local guests' bridges, or {@link Downstream#NONE}
 * @param gate the links the link-level gate hooks, read from the kernel; {@link Gate#NONE} from the config alone
 */
public record Policy(
        SortedSet<String> tunnels,
        List<Endpoint> endpoints,
        List<Network> lan,
        List<IpAddress> dns,
        List<Integer> inboundTcp,
        Duration pause,
        Downstream downstream,
        Gate gate) {

    public Policy {
        tunnels = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(tunnels));
        endpoints = List.copyOf(endpoints);
        lan = List.copyOf(lan);
        dns = List.copyOf(dns);
        inboundTcp = List.copyOf(inboundTcp);
        java.util.Objects.requireNonNull(downstream, "downstream");
        java.util.Objects.requireNonNull(gate, "gate");
    }

    /** With nothing gated. */
    public Policy(SortedSet<String> tunnels, List<Endpoint> endpoints, List<Network> lan, List<IpAddress> dns,
            List<Integer> inboundTcp, Duration pause, Downstream downstream) {
        this(tunnels, endpoints, lan, dns, inboundTcp, pause, downstream, Gate.NONE);
    }

    /** The same policy with these links gated. */
    public Policy withGate(Gate links) {
        return new Policy(tunnels, endpoints, lan, dns, inboundTcp, pause, downstream, links);
    }

    /** With nothing downstream. */
    public Policy(SortedSet<String> tunnels, List<Endpoint> endpoints, List<Network> lan, List<IpAddress> dns,
            List<Integer> inboundTcp, Duration pause) {
        this(tunnels, endpoints, lan, dns, inboundTcp, pause, Downstream.NONE);
    }

    public boolean lanAllowed() {
        return !lan.isEmpty();
    }
}
