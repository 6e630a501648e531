package dev.killswitch.policy;

import dev.killswitch.config.Validate;
import java.util.List;

/**
 * The link-level gate's hooks, as plain data: which links get an egress chain, and the bridge ports whose
 * bridged traffic the {@code inet} forward chain leaves to that gate. Read from the kernel's links at the edge
 * ({@code dev.killswitch.routing.LinkGate}); the rules of the gate themselves never change ({@link GateRule}).
 *
 * @param links the links to gate, by name, sorted; each passed {@link Validate#interfaceName}
 * @param tunnelNamed those of {@code links} whose name a {@code tunnel.interfaces} pattern matches: a granted
 *                    tunnel of an Ethernet kind (a veth or tap stand-in) passes its own gate
 * @param bridgePorts ports of bridges that are not downstream, sorted: what br_netfilter shows the forward chain
 */
public record Gate(List<String> links, List<String> tunnelNamed, List<String> bridgePorts) {
    /** No link gated: what a policy built from the config alone holds (the boot file's skeleton, unit tests). */
    public static final Gate NONE = new Gate(List.of(), List.of(), List.of());

    public Gate {
        links = List.copyOf(links.stream().map(Validate::interfaceName).sorted().distinct().toList());
        tunnelNamed = List.copyOf(tunnelNamed.stream().map(Validate::interfaceName).sorted().distinct().toList());
        bridgePorts = List.copyOf(bridgePorts.stream().map(Validate::interfaceName).sorted().distinct().toList());
        if (!links.containsAll(tunnelNamed)) throw new IllegalArgumentException("a tunnel-named link must be gated");
    }
}
