package dev.killswitch.dns.resolved;

import org.freedesktop.dbus.Struct;
import org.freedesktop.dbus.annotations.Position;

/** One {@code (sb)} of SetLinkDomains: the domain, and whether it only routes queries ("~domain"). */
public final class LinkDomain extends Struct {
    @Position(0)
    private final String domain;
    @Position(1)
    private final boolean routingOnly;

    public LinkDomain(String domain, boolean routingOnly) {
        this.domain = domain;
        this.routingOnly = routingOnly;
    }

    public String getDomain() {
        return domain;
    }

    public boolean isRoutingOnly() {
        return routingOnly;
    }
}
