package dev.killswitch.daemon;

import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.messages.DBusSignal;

/**
 * {@code org.freedesktop.login1.Manager} at {@code /org/freedesktop/login1}, as systemd-logind publishes it
 * (org.freedesktop.login1(5)): only the PrepareForSleep signal, which the service follows to check the
 * table after a suspend or hibernation.
 */
@DBusInterfaceName("org.freedesktop.login1.Manager")
public interface LogindManager extends DBusInterface {
    String BUS_NAME = "org.freedesktop.login1";
    String PATH = "/org/freedesktop/login1";

    /** {@code PrepareForSleep(b start)}: true just before the machine sleeps, false once it has woken. */
    class PrepareForSleep extends DBusSignal {
        private final boolean start;

        public PrepareForSleep(String path, boolean start) throws DBusException {
            super(path, start);
            this.start = start;
        }

        public boolean isStart() {
            return start;
        }
    }
}
