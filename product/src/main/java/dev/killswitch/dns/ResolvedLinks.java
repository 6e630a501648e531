package dev.killswitch.dns;

import dev.killswitch.config.IpAddress;
import java.util.List;

/**
 * The calls of systemd-resolved's Manager that the resolved mode makes, addressed by link index.
 * The real one talks D-Bus ({@code dev.killswitch.dns.resolved.DbusResolvedLinks}); tests use a fake.
 */
public interface ResolvedLinks extends AutoCloseable {
    void setLinkDns(int ifindex, List<IpAddress> servers) throws DnsException;

    /** Routing-only domains ("~." when {@code routingOnly} and the domain is "."). */
    void setLinkDomains(int ifindex, List<String> domains, boolean routingOnly) throws DnsException;

    void setLinkDefaultRoute(int ifindex, boolean enable) throws DnsException;

    /** "no", "opportunistic", "yes", or "" for resolved's own default. */
    void setLinkDnsOverTls(int ifindex, String mode) throws DnsException;

    /** Forgets everything set on the link: back to what resolved had from its own config and networkd. */
    void revertLink(int ifindex) throws DnsException;

    @Override
    void close();
}
