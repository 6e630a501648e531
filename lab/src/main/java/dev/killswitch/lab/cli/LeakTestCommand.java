package dev.killswitch.lab.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.killswitch.cli.Main;
import dev.killswitch.config.IpAddress;
import dev.killswitch.exec.ProcessRunner;
import dev.killswitch.leaktest.LeakTest;
import dev.killswitch.nft.Nft;
import dev.killswitch.nft.NftException;
import dev.killswitch.nft.NftScript;
import dev.killswitch.leaktest.Probe;
import dev.killswitch.policy.PolicyBuilder;
import dev.killswitch.state.StateStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "leak-test", mixinStandardHelpOptions = true,
        header = "Send real probes out of every interface that is not a tunnel; report any that leave.",
        description = {"Actively test the block from this machine: send UDP, TCP, ICMP and DNS (53 udp/tcp, 853)",
                "out of every interface that is up and is neither loopback nor an allowed tunnel, over IPv4",
                "and IPv6, bound to that interface (SO_BINDTODEVICE). A probe the kernel refuses to send",
                "or that the kill switch's drop rules count (probes carry a DSCP mark for that) is 'blocked';",
                "one the kernel sends is 'LEAKED' (a drop by another firewall also shows as LEAKED). DNS probes also go to the resolvers in",
                "/etc/resolv.conf. Exit 1 on any leak. Needs socat and ping.",
                "Probes go to documentation addresses by default (192.0.2.1, 2001:db8::1) so a leak reaches no one."})
public final class LeakTestCommand implements Callable<Integer> {
    private static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @ParentCommand Main main;

    @Option(names = "--target", paramLabel = "ADDRESS",
            description = "Probe this address instead of the defaults (repeat for IPv4 and IPv6).")
    List<String> targets = new ArrayList<>();

    @Option(names = "--json", description = "Print JSON for machines.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<IpAddress> to = new ArrayList<>();
        for (String t : targets) to.add(IpAddress.parse(t));
        if (to.isEmpty()) to = List.of(IpAddress.parse("192.0.2.1"), IpAddress.parse("2001:db8::1"));
        var policy = PolicyBuilder.build(main.killSwitch().config(), new StateStore(main.stateDir()).load(), Instant.now());
        ProcessRunner runner = new ProcessRunner(10_000);
        Nft nft = new Nft(runner);
        LeakTest.DropCounter dropped = () -> {
            try {
                return nft.counterPackets(NftScript.PROBE_COUNTER);
            } catch (NftException e) {
                throw new java.io.IOException(e.getMessage(), e);
            }
        };
        List<Probe.Result> results = new LeakTest(runner, dropped).run(policy.tunnels(), to, resolvers());
        long leaks = results.stream().filter(r -> r.outcome() == Probe.Outcome.LEAKED).count();
        if (json) {
            ObjectNode root = PRETTY.createObjectNode();
            root.put("leaks", leaks);
            ArrayNode probes = root.putArray("probes");
            for (Probe.Result r : results) {
                probes.addObject().put("interface", r.probe().iface()).put("kind", r.probe().kind().label())
                        .put("target", r.probe().target().text()).put("result", r.outcome().name().toLowerCase())
                        .put("detail", r.detail());
            }
            System.out.println(PRETTY.writeValueAsString(root));
        } else {
            for (Probe.Result r : results) {
                System.out.printf("%-16s %-8s %-22s %s%n", r.probe().iface(), r.probe().kind().label(),
                        r.probe().target().text(), r.outcome() == Probe.Outcome.LEAKED ? "LEAKED" : r.outcome().name().toLowerCase());
            }
            System.out.println(leaks == 0
                    ? "leak-test: no leak (" + results.size() + " probes)"
                    : "leak-test: " + leaks + " of " + results.size() + " probes LEAKED");
        }
        return leaks == 0 ? Main.OK : Main.CHECK_FAILED;
    }

    /** The nameservers of /etc/resolv.conf that are valid addresses; anything else is ignored. */
    private static List<IpAddress> resolvers() throws java.io.IOException {
        List<IpAddress> out = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/etc/resolv.conf"));
        } catch (NoSuchFileException e) {
            return out;
        }
        for (String line : lines) {
            String[] words = line.strip().split("\\s+");
            if (words.length >= 2 && words[0].equals("nameserver")) {
                try {
                    out.add(IpAddress.parse(words[1]));
                } catch (IllegalArgumentException ignored) {
                    // a scoped or malformed entry: not probed
                }
            }
        }
        return out;
    }
}
