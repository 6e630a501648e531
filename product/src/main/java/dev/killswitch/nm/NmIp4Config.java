package dev.killswitch.nm;

import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.interfaces.DBusInterface;

/** {@code org.freedesktop.NetworkManager.IP4Config}: the names of the properties killswitch reads. */
@DBusInterfaceName("org.freedesktop.NetworkManager.IP4Config")
public interface NmIp4Config extends DBusInterface {
    String INTERFACE = "org.freedesktop.NetworkManager.IP4Config";
    /** {@code aa{sv}}: each with "address" (s) and "prefix" (u). */
    String ADDRESS_DATA = "AddressData";
    /** {@code aa{sv}}: each with "address" (s); since NetworkManager 1.14. */
    String NAMESERVER_DATA = "NameserverData";
    /** {@code au}: the older form, IPv4 addresses in network byte order. */
    String NAMESERVERS = "Nameservers";
}
