package dev.killswitch.nm;

import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.interfaces.DBusInterface;

/**
 * The part of {@code org.freedesktop.NetworkManager} (at {@code /org/freedesktop/NetworkManager}) that
 * killswitch reads: the property names, read with {@code org.freedesktop.DBus.Properties.Get}.
 */
@DBusInterfaceName("org.freedesktop.NetworkManager")
public interface NmManager extends DBusInterface {
    String BUS_NAME = "org.freedesktop.NetworkManager";
    String INTERFACE = "org.freedesktop.NetworkManager";
    String OBJECT_PATH = "/org/freedesktop/NetworkManager";
    /** {@code ao}: the active connections. */
    String ACTIVE_CONNECTIONS = "ActiveConnections";
    /** {@code ao}: every device, also the ones NetworkManager does not manage (a VPN's tun). */
    String ALL_DEVICES = "AllDevices";
}
