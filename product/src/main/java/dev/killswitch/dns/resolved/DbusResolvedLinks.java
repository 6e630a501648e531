package dev.killswitch.dns.resolved;

import dev.killswitch.config.IpAddress;
import dev.killswitch.dns.DnsException;
import dev.killswitch.dns.ResolvedLinks;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.connections.impl.DBusConnectionBuilder;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.exceptions.DBusExecutionException;
import org.freedesktop.dbus.interfaces.DBus;

/**
 * {@link ResolvedLinks} over the system bus with dbus-java. The only class (with its package) that
 * loads dbus-java, so that the hook path pays for it only in the resolved mode.
 */
public final class DbusResolvedLinks implements ResolvedLinks {
    private final DBusConnection connection;
    private final Resolve1Manager manager;

    private DbusResolvedLinks(DBusConnection connection, Resolve1Manager manager) {
        this.connection = connection;
        this.manager = manager;
    }

    /** Connects to the system bus and checks that systemd-resolved is there. */
    public static DbusResolvedLinks connect() throws DnsException {
        DBusConnection c;
        try {
            c = DBusConnectionBuilder.forSystemBus().withShared(false).build();
        } catch (DBusException | RuntimeException e) {
            throw new DnsException("cannot connect to the D-Bus system bus: " + e.getMessage(), e);
        }
        try {
            DBus bus = c.getRemoteObject("org.freedesktop.DBus", "/org/freedesktop/DBus", DBus.class);
            if (!bus.NameHasOwner(Resolve1Manager.BUS_NAME))
                throw new DnsException("systemd-resolved is not running (no " + Resolve1Manager.BUS_NAME
                        + " on the system bus); use [dns] mode = \"resolv-conf\", or start systemd-resolved");
            return new DbusResolvedLinks(c, c.getRemoteObject(Resolve1Manager.BUS_NAME, Resolve1Manager.OBJECT_PATH,
                    Resolve1Manager.class));
        } catch (DnsException e) {
            closeQuietly(c);
            throw e;
        } catch (DBusException | RuntimeException e) {
            closeQuietly(c);
            throw new DnsException("cannot reach systemd-resolved on the system bus: " + e.getMessage(), e);
        }
    }

    /** Whether {@code org.freedesktop.resolve1} has an owner on the system bus; false when there is no bus. */
    public static boolean resolvedOnBus() {
        try (DBusConnection c = DBusConnectionBuilder.forSystemBus().withShared(false).build()) {
            return c.getRemoteObject("org.freedesktop.DBus", "/org/freedesktop/DBus", DBus.class)
                    .NameHasOwner(Resolve1Manager.BUS_NAME);
        } catch (DBusException | IOException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public void setLinkDns(int ifindex, List<IpAddress> servers) throws DnsException {
        List<LinkDnsServer> out = new ArrayList<>();
        for (IpAddress a : servers) {
            out.add(new LinkDnsServer(a.v6() ? LinkDnsServer.AF_INET6 : LinkDnsServer.AF_INET, bytes(a)));
        }
        call("SetLinkDNS", () -> manager.SetLinkDNS(ifindex, out));
    }

    @Override
    public void setLinkDomains(int ifindex, List<String> domains, boolean routingOnly) throws DnsException {
        List<LinkDomain> out = domains.stream().map(d -> new LinkDomain(d, routingOnly)).toList();
        call("SetLinkDomains", () -> manager.SetLinkDomains(ifindex, out));
    }

    @Override
    public void setLinkDefaultRoute(int ifindex, boolean enable) throws DnsException {
        call("SetLinkDefaultRoute", () -> manager.SetLinkDefaultRoute(ifindex, enable));
    }

    @Override
    public void setLinkDnsOverTls(int ifindex, String mode) throws DnsException {
        call("SetLinkDNSOverTLS", () -> manager.SetLinkDNSOverTLS(ifindex, mode));
    }

    @Override
    public void revertLink(int ifindex) throws DnsException {
        call("RevertLink", () -> manager.RevertLink(ifindex));
    }

    @Override
    public void close() {
        closeQuietly(connection);
    }

    private static void call(String method, Runnable r) throws DnsException {
        try {
            r.run();
        } catch (DBusExecutionException e) {
            throw new DnsException("systemd-resolved refused " + method + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new DnsException("D-Bus call " + method + " to systemd-resolved failed: " + e, e);
        }
    }

    private static byte[] bytes(IpAddress a) {
        try {
            // a validated literal: parsed, never looked up
            return InetAddress.getByName(a.text()).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void closeQuietly(DBusConnection c) {
        try {
            c.close();
        } catch (IOException | RuntimeException e) {
            // closing a broken connection; nothing left to do
        }
    }
}
