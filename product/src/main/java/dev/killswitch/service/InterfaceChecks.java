package dev.killswitch.service;

import dev.killswitch.config.Config;
import dev.killswitch.config.ConfigException;
import dev.killswitch.config.ConfigLoader;
import dev.killswitch.config.NetLinks;
import dev.killswitch.config.TunnelLinks;
import dev.killswitch.exec.ProcessRunner;
import dev.killswitch.routing.DownstreamRoutes;
import dev.killswitch.routing.IpRoutes;
import dev.killswitch.routing.Route;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The owner's checks of a config against this machine, {@link TunnelLinks} and {@link DownstreamRoutes}: {@link
 * KillSwitch#enable} (whoever asks: a command, a hook, the service's own reloads and repairs) refuses a config whose
 * tunnel patterns match a link that is not a tunnel, or whose gateway or guests patterns match the interface of a
 * default route; {@code status} warns when either appeared later. The links and routes are read through the two
 * readers given, at the edge ({@link #system()}: /sys/class/net and ip -j, of the namespace the process runs in).
 */
public final class InterfaceChecks {
    /** The links as {@link NetLinks#read()} gives them. */
    public interface Links {
        List<TunnelLinks.Link> read() throws IOException;
    }

    /** The routes of every table, as {@code ip -j route} gives them. */
    public interface Routes {
        List<Route> read() throws IOException;
    }

    /** Reads no link and no route, so refuses and warns of nothing: for a kill switch whose machine is not this process's. */
    public static final InterfaceChecks NONE = new InterfaceChecks(List::of, List::of);

    private static final String ROUTES_UNREADABLE =
            "cannot read the routes to check gateway.interfaces and guests.interfaces against them: ";

    private final Links links;
    private final Routes routes;

    public InterfaceChecks(Links links, Routes routes) {
        this.links = links;
        this.routes = routes;
    }

    /** This machine's links (/sys/class/net) and routes (ip -j). */
    public static InterfaceChecks system() {
        return new InterfaceChecks(NetLinks::read, () -> new IpRoutes(new ProcessRunner()).read().routes());
    }

    /**
     * Throws for the first gateway or guests pattern that matches a default route's interface, then for the
     * first tunnel pattern that matches a link that is no tunnel, naming the file, the line, the key, the
     * pattern and the link. When the routes or links cannot be read it says so on {@code warn} and refuses
     * nothing: refusing then would leave the machine without the block {@code enable} is about to install.
     */
    public void refuse(Config config, Consumer<String> warn) throws ConfigException {
        if (config.source() == null) return;
        refuseDownstreamDefaultRoutes(config, warn);
        if (config.tunnelInterfaces().isEmpty()) return;
        List<TunnelLinks.Link> found;
        try {
            found = links.read();
        } catch (IOException | RuntimeException e) {
            warn.accept("cannot read the links (" + NetLinks.SYS_CLASS_NET + ") to check tunnel.interfaces against them: "
                    + e.getMessage());
            return;
        }
        List<TunnelLinks.Match> refused = TunnelLinks.refused(config, found);
        if (!refused.isEmpty()) {
            TunnelLinks.Match m = refused.get(0);
            throw ConfigLoader.problemAt(config.source(), m.key(), m.problem());
        }
    }

    private void refuseDownstreamDefaultRoutes(Config config, Consumer<String> warn) throws ConfigException {
        List<DownstreamRoutes.Problem> problems;
        try {
            problems = downstreamProblems(config);
        } catch (IOException | RuntimeException e) {
            warn.accept(ROUTES_UNREADABLE + e.getMessage());
            return;
        }
        if (!problems.isEmpty()) throw ConfigLoader.problemAt(config.source(), problems.get(0).key(), problems.get(0).problem());
    }

    /** The gateway and guests patterns against the routes now; none read when the config names none. */
    private List<DownstreamRoutes.Problem> downstreamProblems(Config config) throws IOException {
        if (config.gateway().interfaces().isEmpty() && config.guests().interfaces().isEmpty()) return List.of();
        return DownstreamRoutes.problems(config, routes.read());
    }

    /**
     * What {@code status} warns of: tunnel patterns that match links that are no tunnel (see {@link
     * TunnelLinks#warnings}), and gateway or guests patterns that match a default route's interface.
     */
    public List<String> warnings(Config config) {
        List<String> warnings = new ArrayList<>();
        if (!config.tunnelInterfaces().isEmpty()) {
            try {
                warnings.addAll(TunnelLinks.warnings(config, links.read()));
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
}
