package dev.killswitch.nm;

import java.util.Map;
import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.messages.DBusSignal;
import org.freedesktop.dbus.types.Variant;

/** {@code org.freedesktop.NetworkManager.Settings.Connection}: one saved profile, and its Updated signal. */
@DBusInterfaceName("org.freedesktop.NetworkManager.Settings.Connection")
public interface NmSettingsConnection extends DBusInterface {

    /** {@code a{sa{sv}}}: setting name -> key -> value, without secrets. */
    Map<String, Map<String, Variant<?>>> GetSettings();

    /** {@code Updated()}: the profile's settings changed (read them again). */
    class Updated extends DBusSignal {
        public Updated(String path) throws DBusException {
            super(path);
        }
    }
}
