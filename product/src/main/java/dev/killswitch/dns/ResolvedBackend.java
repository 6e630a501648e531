package dev.killswitch.dns;

import dev.killswitch.config.DnsOverTls;
import dev.killswitch.config.IpAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The resolved mode: systemd-resolved sends every query through the tunnel link. On up the link
 * gets the servers, the routing domain "~." (every name is routed to this link) and DefaultRoute;
 * DNS-over-TLS when the config asks. On down RevertLink puts the link back as resolved had it.
 * Another link's servers (a DHCP lease's) stay configured, so resolved may still try them: the
 * firewall drops those queries before they leave (counted as dropped_dns).
 */
public final class ResolvedBackend implements ResolverBackend {
    public static final String NAME = "resolved";
    private static final Logger LOG = LoggerFactory.getLogger("killswitch");

    private final ResolvedLinks links;
    private final LinkIndex index;
    private final DnsStateStore store;
    private final DnsOverTls overTls;

    public ResolvedBackend(ResolvedLinks links, LinkIndex index, DnsStateStore store, DnsOverTls overTls) {
        this.links = links;
        this.index = index;
        this.store = store;
        this.overTls = overTls;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void apply(String iface, List<IpAddress> servers) throws DnsException {
        if (servers.isEmpty()) throw new IllegalArgumentException("no resolvers to apply for " + iface);
        OptionalInt idx = index.of(iface);
        if (idx.isEmpty()) throw new DnsException("interface " + iface + " does not exist; systemd-resolved needs its link");
        int i = idx.getAsInt();
        DnsState state = store.load();
        // recorded first: a crash between the calls still leaves a link to revert
        store.save(state.with(iface, new DnsState.Applied(servers, i), NAME));
        try {
            links.setLinkDns(i, servers);
            links.setLinkDomains(i, List.of("."), true);
            links.setLinkDefaultRoute(i, true);
            if (overTls != DnsOverTls.DEFAULT) links.setLinkDnsOverTls(i, overTls.configName());
        } catch (DnsException e) {
            // half set is worse than unset: undo it, and forget it so that the next command tries again
            try {
                links.revertLink(i);
            } catch (DnsException ignored) {
                // resolved refused the settings; it may refuse this too, and then has nothing of ours
            }
            store.save(store.load().without(iface));
            throw e;
        }
        LOG.info("systemd-resolved: link {} (index {}) resolves every name (~.) through {}{}", iface, i, servers,
                overTls == DnsOverTls.DEFAULT ? "" : ", DNS-over-TLS " + overTls.configName());
    }

    @Override
    public void revert(String iface) throws DnsException {
        DnsState state = store.load();
        DnsState.Applied a = state.applied().get(iface);
        if (a == null) return;
        OptionalInt now = index.of(iface);
        if (now.isPresent() && now.getAsInt() == a.ifindex()) {
            links.revertLink(a.ifindex());
            LOG.info("systemd-resolved: reverted link {} (index {})", iface, a.ifindex());
        } else {
            // the link is gone (wg-quick deletes it before PostDown); resolved dropped its settings with it
            LOG.info("systemd-resolved: link {} (index {}) is gone; nothing to revert", iface, a.ifindex());
        }
        store.save(state.without(iface));
    }

    @Override
    public Map<String, List<IpAddress>> applied() throws DnsException {
        Map<String, List<IpAddress>> m = new LinkedHashMap<>();
        store.load().applied().forEach((k, v) -> m.put(k, v.servers()));
        return m;
    }

    @Override
    public void close() {
        links.close();
    }
}
