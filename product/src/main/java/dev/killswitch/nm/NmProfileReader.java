package dev.killswitch.nm;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.types.Variant;

/**
 * Reads NetworkManager's saved profiles over D-Bus: {@code Settings.ListConnections} and each connection's
 * {@code GetSettings}, from the process {@code owner} (the unique name that owns org.freedesktop.NetworkManager),
 * never from whoever answers to the well-known name. Not thread-safe: the service's worker alone reads.
 */
public final class NmProfileReader {
    private final DBusConnection connection;

    public NmProfileReader(DBusConnection connection) {
        this.connection = connection;
    }

    /** The object paths of every saved connection. */
    public List<String> connectionPaths(String owner) throws DBusException {
        List<String> out = new ArrayList<>();
        for (DBusPath p : connection.getRemoteObject(owner, NmSettings.OBJECT_PATH, NmSettings.class).ListConnections()) {
            out.add(p.getPath());
        }
        return out;
    }

    /**
     * One profile's settings. Throws a DBusExecutionException (UnknownObject, UnknownMethod) when it went away
     * between the list and this read.
     */
    public NmProfile profile(String owner, String path) throws DBusException {
        Map<String, Map<String, Variant<?>>> settings =
                connection.getRemoteObject(owner, path, NmSettingsConnection.class).GetSettings();
        Map<String, Map<String, Object>> plain = new LinkedHashMap<>();
        settings.forEach((name, keys) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            keys.forEach((k, v) -> m.put(k, plain(v)));
            plain.put(name, m);
        });
        return NmProfile.fromSettings(plain);
    }

    /** A D-Bus value as plain Java: variants opened, arrays and collections as lists, maps as maps. */
    static Object plain(Object v) {
        if (v instanceof Variant<?> var) return plain(var.getValue());
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, val) -> out.put(plain(k), plain(val)));
            return out;
        }
        if (v instanceof Collection<?> c) {
            List<Object> out = new ArrayList<>();
            for (Object o : c) out.add(plain(o));
            return out;
        }
        if (v instanceof byte[]) return v;
        if (v != null && v.getClass().isArray()) {
            List<Object> out = new ArrayList<>();
            for (int i = 0; i < Array.getLength(v); i++) out.add(plain(Array.get(v, i)));
            return out;
        }
        if (v instanceof DBusPath p) return p.getPath();
        return v;
    }
}
