package dev.killswitch.routing;

import dev.killswitch.config.Config;
import dev.killswitch.config.Validate;
import java.util.ArrayList;
import java.util.List;

/**
 * Pure: whether a downstream interface ({@code gateway.interfaces}, {@code guests.interfaces}) holds a default
 * route. The table lets this machine send anything to a downstream interface, which is right for a LAN side
 * or a guests' bridge and lets everything out when the name (or pattern) is the uplink's: {@code enable}
 * refuses it, {@code status} warns of it.
 */
public final class DownstreamRoutes {
    private DownstreamRoutes() {}

    /**
     * One problem of the config against the routes.
     *
     * @param key the config key of the pattern, e.g. {@code gateway.interfaces[0]}
     * @param problem what is wrong, naming the pattern, the interface and the route
     */
    public record Problem(String key, String problem) {}

    /** Every default route (any table, either family) whose device a downstream pattern matches, in config order. */
    public static List<Problem> problems(Config config, List<Route> routes) {
        List<Problem> problems = new ArrayList<>();
        check("gateway.interfaces", config.gateway().interfaces(), routes, problems);
        check("guests.interfaces", config.guests().interfaces(), routes, problems);
        return problems;
    }

    private static void check(String key, List<String> patterns, List<Route> routes, List<Problem> into) {
        for (int i = 0; i < patterns.size(); i++) {
            String pattern = patterns.get(i);
            for (Route r : routes) {
                if (!r.isDefault() || !r.unicast() || r.dev() == null || Validate.interfaceNameProblem(r.dev()) != null) continue;
                if (!Validate.interfacePatternsOverlap(pattern, r.dev())) continue;
                into.add(new Problem(key + "[" + i + "]", "'" + pattern + "' matches " + r.dev() + ", which holds a default"
                        + " route (" + r.describe() + "): this machine may send anything to a downstream interface, so"
                        + " nothing would be blocked; name the LAN side or the guests' bridge, never the uplink"));
                break;
            }
        }
    }
}
