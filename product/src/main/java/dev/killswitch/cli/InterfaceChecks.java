package dev.killswitch.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.killswitch.config.Config;
import dev.killswitch.config.ConfigException;
import dev.killswitch.config.ConfigLoader;
import dev.killswitch.config.NetLinks;
import dev.killswitch.config.TunnelLinks;
import dev.killswitch.exec.ProcessRunner;
import dev.killswitch.routing.DownstreamRoutes;
import dev.killswitch.routing.IpRoutes;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The commands' side of {@link TunnelLinks} and {@link DownstreamRoutes}: {@code enable} refuses a config whose
 * tunnel patterns match a link of this machine that is not a tunnel, or whose gateway or guests patterns match
 * the interface of a default route; {@code status} warns when either appeared later. The links and routes are
 * read here, at the edge (/sys/class/net and ip -j, of the namespace the command runs in).
 */
final class InterfaceChecks {
    private InterfaceChecks() {}

    /**
     * Throws for the first gateway or guests pattern that matches a default route's interface, then for the
     * first tunnel pattern that matches a link that is no tunnel, naming the file, the line, the key, the
     * pattern and the link. When the routes or links cannot be read it says so on {@code warn} and refuses
     * nothing: refusing then would leave the machine without the block {@code enable} is about to install.
     */
    static void refuse(Config config, Consumer<String> warn) throws ConfigException {
        if (config.source() == null) return;
        refuseDownstreamDefaultRoutes(config, warn);
        if (config.tunnelInterfaces().isEmpty()) return;
        List<TunnelLinks.Link> links;
        try {
            links = NetLinks.read();
        } catch (IOException | RuntimeException e) {
            warn.accept("cannot read the links (" + NetLinks.SYS_CLASS_NET + ") to check tunnel.interfaces against them: "
                    + e.getMessage());
            return;
        }
        List<TunnelLinks.Match> refused = TunnelLinks.refused(config, links);
        if (!refused.isEmpty()) {
            TunnelLinks.Match m = refused.get(0);
            throw ConfigLoader.problemAt(config.source(), m.key(), m.problem());
        }
    }

    private static void refuseDownstreamDefaultRoutes(Config config, Consumer<String> warn) throws ConfigException {
        List<DownstreamRoutes.Problem> problems;
        try {
            problems = downstreamProblems(config);
        } catch (IOException | RuntimeException e) {
            warn.accept(ROUTES_UNREADABLE + e.getMessage());
            return;
        }
        if (!problems.isEmpty()) throw ConfigLoader.problemAt(config.source(), problems.get(0).key(), problems.get(0).problem());
    }

    private static final String ROUTES_UNREADABLE =
            "cannot read the routes to check gateway.interfaces and guests.interfaces against them: ";

    /** The gateway and guests patterns against the routes now (ip -j); none read when the config names none. */
    private static List<DownstreamRoutes.Problem> downstreamProblems(Config config) throws IOException {
        if (config.gateway().interfaces().isEmpty() && config.guests().interfaces().isEmpty()) return List.of();
        return DownstreamRoutes.problems(config, new IpRoutes(new ProcessRunner()).read().routes());
    }

    /**
     * What {@code status} warns of: tunnel patterns that match links that are no tunnel (see {@link
     * TunnelLinks#warnings}), and gateway or guests patterns that match a default route's interface.
     */
    static List<String> warnings(Config config) {
        List<String> warnings = new ArrayList<>();
        if (!config.tunnelInterfaces().isEmpty()) {
            try {
                warnings.addAll(TunnelLinks.warnings(config, NetLinks.read()));
            } catch (IOException | RuntimeException e) {
                warnings.add("cannot read the links (" + NetLinks.SYS_CLASS_NET + ") to check tunnel.interfaces against them: "
                        + e.getMessage());
            }
        }
        try {
            for (DownstreamRoutes.Problem p : downstreamProblems(config)) warnings.add(p.key() + ": " + p.problem());
        } catch (IOException | RuntimeException e) {
            warnings.add(ROUTES_UNREADABLE + e.getMessage());
        }
        return warnings;
    }

    /** {@code status}'s output with the warnings: a "warnings" list in the JSON (always there), lines in the text. */
    static String addTo(String rendered, boolean json, List<String> warnings) throws IOException {
        if (json) {
            ObjectNode root = (ObjectNode) Commands.StatusFormat.MAPPER.readTree(rendered);
            ArrayNode list = root.putArray("warnings");
            warnings.forEach(list::add);
            return Commands.StatusFormat.MAPPER.writeValueAsString(root) + "\n";
        }
        StringBuilder b = new StringBuilder(rendered);
        for (String w : warnings) b.append("  WARNING:    ").append(w).append('\n');
        return b.toString();
    }
}
