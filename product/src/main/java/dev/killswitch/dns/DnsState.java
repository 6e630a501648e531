package dev.killswitch.dns;

import dev.killswitch.config.IpAddress;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What killswitch changed in the resolver configuration, kept in the state directory so that any
 * later process can undo it: which backend did it, what each tunnel got, and (resolv-conf) the
 * original file.
 *
 * @param backend  "resolv-conf" or "resolved"; null when nothing is applied
 * @param applied  by interface
 * @param original resolv.conf before the first change; null when none is kept
 */
public record DnsState(String backend, SortedMap<String, Applied> applied, ResolvConfOriginal original) {

    public static final DnsState EMPTY = new DnsState(null, new TreeMap<>(), null);

    /**
     * @param servers the resolvers the tunnel got
     * @param ifindex the link's index when systemd-resolved was told (links are addressed by index); -1 otherwise
     */
    public record Applied(List<IpAddress> servers, int ifindex) {
        public Applied {
            servers = List.copyOf(servers);
        }
    }

    public DnsState {
        applied = Collections.unmodifiableSortedMap(new TreeMap<>(applied));
    }

    public boolean isEmpty() {
        return applied.isEmpty() && original == null;
    }

    public DnsState with(String iface, Applied a, String backendName) {
        TreeMap<String, Applied> next = new TreeMap<>(applied);
        next.put(iface, a);
        return new DnsState(backendName, next, original);
    }

    public DnsState without(String iface) {
        TreeMap<String, Applied> next = new TreeMap<>(applied);
        next.remove(iface);
        return new DnsState(next.isEmpty() && original == null ? null : backend, next, original);
    }

    public DnsState withOriginal(ResolvConfOriginal o) {
        return new DnsState(backend, applied, o);
    }
}
