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
 * line such as {@code {"op":"up","iface":"wg0"}}. Ops: up, down, allow-tunnel (iface, dns: the hooks'
 * post-up / vpn-up), allow-lan (allow), pause (ms), resume, enable. {@code pid} is what the client says
 * its pid is, for the log only.
 */
public record ControlRequest(String op, String iface, List<IpAddress> dns, boolean allow, Duration pause, long pid) {
    /** The longest request line the daemon reads. */
    public static final int MAX_LINE = 4096;
    private static final Set<String> OPS = Set.of("up", "down", "allow-tunnel", "allow-lan", "pause", "resume", "enable");

    public static ControlRequest up(String iface) {
        return new ControlRequest("up", Validate.interfaceName(iface), List.of(), false, null, self());
    }

    public static ControlRequest down(String iface) {
        return new ControlRequest("down", Validate.interfaceName(iface), List.of(), false, null, self());
    }

    public static ControlRequest allowTunnel(String iface, List<IpAddress> dns) {
        return new ControlRequest("allow-tunnel", Validate.interfaceName(iface), List.copyOf(dns), false, null, self());
    }

    public static ControlRequest allowLan(boolean allow) {
        return new ControlRequest("allow-lan", null, List.of(), allow, null, self());
    }

    public static ControlRequest pause(Duration d) {
        return new ControlRequest("pause", null, List.of(), false, d, self());
    }

    public static ControlRequest simple(String op) {
        if (!op.equals("resume") && !op.equals("enable")) throw new IllegalArgumentException("not a simple op: " + op);
        return new ControlRequest(op, null, List.of(), false, null, self());
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
            if (!Set.of("op", "iface", "dns", "allow", "ms", "pid").contains(k)) {
                throw new IllegalArgumentException("unknown field '" + Validate.printable(k) + "'");
            }
        }
        if (!(m.get("op") instanceof String op) || !OPS.contains(op)) {
            throw new IllegalArgumentException("unknown op '" + Validate.printable(String.valueOf(m.get("op")))
                    + "'; expected one of up, down, allow-tunnel, allow-lan, pause, resume, enable");
        }
        long pid = m.get("pid") instanceof Long p && p > 0 ? p : -1;
        switch (op) {
            case "up", "down", "allow-tunnel" -> {
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
                return new ControlRequest(op, iface, List.copyOf(dns), false, null, pid);
            }
            case "allow-lan" -> {
                if (!(m.get("allow") instanceof Boolean b)) throw new IllegalArgumentException("allow-lan needs \"allow\": true or false");
                return new ControlRequest(op, null, List.of(), b, null, pid);
            }
            case "pause" -> {
                if (!(m.get("ms") instanceof Long ms) || ms <= 0 || ms > 24L * 3600 * 1000) {
                    throw new IllegalArgumentException("pause needs \"ms\", more than 0 and at most 24 hours");
                }
                return new ControlRequest(op, null, List.of(), false, Duration.ofMillis(ms), pid);
            }
            default -> {
                return new ControlRequest(op, null, List.of(), false, null, pid);
            }
        }
    }

    /** For the log: e.g. "up wg0", "allow-lan on", "pause 300000 ms". */
    public String describe() {
        return switch (op) {
            case "up", "down" -> op + " " + iface;
            case "allow-tunnel" -> "allow-tunnel " + iface + (dns.isEmpty() ? "" : " with resolvers " + dns);
            case "allow-lan" -> "allow-lan " + (allow ? "on" : "off");
            case "pause" -> "pause " + pause.toMillis() + " ms";
            default -> op;
        };
    }
}
