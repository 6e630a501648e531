package dev.killswitch.nm;

import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.messages.DBusSignal;
import org.freedesktop.dbus.types.UInt32;

/** {@code org.freedesktop.NetworkManager.VPN.Connection}: VpnState and its VpnStateChanged signal. */
@DBusInterfaceName("org.freedesktop.NetworkManager.VPN.Connection")
public interface NmVpnConnection extends DBusInterface {
    String INTERFACE = "org.freedesktop.NetworkManager.VPN.Connection";
    /** {@code u}: NMVpnConnectionState; {@link #ACTIVATED} once up. */
    String VPN_STATE = "VpnState";

    int ACTIVATED = 5;

    /** {@code VpnStateChanged(u state, u reason)}. */
    class VpnStateChanged extends DBusSignal {
        private final UInt32 state;

        public VpnStateChanged(String path, UInt32 state, UInt32 reason) throws DBusException {
            super(path, state, reason);
            this.state = state;
        }

        public UInt32 getState() {
            return state;
        }
    }
}
