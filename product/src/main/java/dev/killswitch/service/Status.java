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
        NmProfileStatus.Report nmProfiles) {

    public boolean matchesConfig() {
        return differences.isEmpty();
    }

    public record Counter(long packets, long bytes) {}
}
