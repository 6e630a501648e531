package dev.killswitch.leaktest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Validate;
import dev.killswitch.exec.CommandRunner;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The active self-test: from this machine, try UDP, TCP, ICMP and DNS out of every interface that
 * is not loopback and not an allowed tunnel, over IPv4 and IPv6, and report what got out.
 */
public final class LeakTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final CommandRunner runner;
    private final DropCounter dropped;

    /** Reads how many probes the kill switch has dropped so far (-1 when it is not loaded). */
    public interface DropCounter {
        long read() throws IOException;
    }

    public LeakTest(CommandRunner runner, DropCounter dropped) {
        this.runner = runner;
        this.dropped = dropped;
    }

    /**
     * @param tunnels allowed tunnel names and "prefix*" patterns (skipped: traffic there is wanted)
     * @param targets where probes go; documentation addresses by default, so a leak reaches no one
     * @param resolvers the system's resolvers: DNS probes go to them as well
     */
    public List<Probe.Result> run(Set<String> tunnels, List<IpAddress> targets, List<IpAddress> resolvers) throws IOException {
        List<Probe.Result> results = new ArrayList<>();
        for (String iface : interfaces()) {
            if (iface.equals("lo") || matchesAny(iface, tunnels)) continue;
            for (IpAddress target : targets) {
                for (Probe.Kind kind : Probe.Kind.values()) results.add(send(new Probe(iface, kind, target)));
            }
            for (IpAddress resolver : resolvers) {
                if (resolver.text().startsWith("127.") || resolver.text().equals("::1")) continue;
                results.add(send(new Probe(iface, Probe.Kind.DNS_UDP, resolver)));
                results.add(send(new Probe(iface, Probe.Kind.DNS_TCP, resolver)));
            }
        }
        return results;
    }

    private Probe.Result send(Probe probe) throws IOException {
        long before = dropped.read();
        CommandRunner.Result r = runner.run(probe.command(), "killswitch leak-test probe\n");
        long after = dropped.read();
        String detail = (r.stderr() + r.stdout()).strip();
        Probe.Outcome outcome = Probe.classify(r.stderr(), before < 0 || after < 0 ? 0 : after - before);
        return new Probe.Result(probe, outcome, detail.lines().reduce((a, b) -> b).orElse(""));
    }

    /** Interfaces that are administratively up, from iproute2's JSON. Names are validated. */
    private List<String> interfaces() throws IOException {
        CommandRunner.Result r = runner.run(List.of("ip", "-j", "link", "show", "up"), null);
        if (!r.ok()) throw new IOException("ip link failed: " + r.stderr().strip());
        List<String> names = new ArrayList<>();
        for (JsonNode link : JSON.readTree(r.stdout())) {
            String name = link.path("ifname").asText();
            if (Validate.interfaceNameProblem(name) == null) names.add(name);
        }
        return names;
    }

    static boolean matchesAny(String iface, Set<String> patterns) {
        for (String p : patterns) {
            if (p.endsWith("*") ? iface.startsWith(p.substring(0, p.length() - 1)) : iface.equals(p)) return true;
        }
        return false;
    }
}
