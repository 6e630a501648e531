package dev.killswitch.policy;

import dev.killswitch.config.Config;
import dev.killswitch.config.Gateway;
import dev.killswitch.config.Guests;
import dev.killswitch.config.Network;
import dev.killswitch.state.RuntimeState;
import java.time.Duration;
import java.time.Instant;
import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/** Pure: config and run-time state in, the policy to hold out. */
public final class PolicyBuilder {
    private PolicyBuilder() {}

    public static Policy build(Config config, RuntimeState state, Instant now) {
        TreeSet<String> tunnels = new TreeSet<>(config.tunnelInterfaces());
        state.grants().forEach((iface, g) -> {
            if (g.carriesTraffic()) tunnels.add(iface);
        });
        withoutCoveredNames(tunnels);
        boolean lanAllowed = state.lanOverride() != null ? state.lanOverride() : config.lanAllow();
        Duration pause = null;
        if (state.pausedUntil() != null && state.pausedUntil().isAfter(now)) {
            pause = Duration.between(now, state.pausedUntil());
        }
        List<Endpoint> endpoints = new ArrayList<>(config.endpoints());
        state.grants().values().forEach(g -> addAllNew(endpoints, g.endpoints()));
        // the servers of NetworkManager's saved VPN profiles that count (the service read them)
        state.profileEndpoints().values().forEach(e -> addAllNew(endpoints, e));
        // DNS precedence: the config's servers when it names any, else what the tunnels brought
        List<IpAddress> dns = new ArrayList<>(config.dnsServers());
        if (dns.isEmpty()) state.grants().values().forEach(g -> addAllNew(dns, g.dns()));
        return new Policy(tunnels, endpoints, lanAllowed ? config.lanNetworks() : List.of(),
                dns, config.inboundTcpPorts(), pause, downstream(config.gateway(), config.guests()));
    }

    /** Everything behind this machine, from the config alone. */
    static Downstream downstream(Gateway gateway, Guests guests) {
        if (gateway.interfaces().isEmpty() && guests.interfaces().isEmpty()) return Downstream.NONE;
        TreeSet<String> all = new TreeSet<>(gateway.interfaces());
        all.addAll(guests.interfaces());
        withoutCoveredNames(all);
        TreeSet<String> lanSide = new TreeSet<>(gateway.interfaces());
        withoutCoveredNames(lanSide);
        List<Network> sources = gateway.interfaces().isEmpty() ? List.of()
                : gateway.networks().isEmpty() ? ANY : gateway.networks();
        TreeSet<Integer> tcp = new TreeSet<>(gateway.tcpPorts());
        tcp.addAll(guests.tcpPorts());
        TreeSet<Integer> udp = new TreeSet<>(gateway.udpPorts());
        udp.addAll(guests.udpPorts());
        return new Downstream(all, lanSide, sources, gateway.masquerade() ? sources : List.of(), List.copyOf(tcp),
                List.copyOf(udp));
    }

    private static final List<Network> ANY = List.of(Network.parse("0.0.0.0/0"), Network.parse("::/0"));

    /** Drops names and patterns that another pattern of the set covers (see {@link #coveredByAnotherPattern}). */
    private static void withoutCoveredNames(java.util.Set<String> names) {
        names.removeIf(name -> coveredByAnotherPattern(name, names));
    }

    private static <T> void addAllNew(List<T> into, List<T> from) {
        for (T t : from) if (!into.contains(t)) into.add(t);
    }

    /**
     * "tun0" next to "tun*" (or "tun*" next to "t*") is redundant, and nft refuses overlapping
     * elements in an interval set.
     */
    private static boolean coveredByAnotherPattern(String name, java.util.Set<String> all) {
        for (String other : all) {
            if (other.equals(name) || !other.endsWith("*")) continue;
            String prefix = other.substring(0, other.length() - 1);
            if (name.startsWith(prefix)) return true;
        }
        return false;
    }
}
