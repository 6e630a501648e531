package dev.killswitch.policy;

import dev.killswitch.config.Config;
import dev.killswitch.state.RuntimeState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.TreeSet;

/** Pure: config and run-time state in, the policy to hold out. */
public final class PolicyBuilder {
    private PolicyBuilder() {}

    public static Policy build(Config config, RuntimeState state, Instant now) {
        TreeSet<String> tunnels = new TreeSet<>(config.tunnelInterfaces());
        tunnels.addAll(state.tunnels());
        tunnels.removeIf(name -> coveredByAnotherPattern(name, tunnels));
        boolean lanAllowed = state.lanOverride() != null ? state.lanOverride() : config.lanAllow();
        Duration pause = null;
        if (state.pausedUntil() != null && state.pausedUntil().isAfter(now)) {
            pause = Duration.between(now, state.pausedUntil());
        }
        return new Policy(tunnels, config.endpoints(), lanAllowed ? config.lanNetworks() : List.of(),
                config.dnsServers(), config.inboundTcpPorts(), pause);
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
