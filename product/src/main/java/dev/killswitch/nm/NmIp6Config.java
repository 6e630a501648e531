package dev.killswitch.nm;

import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.interfaces.DBusInterface;

/** {@code org.freedesktop.NetworkManager.IP6Config}: the names of the properties killswitch reads. */
@DBusInterfaceName("org.freedesktop.NetworkManager.IP6Config")
public interface NmIp6Config extends DBusInterface {
    String INTERFACE = "org.freedesktop.NetworkManager.IP6Config";
    /** {@code aay}: each nameserver as its 16 address bytes, in network order (IP6Config has no NameserverData). */
    String NAMESERVERS = "Nameservers";
}
