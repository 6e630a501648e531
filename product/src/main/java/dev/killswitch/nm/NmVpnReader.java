package dev.killswitch.nm;

import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Validate;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.errors.UnknownMethod;
import org.freedesktop.dbus.errors.UnknownObject;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.messages.Message;
import org.freedesktop.dbus.messages.MethodCall;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;

/**
 * Reads, from NetworkManager's properties (the truth, whatever signals came before), the VPN connections
 * that are activated: the interface that carries their traffic and their resolvers (IPv4, then IPv6).
 * <p>
 * A VPN's active connection lists the physical device in Devices, not its tun: the tun is found as the
 * device whose Ip4Config is the VPN's, or else whose IPv4 addresses include the VPN's.
 * <p>
 * Each read asks an object it needs most properties of once per interface (Properties.GetAll), the Manager
 * and the devices, of which it needs one or two, by Properties.Get; it keeps the answers for that read only.
 * The calls are built as messages, not made through a proxy of the Properties interface, and sent as soon as
 * the read knows it will need them, before it waits for the first answer: the read of one VPN as it is activated
 * is three round trips (its active connection and the devices; its IP configurations and the newest devices'
 * Ip4Config; the tun's name), not seven one after another. Interpreted, the proxies' reflection cost about as much
 * as the calls, and the seven took 20 to 40 ms. Not thread-safe: the service's worker alone reads.
 */
public final class NmVpnReader {
    private final DBusConnection connection;
    /**
     * The calls of the read under way, sent and maybe answered, by key: "path interface" for a GetAll,
     * "path interface property" for a Get.
     */
    private final Map<String, MethodCall> calls = new HashMap<>();
    /** The answers unpacked so far (the first argument of the reply), by the same keys. */
    private final Map<String, Object> answers = new HashMap<>();

    private static final String PROPERTIES = "org.freedesktop.DBus.Properties";
    /** How many devices' Ip4Config are asked for before the first answer is looked at. */
    private static final int DEVICES_ASKED_AT_ONCE = 4;

    public NmVpnReader(DBusConnection connection) {
        this.connection = connection;
    }

    /**
     * iface -> resolvers of every activated VPN, from the process {@code owner} (a unique name such as
     * :1.3). A value that is not a valid interface name or IP address is left out (and reported to
     * {@code problems}).
     */
    public Map<String, List<IpAddress>> activatedVpns(String owner, List<String> problems) throws DBusException {
        calls.clear();
        answers.clear();
        Map<String, List<IpAddress>> out = new TreeMap<>();
        askOne(owner, NmManager.OBJECT_PATH, NmManager.INTERFACE, NmManager.ALL_DEVICES);
        List<String> active = paths(getOne(owner, NmManager.OBJECT_PATH, NmManager.INTERFACE, NmManager.ACTIVE_CONNECTIONS));
        for (String ac : active) askAll(owner, ac, NmActiveConnection.INTERFACE);
        for (String ac : active) {
            try {
                get(owner, ac, NmActiveConnection.INTERFACE, NmActiveConnection.VPN);
            } catch (UnknownObject | UnknownMethod e) {
                // listed a moment ago, gone now (NetworkManager replaces active connections while one comes up):
                // a connection that no longer exists is no activated VPN; the others are still read
                problems.add("active connection " + ac + " went away while it was read (" + e.getMessage() + ")");
                continue;
            }
            // anything else gone in the middle (a device, an IP configuration) throws: the read is tried again,
            // since a VPN left out of a full read would lose its grant
            readVpn(owner, ac, false, out, problems);
        }
        return out;
    }

    /**
     * Like {@link #activatedVpns}, for the one active connection {@code ac} (an object path a VpnStateChanged
     * named): iface -> resolvers when it is an activated VPN with an IP interface, else empty. What the other
     * connections are is not read. Throws DBusException when it cannot be read (gone again, for one).
     */
    public Map<String, List<IpAddress>> activatedVpn(String owner, String ac, List<String> problems) throws DBusException {
        calls.clear();
        answers.clear();
        Map<String, List<IpAddress>> out = new TreeMap<>();
        askAll(owner, ac, NmActiveConnection.INTERFACE);
        askOne(owner, NmManager.OBJECT_PATH, NmManager.INTERFACE, NmManager.ALL_DEVICES);
        readVpn(owner, ac, true, out, problems);
        return out;
    }

    /**
     * Adds {@code ac} to {@code out} when it is an activated VPN with an IP interface. {@code signalled}: its
     * VpnStateChanged just said activated, so its VpnState is not read again (the active connection's State is).
     */
    private void readVpn(String owner, String ac, boolean signalled, Map<String, List<IpAddress>> out, List<String> problems)
            throws DBusException {
        if (!Boolean.TRUE.equals(get(owner, ac, NmActiveConnection.INTERFACE, NmActiveConnection.VPN))) return;
        if (uint(get(owner, ac, NmActiveConnection.INTERFACE, NmActiveConnection.STATE)) != NmActiveConnection.ACTIVATED
                || !signalled && uint(get(owner, ac, NmVpnConnection.INTERFACE, NmVpnConnection.VPN_STATE)) != NmVpnConnection.ACTIVATED) {
            return;
        }
        String ip4 = path(get(owner, ac, NmActiveConnection.INTERFACE, NmActiveConnection.IP4_CONFIG));
        String ip6 = path(get(owner, ac, NmActiveConnection.INTERFACE, NmActiveConnection.IP6_CONFIG));
        if (ip4 != null) askAll(owner, ip4, NmIp4Config.INTERFACE);
        if (ip6 != null) askAll(owner, ip6, NmIp6Config.INTERFACE);
        String iface = ip4 == null ? null : ipInterface(owner, ip4);
        if (iface == null) {
            problems.add("activated VPN " + ac + " has no IP interface yet");
            return;
        }
        try {
            Validate.interfaceName(iface);
        } catch (IllegalArgumentException e) {
            problems.add("activated VPN " + ac + ": " + e.getMessage());
            return;
        }
        List<IpAddress> resolvers = new ArrayList<>(nameservers(owner, ip4, problems));
        if (ip6 != null) resolvers.addAll(ipv6Nameservers(owner, ip6, problems));
        out.put(iface, List.copyOf(resolvers));
    }

    private String ipInterface(String owner, String ip4) throws DBusException {
        List<String> devices = paths(getOne(owner, NmManager.OBJECT_PATH, NmManager.INTERFACE, NmManager.ALL_DEVICES));
        // newest first: a VPN's tun is usually the last device NetworkManager added, so the first answer finds it
        // and the name asked for beside it is the one needed
        java.util.Collections.reverse(devices);
        if (!devices.isEmpty()) askOne(owner, devices.get(0), NmDevice.INTERFACE, NmDevice.IP_INTERFACE);
        for (int i = 0; i < devices.size(); i++) {
            // asked a few at a time: the answers of the next ones are on their way while one is looked at
            if (i % DEVICES_ASKED_AT_ONCE == 0) {
                for (String d : devices.subList(i, Math.min(devices.size(), i + DEVICES_ASKED_AT_ONCE))) {
                    askOne(owner, d, NmDevice.INTERFACE, NmDevice.IP4_CONFIG);
                }
            }
            String d = devices.get(i);
            if (ip4.equals(deviceIp4Config(owner, d))) return deviceIpInterface(owner, d);
        }
        Set<String> vpnAddresses = addresses(owner, ip4);
        if (vpnAddresses.isEmpty()) return null;
        for (String d : devices) {
            String dip4 = deviceIp4Config(owner, d);
            if (dip4 == null) continue;
            Set<String> a;
            try {
                a = addresses(owner, dip4);
            } catch (UnknownObject | UnknownMethod e) {
                continue;   // replaced since the device named it: not the VPN's
            }
            a.retainAll(vpnAddresses);
            if (!a.isEmpty()) return deviceIpInterface(owner, d);
        }
        return null;
    }

    /**
     * A device's Ip4Config path, or null when it has none or the device is gone: devices come and go all the time
     * (a wg-quick tunnel taken down, a cable), and one removed since AllDevices was read is not the VPN's tun.
     */
    private String deviceIp4Config(String owner, String device) throws DBusException {
        try {
            return path(getOne(owner, device, NmDevice.INTERFACE, NmDevice.IP4_CONFIG));
        } catch (UnknownObject | UnknownMethod e) {
            return null;
        }
    }

    private String deviceIpInterface(String owner, String device) throws DBusException {
        Object ip = getOne(owner, device, NmDevice.INTERFACE, NmDevice.IP_INTERFACE);
        if (ip instanceof String s && !s.isEmpty()) return s;
        return (String) getOne(owner, device, NmDevice.INTERFACE, NmDevice.INTERFACE_NAME);
    }

    private Set<String> addresses(String owner, String ip4) throws DBusException {
        Set<String> out = new LinkedHashSet<>();
        for (Object entry : list(get(owner, ip4, NmIp4Config.INTERFACE, NmIp4Config.ADDRESS_DATA))) {
            String a = field(entry, "address");
            if (a != null) out.add(a);
        }
        return out;
    }

    private List<IpAddress> nameservers(String owner, String ip4, List<String> problems) throws DBusException {
        List<String> texts = new ArrayList<>();
        Object data = get(owner, ip4, NmIp4Config.INTERFACE, NmIp4Config.NAMESERVER_DATA);
        if (data != null) {
            for (Object entry : list(data)) {
                String a = field(entry, "address");
                if (a != null) texts.add(a);
            }
        } else {
            // NameserverData is missing before NetworkManager 1.14: the older Nameservers (au)
            for (Object n : list(get(owner, ip4, NmIp4Config.INTERFACE, NmIp4Config.NAMESERVERS))) {
                long v = uint(n);
                texts.add((v & 0xff) + "." + ((v >> 8) & 0xff) + "." + ((v >> 16) & 0xff) + "." + ((v >> 24) & 0xff));
            }
        }
        List<IpAddress> out = new ArrayList<>();
        for (String t : texts) {
            try {
                out.add(IpAddress.parse(t));
            } catch (RuntimeException e) {
                problems.add("left out the resolver '" + Validate.printable(t) + "': " + e.getMessage());
            }
        }
        return List.copyOf(out);
    }

    private List<IpAddress> ipv6Nameservers(String owner, String ip6, List<String> problems) throws DBusException {
        List<IpAddress> out = new ArrayList<>();
        for (Object entry : list(get(owner, ip6, NmIp6Config.INTERFACE, NmIp6Config.NAMESERVERS))) {
            try {
                out.add(ipv6(entry));
            } catch (IllegalArgumentException e) {
                problems.add("left out an IPv6 resolver: " + e.getMessage());
            }
        }
        return out;
    }

    /**
     * One entry of IP6Config's Nameservers ({@code ay}: 16 bytes, network order) as an IPv6 address. Throws
     * IllegalArgumentException for any other length, and for an address that is not IPv6 proper (an
     * IPv4-mapped one, which the kernel would send as IPv4, outside the {@code dns6} set).
     */
    static IpAddress ipv6(Object ay) {
        byte[] b = bytes(ay);
        if (b == null) throw new IllegalArgumentException("not a byte array");
        if (b.length != 16) throw new IllegalArgumentException(b.length + " bytes, not the 16 of an IPv6 address");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 16; i += 2) {
            if (i > 0) text.append(':');
            text.append(Integer.toHexString(((b[i] & 0xff) << 8) | (b[i + 1] & 0xff)));
        }
        if (text.toString().startsWith("0:0:0:0:0:ffff:")) {
            throw new IllegalArgumentException(text + " is an IPv4-mapped address, not an IPv6 resolver");
        }
        return IpAddress.parse(text.toString());
    }

    /** An {@code ay} as dbus-java hands it over: byte[], or a list or array of Byte. Null for anything else. */
    private static byte[] bytes(Object ay) {
        if (ay instanceof byte[] b) return b.clone();
        if (ay == null || !(ay instanceof Collection<?> || ay.getClass().isArray())) return null;
        List<Object> items = list(ay);
        byte[] out = new byte[items.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(items.get(i) instanceof Byte v)) return null;
            out[i] = v;
        }
        return out;
    }

    /** One property of an object, from its GetAll of this read; null when the object has no such property. */
    private Object get(String owner, String objectPath, String iface, String property) throws DBusException {
        Object all = answer(askAll(owner, objectPath, iface));
        if (!(all instanceof Map<?, ?> m)) throw new DBusException("GetAll(" + iface + ") of " + objectPath + " answered " + all);
        Object v = m.get(property);
        return v instanceof Variant<?> var ? var.getValue() : v;
    }

    /**
     * One property by Properties.Get, for objects of which a property or two are read: a Device has dozens, and
     * unpacking a GetAll of each device in the interpreted service cost more than the rest of the read. Kept for
     * the read under way, like {@link #get}.
     */
    private Object getOne(String owner, String objectPath, String iface, String property) throws DBusException {
        Object v = answer(askOne(owner, objectPath, iface, property));
        return v instanceof Variant<?> var ? var.getValue() : v;
    }

    /** Sends Properties.GetAll(iface) to {@code objectPath} unless this read has: its key in {@link #calls}. */
    private String askAll(String owner, String objectPath, String iface) throws DBusException {
        return ask(owner, objectPath + " " + iface, objectPath, "GetAll", "s", iface);
    }

    /** Sends Properties.Get(iface, property) to {@code objectPath} unless this read has: its key in {@link #calls}. */
    private String askOne(String owner, String objectPath, String iface, String property) throws DBusException {
        return ask(owner, objectPath + " " + iface + " " + property, objectPath, "Get", "ss", iface, property);
    }

    /** The call goes out now; its answer is taken when it is needed ({@link #answer}). */
    private String ask(String owner, String key, String objectPath, String member, String signature, Object... args)
            throws DBusException {
        if (!calls.containsKey(key)) {
            MethodCall call = connection.getMessageFactory().createMethodCall(owner, objectPath, PROPERTIES,
                    member, (byte) 0, signature, args);
            connection.sendMessage(call);
            calls.put(key, call);
        }
        return key;
    }

    /**
     * The answer to the call under {@code key}, waited for (dbus-java's default time of 20 s) and kept for the
     * read under way. Throws the error NetworkManager answered (UnknownObject, UnknownMethod: a
     * DBusExecutionException) or DBusException when no answer came.
     */
    private Object answer(String key) throws DBusException {
        if (answers.containsKey(key)) return answers.get(key);
        Message reply = calls.get(key).getReply();
        if (reply == null) throw new DBusException("NetworkManager did not answer " + key + " in time");
        if (reply instanceof org.freedesktop.dbus.messages.Error error) error.throwException();
        Object[] parameters = reply.getParameters();
        Object v = parameters == null || parameters.length == 0 ? null : parameters[0];
        answers.put(key, v);
        return v;
    }

    private static String field(Object entry, String key) {
        if (!(entry instanceof Map<?, ?> m)) return null;
        Object v = m.get(key);
        if (v instanceof Variant<?> var) v = var.getValue();
        return v == null ? null : v.toString();
    }

    private static long uint(Object o) {
        if (o instanceof UInt32 u) return u.longValue();
        if (o instanceof Number n) return n.longValue();
        return -1;
    }

    private static String path(Object o) {
        String p = o instanceof DBusPath d ? d.getPath() : o == null ? null : o.toString();
        return p == null || p.equals("/") ? null : p;
    }

    private static List<String> paths(Object o) {
        List<String> out = new ArrayList<>();
        for (Object e : list(o)) {
            String p = path(e);
            if (p != null) out.add(p);
        }
        return out;
    }

    private static List<Object> list(Object o) {
        List<Object> out = new ArrayList<>();
        if (o instanceof Collection<?> c) out.addAll(c);
        else if (o != null && o.getClass().isArray()) {
            for (int i = 0; i < Array.getLength(o); i++) out.add(Array.get(o, i));
        }
        return out;
    }
}
