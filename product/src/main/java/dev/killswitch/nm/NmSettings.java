package dev.killswitch.nm;

import java.util.List;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.messages.DBusSignal;

/**
 * {@code org.freedesktop.NetworkManager.Settings} at {@code /org/freedesktop/NetworkManager/Settings}: the saved
 * connection profiles, and the signals that say one was added or removed.
 */
@DBusInterfaceName("org.freedesktop.NetworkManager.Settings")
public interface NmSettings extends DBusInterface {
    String OBJECT_PATH = "/org/freedesktop/NetworkManager/Settings";
    /** Every saved connection's object path starts so. */
    String CONNECTION_PATH_PREFIX = "/org/freedesktop/NetworkManager/Settings/";

    /** The object paths of every saved connection (the ones the caller may see; root sees all). */
    List<DBusPath> ListConnections();

    /** {@code NewConnection(o connection)}: a profile was added (or loaded from disk). */
    class NewConnection extends DBusSignal {
        private final DBusPath connection;

        public NewConnection(String path, DBusPath connection) throws DBusException {
            super(path, connection);
            this.connection = connection;
        }

        public DBusPath getConnection() {
            return connection;
        }
    }

    /** {@code ConnectionRemoved(o connection)}: a profile was deleted. */
    class ConnectionRemoved extends DBusSignal {
        private final DBusPath connection;

        public ConnectionRemoved(String path, DBusPath connection) throws DBusException {
            super(path, connection);
            this.connection = connection;
        }

        public DBusPath getConnection() {
            return connection;
        }
    }
}
