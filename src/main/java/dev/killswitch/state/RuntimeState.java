package dev.killswitch.state;

import java.time.Instant;
import java.util.Collections;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What changed at run time on top of the config: tunnels brought up by hooks or by hand, the LAN
 * switch, a pause. Kept in the state directory so that a reload renders it again.
 *
 * @param tunnels interfaces allowed by {@code up}, beyond those of the config
 * @param lanOverride null to follow the config, else the value of {@code allow-lan}
 * @param pausedUntil when a pause ends, or null
 */
public record RuntimeState(SortedSet<String> tunnels, Boolean lanOverride, Instant pausedUntil) {

    public static final RuntimeState EMPTY = new RuntimeState(new TreeSet<>(), null, null);

    public RuntimeState {
        tunnels = Collections.unmodifiableSortedSet(new TreeSet<>(tunnels));
    }

    public RuntimeState withTunnel(String iface, boolean allowed) {
        SortedSet<String> next = new TreeSet<>(tunnels);
        if (allowed) next.add(iface);
        else next.remove(iface);
        return new RuntimeState(next, lanOverride, pausedUntil);
    }

    public RuntimeState withLan(Boolean allow) {
        return new RuntimeState(tunnels, allow, pausedUntil);
    }

    public RuntimeState withPause(Instant until) {
        return new RuntimeState(tunnels, lanOverride, until);
    }
}
