package dev.killswitch.dns.resolved;

import java.util.List;
import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.interfaces.DBusInterface;

/**
 * The part of systemd-resolved's {@code org.freedesktop.resolve1.Manager} (at
 * {@code /org/freedesktop/resolve1}) that killswitch uses. Method names are the D-Bus member names.
 */
@DBusInterfaceName("org.freedesktop.resolve1.Manager")
public interface Resolve1Manager extends DBusInterface {
    String BUS_NAME = "org.freedesktop.resolve1";
    String OBJECT_PATH = "/org/freedesktop/resolve1";

    /** {@code SetLinkDNS(i ifindex, a(iay) addresses)}. */
    void SetLinkDNS(int ifindex, List<LinkDnsServer> addresses);

    /** {@code SetLinkDomains(i ifindex, a(sb) domains)}; the boolean marks a routing-only domain ("~"). */
    void SetLinkDomains(int ifindex, List<LinkDomain> domains);

    /** {@code SetLinkDefaultRoute(i ifindex, b enable)}. */
    void SetLinkDefaultRoute(int ifindex, boolean enable);

    /** {@code SetLinkDNSOverTLS(i ifindex, s mode)}: "no", "opportunistic", "yes", or "" for the default. */
    void SetLinkDNSOverTLS(int ifindex, String mode);

    /** {@code RevertLink(i ifindex)}. */
    void RevertLink(int ifindex);
}
