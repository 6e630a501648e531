package dev.killswitch.state;

import dev.killswitch.config.Endpoint;
import java.time.Instant;
import java.util.List;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * What changed at run time on top of the config: what hooks or people granted each tunnel, the LAN
 * switch, a pause. Kept in the state directory so that a reload renders it again.
 *
 * @param grants by interface name
 * @param lanOverride null to follow the config, else the value of {@code allow-lan}
 * @param pausedUntil when a pause ends, or null
 * @param profileEndpoints by NetworkManager connection uuid: the servers of the saved VPN profiles that count
 *                         (see {@code NmProfileChoice}), reachable outside the tunnel; set by the service alone
 */
public record RuntimeState(SortedMap<String, Grant> grants, Boolean lanOverride, Instant pausedUntil,
        SortedMap<String, List<Endpoint>> profileEndpoints) {

    public static final RuntimeState EMPTY = new RuntimeState(new TreeMap<>(), null, null, new TreeMap<>());

    public RuntimeState {
        grants = Collections.unmodifiableSortedMap(new TreeMap<>(grants));
        TreeMap<String, List<Endpoint>> p = new TreeMap<>();
        profileEndpoints.forEach((uuid, e) -> p.put(uuid, List.copyOf(e)));
        profileEndpoints = Collections.unmodifiableSortedMap(p);
    }

    public RuntimeState(SortedMap<String, Grant> grants, Boolean lanOverride, Instant pausedUntil) {
        this(grants, lanOverride, pausedUntil, new TreeMap<>());
    }

    /** The servers of NetworkManager's profiles that count, replacing what was there. */
    public RuntimeState withProfileEndpoints(SortedMap<String, List<Endpoint>> byUuid) {
        return new RuntimeState(grants, lanOverride, pausedUntil, byUuid);
    }

    /** Changes the grant of one interface; a grant that allows nothing is dropped. */
    public RuntimeState withGrant(String iface, UnaryOperator<Grant> edit) {
        TreeMap<String, Grant> next = new TreeMap<>(grants);
        Grant g = edit.apply(next.getOrDefault(iface, Grant.NONE));
        if (g.equals(Grant.NONE)) next.remove(iface);
        else next.put(iface, g);
        return new RuntimeState(next, lanOverride, pausedUntil, profileEndpoints);
    }

    public RuntimeState withoutGrant(String iface) {
        return withGrant(iface, g -> Grant.NONE);
    }

    public RuntimeState withLan(Boolean allow) {
        return new RuntimeState(grants, allow, pausedUntil, profileEndpoints);
    }

    public RuntimeState withPause(Instant until) {
        return new RuntimeState(grants, lanOverride, until, profileEndpoints);
    }
}
