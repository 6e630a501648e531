package dev.killswitch.service;

import dev.killswitch.policy.Explain;
import dev.killswitch.policy.Packet;
import java.util.List;

/**
 * What {@code explain} reports: each layer's decision, in the order the kernel runs them.
 *
 * @param packet the packet judged, with the interface the route chose
 * @param verdict the output chain's rule that decides it, from the config and the state; null for a frame written
 *                below IP ({@code belowIp}), which no inet chain sees
 * @param link the link-level gate's decision on the link it leaves by; null when nothing routes it
 * @param belowIp judged as a frame written below IP (a raw socket, a macvlan child, a bridged guest): the gate alone
 * @param loaded whether our table is in the kernel at all (if not, nothing stops the packet)
 * @param differences how the kernel's tables differ from the config and state; empty when they match
 */
public record Explanation(Packet packet, Explain.Verdict verdict, Explain.LinkVerdict link, boolean belowIp, boolean loaded,
        List<String> differences) {
    public Explanation {
        differences = List.copyOf(differences);
        if ((verdict == null) != belowIp) throw new IllegalArgumentException("an output chain's verdict, unless below IP");
    }

    /** Every layer lets it out. */
    public boolean allowed() {
        if (verdict != null && !verdict.allowed()) return false;
        return link == null ? verdict != null && verdict.allowed() : link.allowed();
    }

    /** The layer that stops it ("inet output chain", "link-level gate"), or null when it is allowed. */
    public String stoppedBy() {
        if (allowed()) return null;
        if (verdict != null && !verdict.allowed()) return verdict.rule() == null ? "routing" : "inet output chain";
        return "link-level gate";
    }
}
