package dev.killswitch.policy;

import dev.killswitch.config.Validate;
import java.util.List;

/**
 * The link-level gate's hooks, as plain data: which links get an egress chain, and the bridges whose bridged
 * traffic the {@code inet} forward chain leaves to that gate. Read from the kernel's links at the edge
 * ({@code dev.killswitch.routing.LinkGate}); the rules of the gate themselves never change ({@link GateRule}).
 *
 * @param links the links to gate, by name, sorted; each passed {@link Validate#interfaceName}
 * @param granted those of {@code links} that the policy's tunnels name ({@code tunnel.interfaces} or a grant by
 *                {@code up}): a tunnel of an Ethernet kind (a veth or tap stand-in); only their egress chain starts with
 *                the granted-tunnel test, so the gate's common frame (the tunnel's transport) pays no set lookup of
 *                interface names
 * @param bridges bridges with a gated port, sorted: with br_netfilter the forward chain sees their frames with the
 *                bridge as input and output interface (measured in the lab), never the ports
 */
public record Gate(List<String> links, List<String> granted, List<String> bridges) {
    /** No link gated: what a policy built from the config alone holds (the boot file's skeleton, unit tests). */
    public static final Gate NONE = new Gate(List.of(), List.of(), List.of());

    public Gate {
        links = List.copyOf(links.stream().map(Validate::interfaceName).sorted().distinct().toList());
        granted = List.copyOf(granted.stream().map(Validate::interfaceName).sorted().distinct().toList());
        bridges = List.copyOf(bridges.stream().map(Validate::interfaceName).sorted().distinct().toList());
        if (!links.containsAll(granted)) throw new IllegalArgumentException("a granted link must be gated");
    }
}
