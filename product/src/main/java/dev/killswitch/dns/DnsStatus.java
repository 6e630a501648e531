package dev.killswitch.dns;

import dev.killswitch.config.DnsMode;
import dev.killswitch.config.IpAddress;
import java.util.List;
import java.util.Map;

/**
 * What {@code status} says about DNS.
 *
 * @param mode     the config's {@code dns.mode}
 * @param setup    what manages name resolution here
 * @param backend  what killswitch uses (or would use) to point it at a tunnel: "resolved", "resolv-conf", "off"
 * @param applied  the resolvers set per tunnel now
 * @param original what resolv.conf was before killswitch changed it, when it keeps one
 * @param problem  why something could not be read, or null
 */
public record DnsStatus(DnsMode mode, ResolverSetup setup, String backend, Map<String, List<IpAddress>> applied,
        ResolvConfOriginal original, String problem) {}
