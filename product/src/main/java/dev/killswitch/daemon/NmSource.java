package dev.killswitch.daemon;

import dev.killswitch.config.IpAddress;
import dev.killswitch.nm.NmProfile;
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

    /**
     * {@link #activatedVpns} for the one active connection at {@code path} (named by its VpnStateChanged): its iface
     * -> resolvers when it is an activated VPN, else empty. Throws when it cannot be read.
     */
    Map<String, List<IpAddress>> activatedVpn(String path, List<String> problems) throws Exception;

    /**
     * The object paths of NetworkManager's saved connections (Settings.ListConnections); null when
     * NetworkManager has no owner on the bus. Throws when the read failed.
     */
    List<String> connectionPaths() throws Exception;

    /**
     * One saved connection's settings (GetSettings); throws when it cannot be read (also when it went away since
     * it was listed: the next list no longer has it).
     */
    NmProfile profile(String path) throws Exception;
}
