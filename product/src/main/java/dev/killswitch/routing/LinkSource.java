package dev.killswitch.routing;

import dev.killswitch.exec.CommandRunner;
import java.io.IOException;
import java.util.List;

/** The kernel's links, for the link-level gate: the seam between {@link LinkGate} and iproute2. */
public interface LinkSource {
    /** Every link of the network namespace, in the kernel's order. */
    List<Link> read() throws IOException;

    /** Knows no link: the gate's table is loaded without a hook (unit tests; an in-process lab kill switch). */
    LinkSource NONE = List::of;

    /** {@code ip -d -j link show}, run by {@code runner} (so in the namespace that runner runs in). */
    static LinkSource ip(CommandRunner runner) {
        return () -> {
            CommandRunner.Result r = runner.run(List.of("ip", "-d", "-j", "link", "show"), null);
            if (!r.ok()) throw new IOException("ip -d -j link show failed: " + r.stderr().strip());
            return IpJson.links(r.stdout());
        };
    }
}
