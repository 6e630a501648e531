package dev.killswitch.routing;

import dev.killswitch.config.NetLinks;
import dev.killswitch.exec.CommandRunner;
import java.io.IOException;
import java.util.List;

/** The kernel's links, for the link-level gate: the seam between {@link LinkGate} and iproute2. */
public interface LinkSource {
    /** Every link of the network namespace, in the kernel's order. */
    List<Link> read() throws IOException;

    /**
     * Whether link {@code name} exists now and carries Ethernet frames (link type "ether": a NIC, a veth, a tap),
     * so that the gate may hook it. False when it does not exist or cannot be read. This default reads every link.
     */
    default boolean isEthernet(String name) {
        try {
            return read().stream().anyMatch(l -> l.name().equals(name) && l.linkType().equals("ether"));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

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

    /**
     * This process's network namespace: the links from {@code ip -d -j link show}, and {@link #isEthernet} from
     * {@link NetLinks#type} (sysfs, no process) for the hooks' path.
     */
    static LinkSource system(CommandRunner runner) {
        LinkSource ip = ip(runner);
        return new LinkSource() {
            @Override
            public List<Link> read() throws IOException {
                return ip.read();
            }

            @Override
            public boolean isEthernet(String name) {
                try {
                    return Integer.valueOf(1).equals(NetLinks.type(name));
                } catch (IOException e) {
                    return false;
                }
            }
        };
    }
}
