package dev.killswitch.service;

import dev.killswitch.policy.Explain;
import dev.killswitch.policy.Packet;
import java.util.List;

/**
 * What {@code explain} reports.
 *
 * @param packet the packet judged, with the interface the route chose
 * @param verdict the rule that decides it, from the config and the state
 * @param loaded whether our table is in the kernel at all (if not, nothing stops the packet)
 * @param differences how the kernel's table differs from the config and state; empty when it matches
 */
public record Explanation(Packet packet, Explain.Verdict verdict, boolean loaded, List<String> differences) {
    public Explanation {
        differences = List.copyOf(differences);
    }
}
