package dev.killswitch.dns;

import dev.killswitch.config.IpAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The resolv-conf mode: /etc/resolv.conf lists only the tunnels' resolvers while a tunnel with DNS
 * is up, and the original comes back byte for byte when the last one goes.
 * <p>
 * The original is kept in the state directory before the file is first changed, and the tunnels'
 * servers are recorded before each write, so that whatever process runs next (a hook, {@code
 * disable}, the service at its start, after a crash) knows what to put back. A symbolic link (resolvconf,
 * NetworkManager and systemd-resolved manage their own targets) is replaced by a plain file while a
 * tunnel is up, and the same link comes back afterwards: the link's owner keeps writing its own
 * target undisturbed, and nothing of it is changed.
 */
public final class ResolvConfBackend implements ResolverBackend {
    public static final String NAME = "resolv-conf";
    private static final Logger LOG = LoggerFactory.getLogger("killswitch");

    private final ResolvConfFile file;
    private final DnsStateStore store;

    public ResolvConfBackend(ResolvConfFile file, DnsStateStore store) {
        this.file = file;
        this.store = store;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void apply(String iface, List<IpAddress> servers) throws DnsException {
        if (servers.isEmpty()) throw new IllegalArgumentException("no resolvers to apply for " + iface);
        DnsState state = store.load();
        if (state.original() == null) {
            ResolvConfOriginal original = file.capture();
            state = state.withOriginal(original);
            store.save(state);
            LOG.info("kept the original {} ({}) in {}", file.path(), original.describe(), store.dir());
            Failpoint.at("dns-after-original");
        }
        state = state.with(iface, new DnsState.Applied(servers, -1), NAME);
        store.save(state);
        ResolvConfFile.Method how = file.write(render(state), permissions(state));
        Failpoint.at("dns-after-write");
        LOG.info("{} now lists only {} (for {}; written {})", file.path(), DnsPlan.union(servers(state)),
                String.join(", ", state.applied().keySet()), how == ResolvConfFile.Method.IN_PLACE
                        ? "in place: it is a bind mount" : "atomically");
    }

    @Override
    public void revert(String iface) throws DnsException {
        DnsState state = store.load();
        if (!state.applied().containsKey(iface) && !(state.applied().isEmpty() && state.original() != null)) return;
        DnsState next = state.without(iface);
        if (!next.applied().isEmpty()) {
            store.save(next);
            file.write(render(next), permissions(next));
            LOG.info("{} now lists only {} (tunnel {} withdrawn)", file.path(), DnsPlan.union(servers(next)), iface);
            return;
        }
        restore(state);
    }

    /** Puts the original back whatever is applied: what {@code disable} does. */
    public void revertAll() throws DnsException {
        DnsState state = store.load();
        if (state.original() != null || !state.applied().isEmpty()) restore(state);
    }

    private void restore(DnsState state) throws DnsException {
        if (state.original() != null) {
            file.restore(state.original());
            LOG.info("put back the original {} ({})", file.path(), state.original().describe());
        }
        store.save(DnsState.EMPTY);
    }

    @Override
    public Map<String, List<IpAddress>> applied() throws DnsException {
        return servers(store.load());
    }

    /**
     * Called by the service (killswitch daemon) when the file may have changed: another program (a DHCP client,
     * resolvconf, NetworkManager) rewrote it while a tunnel is up. The tunnels' servers go back.
     */
    @Override
    public String enforce() throws DnsException {
        DnsState state = store.load();
        if (state.applied().isEmpty()) return null;
        byte[] want = render(state);
        byte[] now = file.current();
        if (Arrays.equals(want, now) && !java.nio.file.Files.isSymbolicLink(file.path())) return null;
        file.write(want, permissions(state));
        String what = file.path() + " was changed by another program while " + String.join(", ", state.applied().keySet())
                + " is up; put back the tunnel's resolvers " + DnsPlan.union(servers(state));
        LOG.warn(what);
        return what;
    }

    /** The bytes killswitch writes for a state; pure. */
    public static byte[] render(DnsState state) {
        return render(servers(state), state.applied().keySet());
    }

    static byte[] render(Map<String, List<IpAddress>> byInterface, java.util.Collection<String> ifaces) {
        StringBuilder s = new StringBuilder();
        s.append("# Written by killswitch while ").append(String.join(", ", ifaces))
                .append(" is up: only the tunnel's resolvers.\n");
        s.append("# The original is kept by killswitch and comes back when the tunnel goes down.\n");
        for (IpAddress a : DnsPlan.union(byInterface)) s.append("nameserver ").append(a.text()).append('\n');
        return s.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static Map<String, List<IpAddress>> servers(DnsState state) {
        Map<String, List<IpAddress>> m = new LinkedHashMap<>();
        state.applied().forEach((k, v) -> m.put(k, v.servers()));
        return m;
    }

    private static String permissions(DnsState state) {
        ResolvConfOriginal o = state.original();
        return o != null && o.permissions() != null ? o.permissions() : null;
    }
}
