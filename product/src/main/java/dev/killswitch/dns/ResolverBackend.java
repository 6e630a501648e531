package dev.killswitch.dns;

import dev.killswitch.config.IpAddress;
import java.util.List;
import java.util.Map;

/**
 * One way of pointing the system's resolver at a tunnel's DNS servers, and of undoing it exactly.
 * A backend remembers what it did in the state directory, so that another process (the next hook,
 * {@code disable}, the process started after a crash) can undo it.
 */
public interface ResolverBackend extends AutoCloseable {

    /** The name kept in the state directory: "resolv-conf" or "resolved". */
    String name();

    /** Makes {@code servers} the resolvers for {@code iface}; again with other servers replaces them. */
    void apply(String iface, List<IpAddress> servers) throws DnsException;

    /** Undoes {@link #apply} for {@code iface}; with no tunnel left, the original comes back. No-op if not applied. */
    void revert(String iface) throws DnsException;

    /** What is applied now, by interface, as recorded in the state directory. */
    Map<String, List<IpAddress>> applied() throws DnsException;

    /**
     * Checks that what was applied is still in place and puts it back if another program changed it.
     * Returns a description of what was repaired, or null when nothing was.
     */
    default String enforce() throws DnsException {
        return null;
    }

    @Override
    default void close() {}
}
