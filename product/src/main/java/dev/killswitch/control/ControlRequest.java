package dev.killswitch.control;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import dev.killswitch.config.Validate;
import dev.killswitch.state.Json;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One request on the control socket, validated exactly as the same command line would be: one JSON
 * line such as {@code {"op":"up","iface":"wg0"}}. Ops: up, down, allow-endpoints (iface, config: a
 * wg-quick file whose peers' endpoints the service reads itself; the hooks' pre-up), allow-tunnel (iface,
 * dns, and optionally config, whose DNS = line counts when dns is empty: post-up / vpn-up), allow-lan
 * (allow), pause (ms), resume, enable, disable; for OpenVPN, allow-remotes (config: an OpenVPN client config
 * whose dev and remotes the service reads itself; its pre-up), allow-tunnel with "endpoint" (the server
 * it connected to: {"address","port","protocol"}; its up) and withdraw-tunnel (iface: traffic and resolvers
 * withdrawn, the servers kept; its down on a restart). {@code pid} is what the client says its pid is, for the log
 * only. The hook scripts (hooks/killswitch-client.sh) write these lines by hand: keep the two in step.
 *
 * @param config an absolute path that passed {@link Validate#pathProblem}, or null
 */
public record ControlRequest(String op, String iface, List<IpAddress> dns, boolean allow, Duration pause, String config,
        Endpoint endpoint, long pid) {
    /** The longest request line the daemon reads. */
    public static final int MAX_LINE = 8192;
    private static final List<String> OPS = List.of("up", "down", "allow-endpoints", "allow-tunnel", "allow-lan", "pause",
            "resume", "enable", "disable", "allow-remotes", "withdraw-tunnel");
    private static final Set<String> FIELDS = Set.of("op", "iface", "dns", "allow", "ms", "config", "endpoint", "pid");

    public static ControlRequest up(String iface) {
        return new ControlRequest("up", Validate.interfaceName(iface), List.of(), false, null, null, null, self());
    }

    public static ControlRequest down(String iface) {
        return new ControlRequest("down", Validate.interfaceName(iface), List.of(), false, null, null, null, self());
    }

    /** wg-quick's pre-up: the service reads the peers' endpoints from {@code config} itself. */
    public static ControlRequest allowEndpoints(String iface, String config) {
        return new ControlRequest("allow-endpoints", Validate.interfaceName(iface), List.of(), false, null,
                checkedPath(config), null, self());
    }

    public static ControlRequest allowTunnel(String iface, List<IpAddress> dns) {
        return allowTunnel(iface, dns, null);
    }

    /** A tunnel that carries traffic; with no {@code dns}, the DNS = line of {@code config} (when not null) counts. */
    public static ControlRequest allowTunnel(String iface, List<IpAddress> dns, String config) {
        return new ControlRequest("allow-tunnel", Validate.interfaceName(iface), List.copyOf(dns), false, null,
                config == null ? null : checkedPath(config), null, self());
    }

    /**
     * OpenVPN's pre-up: the service reads the client config at {@code config} itself (its {@code dev} and every
     * {@code remote}: dev.killswitch.openvpn.OpenVpnConfig) and allows those servers to that device.
     */
    public static ControlRequest allowRemotes(String config) {
        return new ControlRequest("allow-remotes", null, List.of(), false, null, checkedPath(config), null, self());
    }

    /** OpenVPN's up: {@link #allowTunnel} plus the server it connected to ({@code server}, or null) as an endpoint. */
    public static ControlRequest allowOpenVpnTunnel(String iface, List<IpAddress> dns, Endpoint server) {
        return new ControlRequest("allow-tunnel", Validate.interfaceName(iface), List.copyOf(dns), false, null, null,
                server, self());
    }

    /** OpenVPN restarting (its down with a restart signal): traffic and resolvers withdrawn, the servers kept. */
    public static ControlRequest withdrawTunnel(String iface) {
        return new ControlRequest("withdraw-tunnel", Validate.interfaceName(iface), List.of(), false, null, null, null, self());
    }

    public static ControlRequest allowLan(boolean allow) {
        return new ControlRequest("allow-lan", null, List.of(), allow, null, null, null, self());
    }

    public static ControlRequest pause(Duration d) {
        return new ControlRequest("pause", null, List.of(), false, d, null, null, self());
    }

    public static ControlRequest simple(String op) {
        if (!op.equals("resume") && !op.equals("enable") && !op.equals("disable")) {
            throw new IllegalArgumentException("not a simple op: " + op);
        }
        return new ControlRequest(op, null, List.of(), false, null, null, null, self());
    }

    private static String checkedPath(String path) {
        String problem = Validate.pathProblem(path);
        if (problem != null) throw new IllegalArgumentException(problem);
        return path;
    }

    private static long self() {
        return ProcessHandle.current().pid();
    }

    /** The request as one JSON line. */
    public String toLine() throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", op);
        if (iface != null) m.put("iface", iface);
        if (op.equals("allow-tunnel")) m.put("dns", dns.stream().map(IpAddress::text).toList());
        if (op.equals("allow-lan")) m.put("allow", allow);
        if (config != null) m.put("config", config);
        if (endpoint != null) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("address", endpoint.address().text());
            e.put("port", (long) endpoint.port());
            e.put("protocol", endpoint.protocol().nftName());
            m.put("endpoint", e);
        }
        if (pause != null) m.put("ms", pause.toMillis());
        m.put("pid", pid);
        return Json.writeLine(m);
    }

    /**
     * Parses and validates a line from the socket. Anything malformed, unknown or hostile (an interface
     * name that is not 1-15 of A-Z a-z 0-9 _ . -, a resolver that is not an IP literal, a pause out of
     * range) is an IllegalArgumentException whose message can go back to the client.
     */
    public static ControlRequest parse(String line) {
        if (line == null || line.isBlank()) throw new IllegalArgumentException("empty request");
        if (line.length() > MAX_LINE) throw new IllegalArgumentException("request longer than " + MAX_LINE + " characters");
        Map<String, Object> m;
        try {
            m = Json.object(Json.read(line), "the request");
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not a JSON object: " + Validate.printable(String.valueOf(e.getMessage())));
        }
        for (String k : m.keySet()) {
            if (!FIELDS.contains(k)) {
                throw new IllegalArgumentException("unknown field '" + Validate.printable(k) + "'");
            }
        }
        if (!(m.get("op") instanceof String op) || !OPS.contains(op)) {
            throw new IllegalArgumentException("unknown op '" + Validate.printable(String.valueOf(m.get("op")))
                    + "'; expected one of " + String.join(", ", OPS));
        }
        long pid = m.get("pid") instanceof Long p && p > 0 ? p : -1;
        String config = null;
        if (m.containsKey("config")) {
            if (!op.equals("allow-endpoints") && !op.equals("allow-tunnel") && !op.equals("allow-remotes")) {
                throw new IllegalArgumentException(op + " takes no \"config\"");
            }
            if (!(m.get("config") instanceof String c)) throw new IllegalArgumentException("\"config\" must be a path, a string");
            config = checkedPath(c);
        }
        if (op.equals("allow-endpoints") && config == null) {
            throw new IllegalArgumentException("allow-endpoints needs \"config\", the wg-quick config file");
        }
        if (op.equals("allow-remotes") && config == null) {
            throw new IllegalArgumentException("allow-remotes needs \"config\", the OpenVPN client config file");
        }
        Endpoint endpoint = null;
        if (m.containsKey("endpoint")) {
            if (!op.equals("allow-tunnel")) throw new IllegalArgumentException(op + " takes no \"endpoint\"");
            endpoint = endpoint(m.get("endpoint"));
        }
        switch (op) {
            case "allow-remotes" -> {
                if (m.containsKey("iface") || m.containsKey("dns")) {
                    throw new IllegalArgumentException("allow-remotes takes only \"config\": the device is the config's dev");
                }
                return new ControlRequest(op, null, List.of(), false, null, config, null, pid);
            }
            case "up", "down", "allow-endpoints", "allow-tunnel", "withdraw-tunnel" -> {
                if (!(m.get("iface") instanceof String iface)) throw new IllegalArgumentException(op + " needs \"iface\", a string");
                Validate.interfaceName(iface);
                List<IpAddress> dns = new ArrayList<>();
                if (m.containsKey("dns")) {
                    if (!op.equals("allow-tunnel")) throw new IllegalArgumentException(op + " takes no \"dns\"");
                    if (!(m.get("dns") instanceof List<?> l)) throw new IllegalArgumentException("\"dns\" must be a list of IP addresses");
                    for (Object o : l) {
                        if (!(o instanceof String s)) throw new IllegalArgumentException("\"dns\" must be a list of IP addresses");
                        dns.add(IpAddress.parse(s));
                    }
                }
                return new ControlRequest(op, iface, List.copyOf(dns), false, null, config, endpoint, pid);
            }
            case "allow-lan" -> {
                if (!(m.get("allow") instanceof Boolean b)) throw new IllegalArgumentException("allow-lan needs \"allow\": true or false");
                return new ControlRequest(op, null, List.of(), b, null, null, null, pid);
            }
            case "pause" -> {
                if (!(m.get("ms") instanceof Long ms) || ms <= 0 || ms > 24L * 3600 * 1000) {
                    throw new IllegalArgumentException("pause needs \"ms\", more than 0 and at most 24 hours");
                }
                return new ControlRequest(op, null, List.of(), false, Duration.ofMillis(ms), null, null, pid);
            }
            default -> {
                return new ControlRequest(op, null, List.of(), false, null, null, null, pid);
            }
        }
    }

    /** {"address": IP literal, "port": 1-65535, "protocol": "udp" or "tcp"}, checked. */
    private static Endpoint endpoint(Object o) {
        if (!(o instanceof Map<?, ?> e) || !(e.get("address") instanceof String a) || !(e.get("port") instanceof Long p)
                || !(e.get("protocol") instanceof String proto) || e.size() != 3) {
            throw new IllegalArgumentException("\"endpoint\" must be {\"address\": an IP address, \"port\": a number, "
                    + "\"protocol\": \"udp\" or \"tcp\"}");
        }
        if (p < 1 || p > 65535) throw new IllegalArgumentException("\"endpoint\": port " + p + " is outside 1 to 65535");
        return new Endpoint(IpAddress.parse(a), Protocol.parse(proto), p.intValue());
    }

    /** For the log: e.g. "up wg0", "allow-lan on", "pause 300000 ms". */
    public String describe() {
        return switch (op) {
            case "up", "down" -> op + " " + iface;
            case "allow-endpoints" -> "allow-endpoints " + iface + " from " + config;
            case "allow-tunnel" -> "allow-tunnel " + iface + (dns.isEmpty() ? "" : " with resolvers " + dns)
                    + (config == null ? "" : " (config " + config + ")") + (endpoint == null ? "" : " connected to " + endpoint);
            case "allow-remotes" -> "allow-remotes from " + config;
            case "withdraw-tunnel" -> "withdraw-tunnel " + iface;
            case "allow-lan" -> "allow-lan " + (allow ? "on" : "off");
            case "pause" -> "pause " + pause.toMillis() + " ms";
            default -> op;
        };
    }
}
