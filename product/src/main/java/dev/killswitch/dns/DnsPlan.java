package dev.killswitch.dns;

import dev.killswitch.config.Config;
import dev.killswitch.config.IpAddress;
import dev.killswitch.state.Grant;
import dev.killswitch.state.RuntimeState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Pure: which resolvers each tunnel should have, from the config and the run-time state. The same
 * precedence as the firewall's (see PolicyBuilder): the config's {@code dns.servers} when it names
 * any, else the servers the tunnel brought (wg-quick's {@code DNS =}). Only tunnels that carry
 * traffic get resolvers; a tunnel whose endpoints are allowed but which is not up yet gets none.
 */
public final class DnsPlan {
    private DnsPlan() {}

    public static SortedMap<String, List<IpAddress>> desired(Config config, RuntimeState state) {
        TreeMap<String, List<IpAddress>> out = new TreeMap<>();
        for (Map.Entry<String, Grant> e : state.grants().entrySet()) {
            Grant g = e.getValue();
            if (!g.carriesTraffic()) continue;
            List<IpAddress> servers = config.dnsServers().isEmpty() ? g.dns() : config.dnsServers();
            if (!servers.isEmpty()) out.put(e.getKey(), List.copyOf(servers));
        }
        return Collections.unmodifiableSortedMap(out);
    }

    /** Every server of every tunnel once, in the order of the interface names: what resolv.conf lists. */
    public static List<IpAddress> union(Map<String, List<IpAddress>> byInterface) {
        List<IpAddress> all = new ArrayList<>();
        new TreeMap<>(byInterface).values().forEach(list -> list.forEach(a -> {
            if (!all.contains(a)) all.add(a);
        }));
        return all;
    }
}
