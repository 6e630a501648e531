package dev.killswitch.routing;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.Network;
import dev.killswitch.policy.Addresses;
import dev.killswitch.policy.Explain;
import dev.killswitch.policy.Policy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What stops traffic now, beyond what the ruleset says: no tunnel granted, a granted tunnel that is not up,
 * routes that send traffic around a granted tunnel (a hostile DHCP server's classless static routes, as in
 * TunnelVision, CVE-2024-3661), the default route pointing elsewhere, VPN links that are up but not granted.
 * The block drops such traffic, as it should; these findings say why a connection is dead. Pure: the routing
 * state is read by the caller ({@link Routes}).
 * <p>
 * An ordinary packet's lookup is followed as the kernel does it: the rules in priority order (those for a packet
 * from any source without a mark, as a program sends it), each table by longest prefix, a rule's
 * {@code suppress_prefixlength} ignoring short results (wg-quick's ignores the main table's default), until a
 * table that has a default route. Routes of those tables that a route consulted earlier covers, or that another
 * route of the same prefix beats by metric, carry nothing and are left out.
 */
public final class Blocking {
    /** Link-local and multicast: never "the internet", whichever link they take. */
    private static final List<Network> NOT_AROUND = List.of(Network.parse("169.254.0.0/16"), Network.parse("224.0.0.0/4"),
            Network.parse("fe80::/10"), Network.parse("ff00::/8"));

    private Blocking() {}

    /**
     * One finding.
     *
     * @param kind "no-tunnel", "tunnel-not-up", "default-route", "route-around-tunnel", "vpn-link-not-granted"
     * @param text a sentence for people
     * @param route the route concerned, or null
     * @param link the interface concerned, or null
     */
    public record Finding(String kind, String text, Route route, String link) {}

    /**
     * Where a family's default route points for an ordinary packet, after the policy-routing rules.
     *
     * @param route the default route that ends the lookup, or null when there is none
     * @param throughTunnel it points at a granted tunnel
     * @param overridden more specific routes take every address from it (OpenVPN's 0.0.0.0/1 and 128.0.0.0/1)
     */
    public record DefaultRoute(boolean v6, Route route, boolean throughTunnel, boolean overridden) {}

    public record Report(List<Finding> findings, List<DefaultRoute> defaults) {
        public Report {
            findings = List.copyOf(findings);
            defaults = List.copyOf(defaults);
        }
    }

    /**
     * @param lanNetworks the config's LAN networks, allowed or not: routes to them are the LAN, not a way
     *                    around the tunnel
     */
    public static Report analyse(Policy policy, List<Network> lanNetworks, Routing routing) {
        List<Finding> findings = new ArrayList<>();
        List<DefaultRoute> defaults = new ArrayList<>();
        boolean granted = !policy.tunnels().isEmpty();
        if (!granted) {
            findings.add(new Finding("no-tunnel", "no tunnel granted: only loopback, the endpoints, DHCP, neighbour discovery"
                    + (policy.lanAllowed() ? " and the LAN" : "") + " may leave ('killswitch up IFACE' or a VPN's hook grants one)",
                    null, null));
        } else if (routing.links().stream().noneMatch(l -> l.up() && isTunnel(l.name(), policy))) {
            findings.add(new Finding("tunnel-not-up", "no granted tunnel is up (" + String.join(", ", policy.tunnels())
                    + "): traffic has no tunnel to take", null, null));
        }
        for (boolean v6 : new boolean[] {false, true}) {
            List<Consulted> consulted = consulted(routing, v6);
            Route def = consulted.isEmpty() ? null : defaultOf(consulted.get(consulted.size() - 1));
            List<Route> specific = effectiveSpecificRoutes(consulted);
            boolean through = def != null && def.dev() != null && isTunnel(def.dev(), policy);
            boolean overridden = def != null && Addresses.covers(
                    specific.stream().filter(Route::unicast).map(Route::destination).toList(), def.destination());
            defaults.add(new DefaultRoute(v6, def, through, overridden));
            if (!granted) continue;
            if (def != null && def.unicast() && def.dev() != null && !through && !overridden && !def.dev().equals("lo")) {
                findings.add(new Finding("default-route", "the " + (v6 ? "IPv6" : "IPv4") + " default route (" + def.describe()
                        + ") points at " + def.dev() + ", not a granted tunnel: what it carries is refused (counter dropped_out)",
                        def, def.dev()));
            }
            for (Route r : specific) {
                if (!aroundTheTunnel(r, policy, lanNetworks)) continue;
                findings.add(new Finding("route-around-tunnel", "route " + r.describe() + " sends traffic around the tunnel"
                        + " through " + r.dev() + ": what it carries is refused (counter dropped_out); a DHCP server's"
                        + " classless static routes can do this (TunnelVision, CVE-2024-3661)", r, r.dev()));
            }
        }
        for (Link l : routing.links()) {
            if (!l.up() || !l.vpnLike() || l.name().equals("lo") || isTunnel(l.name(), policy)) continue;
            findings.add(new Finding("vpn-link-not-granted", l.name() + " (" + l.vpnKind() + ") is up but not granted:"
                    + " traffic through it is refused (counter dropped_out); 'killswitch up " + l.name() + "' grants it",
                    null, l.name()));
        }
        return new Report(findings, defaults);
    }

    /** A table an ordinary packet's lookup consults, in order, with the prefix length it suppresses (-1: none). */
    private record Consulted(List<Route> routes, int suppress) {}

    /**
     * The tables an ordinary packet's lookup consults, by rule priority, up to the first that has a default
     * route it does not suppress (every lookup ends there). Without rules (not read), the main table.
     */
    private static List<Consulted> consulted(Routing routing, boolean v6) {
        List<RoutingRule> rules = v6 ? routing.rules6() : routing.rules4();
        if (rules.isEmpty()) rules = List.of(new RoutingRule(32766, "main", true, -1));
        List<Consulted> out = new ArrayList<>();
        for (RoutingRule rule : rules) {
            if (!rule.ordinaryTraffic() || rule.table() == null) continue;
            List<Route> routes = routing.routes().stream().filter(r -> r.v6() == v6 && r.table().equals(rule.table())).toList();
            Consulted c = new Consulted(routes, rule.suppressPrefixLength());
            out.add(c);
            if (defaultOf(c) != null) break;
        }
        return out;
    }

    private static Route defaultOf(Consulted c) {
        if (c.suppress() >= 0) return null;
        return c.routes().stream().filter(Route::isDefault).min(Comparator.comparingLong(Route::metric)).orElse(null);
    }

    /** The consulted tables' routes other than defaults that can carry a packet (see the class comment). */
    private static List<Route> effectiveSpecificRoutes(List<Consulted> consulted) {
        List<Route> out = new ArrayList<>();
        for (int i = 0; i < consulted.size(); i++) {
            Consulted c = consulted.get(i);
            for (Route r : c.routes()) {
                if (r.isDefault() || r.destination().prefix() <= c.suppress()) continue;
                if (r.type().equals("local") || r.type().equals("broadcast") || r.type().equals("multicast")) continue;
                if (!shadowed(r, c, consulted.subList(0, i))) out.add(r);
            }
        }
        return out;
    }

    /** A route of the same prefix and a lower metric in its table, or a covering route in a table consulted before. */
    private static boolean shadowed(Route r, Consulted own, List<Consulted> earlier) {
        for (Route o : own.routes()) {
            if (o != r && o.destination().equals(r.destination()) && o.metric() < r.metric()) return true;
        }
        for (Consulted e : earlier) {
            for (Route o : e.routes()) {
                if (o.type().equals("local") || o.type().equals("broadcast") || o.type().equals("multicast")) continue;
                if (o.destination().prefix() > e.suppress() && Addresses.contains(o.destination(), r.destination())) return true;
            }
        }
        return false;
    }

    /**
     * A unicast route through an interface that is not a granted tunnel, other than an interface's own subnet
     * (protocol kernel), link-local and multicast space, the LAN networks and a host route to an endpoint (the
     * tunnel's transport, as OpenVPN and NetworkManager add it).
     */
    private static boolean aroundTheTunnel(Route r, Policy policy, List<Network> lanNetworks) {
        if (!r.unicast() || r.dev() == null || r.dev().equals("lo") || isTunnel(r.dev(), policy)) return false;
        if (r.protocol().equals("kernel")) return false;
        if (inAny(r.destination(), NOT_AROUND) || inAny(r.destination(), lanNetworks)) return false;
        return !toEndpoint(r, policy);
    }

    private static boolean toEndpoint(Route r, Policy policy) {
        int host = r.v6() ? 128 : 32;
        if (r.destination().prefix() != host) return false;
        for (Endpoint e : policy.endpoints()) if (e.address().equals(r.destination().address())) return true;
        return false;
    }

    private static boolean inAny(Network n, List<Network> networks) {
        for (Network outer : networks) if (Addresses.contains(outer, n)) return true;
        return false;
    }

    private static boolean isTunnel(String iface, Policy policy) {
        return Explain.matchingPattern(iface, policy.tunnels()) != null;
    }
}
