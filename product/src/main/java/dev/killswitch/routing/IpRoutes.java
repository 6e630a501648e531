package dev.killswitch.routing;

import dev.killswitch.config.IpAddress;
import dev.killswitch.exec.CommandRunner;
import java.io.IOException;
import java.util.List;

/** {@link Routes} from iproute2's JSON. Reads only; the one value it passes on is a validated IP literal. */
public final class IpRoutes implements Routes {
    private final CommandRunner runner;

    public IpRoutes(CommandRunner runner) {
        this.runner = runner;
    }

    @Override
    public Routing read() throws IOException {
        List<Route> routes = new java.util.ArrayList<>(IpJson.routes(ip("-j", "-4", "route", "show", "table", "all"), false));
        routes.addAll(IpJson.routes(ip("-j", "-6", "route", "show", "table", "all"), true));
        return new Routing(routes, IpJson.rules(ip("-j", "-4", "rule", "show")), IpJson.rules(ip("-j", "-6", "rule", "show")),
                IpJson.links(ip("-d", "-j", "link", "show")));
    }

    @Override
    public String deviceFor(IpAddress destination) throws IOException {
        // destination is an IpAddress: a validated literal, never an option or a name
        CommandRunner.Result r = runner.run(List.of("ip", "-j", destination.v6() ? "-6" : "-4", "route", "get", destination.text()), null);
        if (!r.ok()) {
            String why = r.stderr().strip();
            if (why.contains("unreachable") || why.contains("No route")) return null;
            throw new IOException("ip route get " + destination.text() + " failed: " + why);
        }
        return IpJson.routeDevice(r.stdout());
    }

    private String ip(String... args) throws IOException {
        List<String> argv = new java.util.ArrayList<>(List.of("ip"));
        argv.addAll(List.of(args));
        CommandRunner.Result r = runner.run(argv, null);
        if (!r.ok()) throw new IOException(String.join(" ", argv) + " failed: " + r.stderr().strip());
        return r.stdout();
    }
}
