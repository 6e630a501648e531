package dev.killswitch.service;

import dev.killswitch.policy.Policy;
import dev.killswitch.state.RuntimeState;
import java.util.List;
import java.util.Map;

/**
 * What {@code status} reports.
 *
 * @param blocking what stops traffic now beyond the ruleset (routes, links, no tunnel); informational, and
 *                 null when the routing state could not be read
 * @param routingProblem why it could not be read, or null
 * @param nmProfiles NetworkManager's saved VPN profiles as the service last judged them, or null when it never did
 * @param warnings what the owner's checks warn of ({@link InterfaceChecks#warnings}): a tunnel pattern that matches a
 *                 link that is no tunnel, a gateway or guests pattern that matches a default route's interface; and a
 *                 link the gate cannot hook because its name is refused
 * @param links the link-level gate: each link's treatment, and the links the kernel's gate table hooks now
 */
public record Status(
        boolean enabled,
        String config,
        Policy policy,
        RuntimeState state,
        Map<String, Counter> counters,
        List<String> differences,
        dev.killswitch.dns.DnsStatus dns,
        dev.killswitch.state.TamperLog tamper,
        boolean guardHeld,
        dev.killswitch.routing.Blocking.Report blocking,
        String routingProblem,
        NmProfileStatus.Report nmProfiles,
        List<String> warnings,
        Links links) {

    public boolean matchesConfig() {
        return differences.isEmpty();
    }

    public record Counter(long packets, long bytes) {}

    /**
     * The link-level gate as {@code status} shows it.
     *
     * @param report every link's treatment ({@link dev.killswitch.routing.LinkGate})
     * @param hooked the links whose egress chain the kernel's {@code netdev killswitch} holds now
     */
    public record Links(dev.killswitch.routing.LinkGate.Report report, java.util.Set<String> hooked) {
        public Links {
            hooked = java.util.Set.copyOf(hooked);
        }

        /** One warning per link the gate cannot hook because its name is refused. */
        public List<String> warnings() {
            return report.refused().stream().map(d -> "link " + d.name() + " is NOT gated: its name is refused ("
                    + d.detail() + "); frames written below IP leave by it unjudged").toList();
        }
    }
}
