package dev.killswitch.service;

import dev.killswitch.policy.Policy;
import dev.killswitch.state.RuntimeState;
import java.util.List;
import java.util.Map;

/** What {@code status} reports. */
public record Status(
        boolean enabled,
        String config,
        Policy policy,
        RuntimeState state,
        Map<String, Counter> counters,
        List<String> differences,
        dev.killswitch.dns.DnsStatus dns,
        dev.killswitch.state.TamperLog tamper,
        boolean guardHeld) {

    public boolean matchesConfig() {
        return differences.isEmpty();
    }

    public record Counter(long packets, long bytes) {}
}
