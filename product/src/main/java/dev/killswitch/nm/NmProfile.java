package dev.killswitch.nm;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One saved connection profile of NetworkManager, as far as killswitch reads it: from
 * {@code org.freedesktop.NetworkManager.Settings.Connection.GetSettings} ({@code a{sa{sv}}}, setting name ->
 * key -> value), with the D-Bus variants already unwrapped to plain Java values (String, Boolean, Number, List,
 * Map). Secrets are not part of GetSettings' answer, and none is read.
 *
 * @param uuid           {@code connection.uuid}
 * @param id             {@code connection.id}, the name people see
 * @param type           {@code connection.type}: "vpn", "wireguard", "802-3-ethernet", ...
 * @param permissions    {@code connection.permissions}, e.g. ["user:alice:"]; empty for a system-wide profile
 * @param vpnServiceType {@code vpn.service-type}, e.g. "org.freedesktop.NetworkManager.openvpn"; null unless a VPN
 * @param vpnData        {@code vpn.data}, the plugin's own keys (OpenVPN's "remote", "port", ...); empty unless a VPN
 * @param wireguardPeerEndpoints each peer's {@code endpoint} of {@code wireguard.peers} ("host:port",
 *                       "[v6]:port"), for peers that have one; empty unless a WireGuard connection
 */
public record NmProfile(String uuid, String id, String type, List<String> permissions, String vpnServiceType,
        Map<String, String> vpnData, List<String> wireguardPeerEndpoints) {

    public NmProfile {
        uuid = uuid == null ? "" : uuid;
        id = id == null ? "" : id;
        type = type == null ? "" : type;
        permissions = List.copyOf(permissions);
        vpnData = Map.copyOf(vpnData);
        wireguardPeerEndpoints = List.copyOf(wireguardPeerEndpoints);
    }

    /** A VPN profile of a plugin, or one of NetworkManager's own WireGuard connections: a profile with servers. */
    public boolean isVpn() {
        return type.equals("vpn") || type.equals("wireguard");
    }

    /** Restricted to users: {@code connection.permissions} names at least one ("user:NAME:"). */
    public boolean userRestricted() {
        return !permissions.isEmpty();
    }

    /** The users {@code connection.permissions} names ("user:alice:" -> alice), made printable, for messages. */
    public List<String> users() {
        List<String> out = new ArrayList<>();
        for (String p : permissions) {
            String[] parts = p.split(":", -1);
            out.add(dev.killswitch.config.Validate.printable(parts.length >= 2 && parts[0].equals("user") ? parts[1] : p));
        }
        return out;
    }

    /**
     * From GetSettings' answer with the variants unwrapped. Fields that are missing or of another shape read as
     * empty: a profile that says nothing usable opens nothing.
     */
    public static NmProfile fromSettings(Map<String, ? extends Map<String, ?>> settings) {
        Map<String, ?> connection = setting(settings, "connection");
        Map<String, ?> vpn = setting(settings, "vpn");
        Map<String, ?> wireguard = setting(settings, "wireguard");
        Map<String, String> data = new LinkedHashMap<>();
        if (vpn.get("data") instanceof Map<?, ?> m) {
            m.forEach((k, v) -> {
                if (k instanceof String key && v instanceof String value) data.put(key, value);
            });
        }
        List<String> endpoints = new ArrayList<>();
        for (Object peer : list(wireguard.get("peers"))) {
            if (peer instanceof Map<?, ?> m && m.get("endpoint") instanceof String e && !e.isEmpty()) endpoints.add(e);
        }
        List<String> permissions = new ArrayList<>();
        for (Object p : list(connection.get("permissions"))) {
            if (p instanceof String s && !s.isEmpty()) permissions.add(s);
        }
        return new NmProfile(string(connection.get("uuid")), string(connection.get("id")), string(connection.get("type")),
                permissions, string(vpn.get("service-type")), data, endpoints);
    }

    private static Map<String, ?> setting(Map<String, ? extends Map<String, ?>> settings, String name) {
        Map<String, ?> m = settings.get(name);
        return m == null ? Map.of() : m;
    }

    private static String string(Object o) {
        return o instanceof String s ? s : null;
    }

    private static List<Object> list(Object o) {
        List<Object> out = new ArrayList<>();
        if (o instanceof Collection<?> c) out.addAll(c);
        else if (o instanceof Object[] a) out.addAll(List.of(a));
        return out;
    }
}
