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
 *                 link that is no tunnel, a gateway or guests pattern that matches a default route's interface
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
        List<String> warnings) {

    public boolean matchesConfig() {
        return differences.isEmpty();
    }

    public record Counter(long packets, long bytes) {}
}
