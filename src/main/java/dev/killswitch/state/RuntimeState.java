package dev.killswitch.state;

import java.time.Instant;
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
 */
public record RuntimeState(SortedMap<String, Grant> grants, Boolean lanOverride, Instant pausedUntil) {

    public static final RuntimeState EMPTY = new RuntimeState(new TreeMap<>(), null, null);

    public RuntimeState {
        grants = Collections.unmodifiableSortedMap(new TreeMap<>(grants));
    }

    /** Changes the grant of one interface; a grant that allows nothing is dropped. */
    public RuntimeState withGrant(String iface, UnaryOperator<Grant> edit) {
        TreeMap<String, Grant> next = new TreeMap<>(grants);
        Grant g = edit.apply(next.getOrDefault(iface, Grant.NONE));
        if (g.equals(Grant.NONE)) next.remove(iface);
        else next.put(iface, g);
        return new RuntimeState(next, lanOverride, pausedUntil);
    }

    public RuntimeState withoutGrant(String iface) {
        return withGrant(iface, g -> Grant.NONE);
    }

    public RuntimeState withLan(Boolean allow) {
        return new RuntimeState(grants, allow, pausedUntil);
    }

    public RuntimeState withPause(Instant until) {
        return new RuntimeState(grants, lanOverride, until);
    }
}
