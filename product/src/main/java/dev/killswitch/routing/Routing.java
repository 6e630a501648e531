package dev.killswitch.routing;

import java.util.List;

/** What the kernel routes by, read at one moment: routes of every table, the rules, the links. */
public record Routing(List<Route> routes, List<RoutingRule> rules4, List<RoutingRule> rules6, List<Link> links) {
    public Routing {
        routes = List.copyOf(routes);
        rules4 = List.copyOf(rules4);
        rules6 = List.copyOf(rules6);
        links = List.copyOf(links);
    }
}
