package dev.killswitch.dns;

import dev.killswitch.config.DnsOverTls;

/**
 * The one place outside {@code dns.resolved} that names the D-Bus classes. Kept apart so that the
 * JVM loads dbus-java only when this class is first used: in the resolved mode, or when {@code
 * status} asks the bus.
 */
final class ResolvedConnector {
    private ResolvedConnector() {}

    static ResolverBackend open(DnsStateStore store, DnsOverTls overTls) throws DnsException {
        return new ResolvedBackend(dev.killswitch.dns.resolved.DbusResolvedLinks.connect(), LinkIndex.SYSTEM, store, overTls);
    }

    static boolean resolvedOnBus() {
        return dev.killswitch.dns.resolved.DbusResolvedLinks.resolvedOnBus();
    }
}
