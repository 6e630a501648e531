package dev.killswitch.state;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import java.util.List;

/**
 * What one tunnel was granted at run time by a hook or by hand.
 *
 * @param carriesTraffic the interface may carry traffic (after wg-quick's PostUp, or {@code up})
 * @param endpoints its VPN servers, reachable outside the tunnel (from PreUp, before the handshake)
 * @param dns the resolvers it brought (wg-quick's DNS =), reachable only through a tunnel
 */
public record Grant(boolean carriesTraffic, List<Endpoint> endpoints, List<IpAddress> dns) {

    public static final Grant NONE = new Grant(false, List.of(), List.of());

    public Grant {
        endpoints = List.copyOf(endpoints);
        dns = List.copyOf(dns);
    }

    public Grant withTraffic(boolean carries) {
        return new Grant(carries, endpoints, dns);
    }

    public Grant withEndpoints(List<Endpoint> e) {
        return new Grant(carriesTraffic, e, dns);
    }

    public Grant withDns(List<IpAddress> d) {
        return new Grant(carriesTraffic, endpoints, d);
    }
}
