package dev.killswitch.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.IpAddress;
import dev.killswitch.nm.NmActiveConnection;
import dev.killswitch.nm.NmDevice;
import dev.killswitch.nm.NmIp4Config;
import dev.killswitch.nm.NmManager;
import dev.killswitch.nm.NmVpnConnection;
import dev.killswitch.nm.NmVpnReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.connections.impl.DBusConnectionBuilder;
import org.freedesktop.dbus.errors.UnknownObject;
import org.freedesktop.dbus.interfaces.Properties;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;
import org.junit.jupiter.api.Test;

/**
 * NmVpnReader against a NetworkManager of our own on a private system bus (a real dbus-daemon): objects that
 * go away between two calls of one read, which the real NetworkManager does only now and then (a device
 * removed by wg-quick down while a read is under way). A VPN is left out only when its own active connection is
 * gone; a device gone is skipped; anything else gone fails the read, which the service tries again.
 */
class NmVpnReaderBusTest {
    private static final String AC = "/org/freedesktop/NetworkManager/ActiveConnection/1";
    private static final String GONE_AC = "/org/freedesktop/NetworkManager/ActiveConnection/2";
    private static final String TUN = "/org/freedesktop/NetworkManager/Devices/1";
    private static final String GONE_DEVICE = "/org/freedesktop/NetworkManager/Devices/2";
    private static final String IP4 = "/org/freedesktop/NetworkManager/IP4Config/1";

    /** One object's properties, by interface, served over Properties.Get and GetAll. */
    private static final class FakeObject implements Properties {
        private final String path;
        final Map<String, Map<String, Variant<?>>> byInterface = new HashMap<>();

        FakeObject(String path) {
            this.path = path;
        }

        FakeObject with(String iface, String property, Variant<?> value) {
            byInterface.computeIfAbsent(iface, k -> new HashMap<>()).put(property, value);
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <A> A Get(String iface, String property) {
            return (A) byInterface.getOrDefault(iface, Map.of()).get(property);
        }

        @Override
        public <A> void Set(String iface, String property, A value) {
            throw new UnsupportedOperationException("read only");
        }

        @Override
        public Map<String, Variant<?>> GetAll(String iface) {
            return byInterface.getOrDefault(iface, Map.of());
        }

        @Override
        public String getObjectPath() {
            return path;
        }
    }

    private static Variant<?> paths(String... p) {
        List<DBusPath> list = new ArrayList<>();
        for (String s : p) list.add(new DBusPath(s));
        return new Variant<>(list, "ao");
    }

    private static Variant<?> addressData(String address) {
        return new Variant<>(List.of(Map.of("address", new Variant<>(address))), "aa{sv}");
    }

    @Test
    void aDeviceGoneInTheMiddleOfAReadDoesNotCostTheVpnItsGrant() throws Exception {
        LabSupport.assumeTools("dbus-daemon");
        try (PrivateSystemBus bus = PrivateSystemBus.start();
             DBusConnection nm = DBusConnectionBuilder.forAddress(bus.address()).withShared(false).build();
             DBusConnection service = DBusConnectionBuilder.forAddress(bus.address()).withShared(false).build()) {
            nm.requestBusName(NmManager.BUS_NAME);   // the system bus lets root send to NetworkManager's name only
            FakeObject manager = new FakeObject(NmManager.OBJECT_PATH)
                    // GONE_DEVICE is listed, newest, and not there: removed since, as wg-quick down does
                    .with(NmManager.INTERFACE, NmManager.ALL_DEVICES, paths(TUN, GONE_DEVICE))
                    .with(NmManager.INTERFACE, NmManager.ACTIVE_CONNECTIONS, paths(AC, GONE_AC));
            nm.exportObject(manager);
            nm.exportObject(new FakeObject(AC)
                    .with(NmActiveConnection.INTERFACE, NmActiveConnection.VPN, new Variant<>(true))
                    .with(NmActiveConnection.INTERFACE, NmActiveConnection.STATE, new Variant<>(new UInt32(NmActiveConnection.ACTIVATED)))
                    .with(NmActiveConnection.INTERFACE, NmActiveConnection.IP4_CONFIG, new Variant<>(new DBusPath(IP4)))
                    .with(NmActiveConnection.INTERFACE, NmActiveConnection.IP6_CONFIG, new Variant<>(new DBusPath("/")))
                    .with(NmVpnConnection.INTERFACE, NmVpnConnection.VPN_STATE, new Variant<>(new UInt32(NmVpnConnection.ACTIVATED))));
            nm.exportObject(new FakeObject(TUN)
                    .with(NmDevice.INTERFACE, NmDevice.IP4_CONFIG, new Variant<>(new DBusPath(IP4)))
                    .with(NmDevice.INTERFACE, NmDevice.IP_INTERFACE, new Variant<>("tun0")));
            FakeObject ip4 = new FakeObject(IP4)
                    .with(NmIp4Config.INTERFACE, NmIp4Config.ADDRESS_DATA, addressData("10.8.0.2"))
                    .with(NmIp4Config.INTERFACE, NmIp4Config.NAMESERVER_DATA, addressData("10.8.0.1"));
            nm.exportObject(ip4);

            NmVpnReader reader = new NmVpnReader(service);
            List<String> problems = new ArrayList<>();
            assertEquals(Map.of("tun0", List.of(IpAddress.parse("10.8.0.1"))), reader.activatedVpns(nm.getUniqueName(), problems));
            // the active connection listed and gone is the one left out, and said so
            assertEquals(1, problems.size(), problems.toString());
            assertTrue(problems.get(0).contains(GONE_AC + " went away"), problems.toString());
            // the activated signal's own read finds it the same way
            assertEquals(Map.of("tun0", List.of(IpAddress.parse("10.8.0.1"))), reader.activatedVpn(nm.getUniqueName(), AC, new ArrayList<>()));

            // the VPN's IP configuration gone in the middle: not a VPN that ended, a read to try again
            nm.unExportObject(IP4);
            assertThrows(UnknownObject.class, () -> reader.activatedVpns(nm.getUniqueName(), new ArrayList<>()));
        }
    }
}
