package dev.killswitch.daemon;

import dev.killswitch.config.IpAddress;
import java.util.List;
import java.util.Map;

/** Where the service learns which NetworkManager VPNs are activated: the seam between D-Bus and the grants. */
interface NmSource {
    /** Whether anything can be said now: false while there is no system bus (the grants are then left as they are). */
    boolean available();

    /**
     * iface -> resolvers (IPv4, then IPv6) of every activated VPN; empty when NetworkManager has no owner on
     * the bus. Values that fail validation are left out and described in {@code problems}. Throws when a
     * read failed half way (an object gone, NetworkManager restarting): the caller reads again later.
     */
    Map<String, List<IpAddress>> activatedVpns(List<String> problems) throws Exception;
}
