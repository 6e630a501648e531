package dev.killswitch.control;

import dev.killswitch.config.IpAddress;
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
 * (allow), pause (ms), resume, enable, disable. {@code pid} is what the client says its pid is, for the log
 * only. The hook scripts (hooks/killswitch-client.sh) write these lines by hand: keep the two in step.
 *
 * @param config an absolute path that passed {@link Validate#pathProblem}, or null
 */
public record ControlRequest(String op, String iface, List<IpAddress> dns, boolean allow, Duration pause, String config,
        long pid) {
    /** The longest request line the daemon reads. */
    public static final int MAX_LINE = 8192;
    private static final List<String> OPS = List.of("up", "down", "allow-endpoints", "allow-tunnel", "allow-lan", "pause",
            "resume", "enable", "disable");
    private static final Set<String> FIELDS = Set.of("op", "iface", "dns", "allow", "ms", "config", "pid");

    public static ControlRequest up(String iface) {
        return new ControlRequest("up", Validate.interfaceName(iface), List.of(), false, null, null, self());
    }

    public static ControlRequest down(String iface) {
        return new ControlRequest("down", Validate.interfaceName(iface), List.of(), false, null, null, self());
    }

    /** wg-quick's pre-up: the service reads the peers' endpoints from {@code config} itself. */
    public static ControlRequest allowEndpoints(String iface, String config) {
        return new ControlRequest("allow-endpoints", Validate.interfaceName(iface), List.of(), false, null,
                checkedPath(config), self());
    }

    public static ControlRequest allowTunnel(String iface, List<IpAddress> dns) {
        return allowTunnel(iface, dns, null);
    }

    /** A tunnel that carries traffic; with no {@code dns}, the DNS = line of {@code config} (when not null) counts. */
    public static ControlRequest allowTunnel(String iface, List<IpAddress> dns, String config) {
        return new ControlRequest("allow-tunnel", Validate.interfaceName(iface), List.copyOf(dns), false, null,
                config == null ? null : checkedPath(config), self());
    }

    public static ControlRequest allowLan(boolean allow) {
        return new ControlRequest("allow-lan", null, List.of(), allow, null, null, self());
    }

    public static ControlRequest pause(Duration d) {
        return new ControlRequest("pause", null, List.of(), false, d, null, self());
    }

    public static ControlRequest simple(String op) {
        if (!op.equals("resume") && !op.equals("enable") && !op.equals("disable")) {
            throw new IllegalArgumentException("not a simple op: " + op);
        }
        return new ControlRequest(op, null, List.of(), false, null, null, self());
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
            if (!op.equals("allow-endpoints") && !op.equals("allow-tunnel")) throw new IllegalArgumentException(op + " takes no \"config\"");
            if (!(m.get("config") instanceof String c)) throw new IllegalArgumentException("\"config\" must be a path, a string");
            config = checkedPath(c);
        }
        if (op.equals("allow-endpoints") && config == null) {
            throw new IllegalArgumentException("allow-endpoints needs \"config\", the wg-quick config file");
        }
        switch (op) {
            case "up", "down", "allow-endpoints", "allow-tunnel" -> {
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
                return new ControlRequest(op, iface, List.copyOf(dns), false, null, config, pid);
            }
            case "allow-lan" -> {
                if (!(m.get("allow") instanceof Boolean b)) throw new IllegalArgumentException("allow-lan needs \"allow\": true or false");
                return new ControlRequest(op, null, List.of(), b, null, null, pid);
            }
            case "pause" -> {
                if (!(m.get("ms") instanceof Long ms) || ms <= 0 || ms > 24L * 3600 * 1000) {
                    throw new IllegalArgumentException("pause needs \"ms\", more than 0 and at most 24 hours");
                }
                return new ControlRequest(op, null, List.of(), false, Duration.ofMillis(ms), null, pid);
            }
            default -> {
                return new ControlRequest(op, null, List.of(), false, null, null, pid);
            }
        }
    }

    /** For the log: e.g. "up wg0", "allow-lan on", "pause 300000 ms". */
    public String describe() {
        return switch (op) {
            case "up", "down" -> op + " " + iface;
            case "allow-endpoints" -> "allow-endpoints " + iface + " from " + config;
            case "allow-tunnel" -> "allow-tunnel " + iface + (dns.isEmpty() ? "" : " with resolvers " + dns)
                    + (config == null ? "" : " (config " + config + ")");
            case "allow-lan" -> "allow-lan " + (allow ? "on" : "off");
            case "pause" -> "pause " + pause.toMillis() + " ms";
            default -> op;
        };
    }
}
