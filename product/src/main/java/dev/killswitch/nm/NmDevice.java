package dev.killswitch.nm;

import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.interfaces.DBusInterface;

/** {@code org.freedesktop.NetworkManager.Device}: the names of the properties killswitch reads. */
@DBusInterfaceName("org.freedesktop.NetworkManager.Device")
public interface NmDevice extends DBusInterface {
    String INTERFACE = "org.freedesktop.NetworkManager.Device";
    /** {@code s}: the kernel interface name. */
    String INTERFACE_NAME = "Interface";
    /** {@code s}: the interface that carries IP (differs from Interface for e.g. PPP). */
    String IP_INTERFACE = "IpInterface";
    /** {@code o}: its IPv4 configuration, "/" when none. */
    String IP4_CONFIG = "Ip4Config";
}
