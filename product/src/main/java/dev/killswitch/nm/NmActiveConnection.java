package dev.killswitch.nm;

import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.messages.DBusSignal;
import org.freedesktop.dbus.types.UInt32;

/** {@code org.freedesktop.NetworkManager.Connection.Active}: the properties killswitch reads, and StateChanged. */
@DBusInterfaceName("org.freedesktop.NetworkManager.Connection.Active")
public interface NmActiveConnection extends DBusInterface {
    String INTERFACE = "org.freedesktop.NetworkManager.Connection.Active";
    /** {@code b}: a VPN connection (then it also has {@link NmVpnConnection}). */
    String VPN = "Vpn";
    /** {@code u}: NMActiveConnectionState; {@link #ACTIVATED} once up. */
    String STATE = "State";
    /** {@code o}: its IPv4 configuration, "/" when none. */
    String IP4_CONFIG = "Ip4Config";
    /** {@code o}: its IPv6 configuration, "/" when none. */
    String IP6_CONFIG = "Ip6Config";

    int ACTIVATED = 2;

    /** {@code StateChanged(u state, u reason)}. */
    class StateChanged extends DBusSignal {
        private final UInt32 state;

        public StateChanged(String path, UInt32 state, UInt32 reason) throws DBusException {
            super(path, state, reason);
            this.state = state;
        }

        public UInt32 getState() {
            return state;
        }
    }
}
