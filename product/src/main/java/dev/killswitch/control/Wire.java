package dev.killswitch.control;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import dev.killswitch.config.Validate;
import dev.killswitch.base.Json;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one codec of the control socket: a {@link Request} to and from its JSON line, a {@link Reply} to and from
 * its. A request's line is {@code {"op":OP, FIELD:VALUE..., "pid":PID}}: the op is the record's name ({@link
 * Request#op}), each field one of its components by name, in their order, an absent (null) one left out. Values:
 * a string; true or false; a number; a list of IP literals; an endpoint {@code {"address","port","protocol"}}.
 * {@code pid} is what the client says its pid is, for the log only. The hook scripts (hooks/killswitch-client.sh)
 * write their lines by hand; RequestWireCorpusTest holds the two together.
 */
public final class Wire {
    /** The longest request line the service reads. */
    public static final int MAX_LINE = 8192;

    private Wire() {}

    /** A request as it came off the socket: what was asked, and the pid the client states (-1: none). */
    public record Received(Request request, long pid) {}

    /** {@code AllowTunnel} to {@code allow-tunnel}. */
    static String opOf(Class<?> verb) {
        String name = verb.getSimpleName();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isUpperCase(c) && i > 0) b.append('-');
            b.append(Character.toLowerCase(c));
        }
        return b.toString();
    }

    /** The request as one JSON line (ending in a newline), stating {@code pid}. */
    public static String line(Request r, long pid) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", r.op());
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            Object v = get(c, r);
            if (v instanceof Endpoint e) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("address", e.address().text());
                o.put("port", (long) e.port());
                o.put("protocol", e.protocol().nftName());
                v = o;
            } else if (v instanceof List<?> l) {
                v = l.stream().map(a -> ((IpAddress) a).text()).toList();
            }
            if (v != null) m.put(c.getName(), v);
        }
        m.put("pid", pid);
        return Json.writeLine(m);
    }

    /** This process's own pid, as a client states it. */
    public static long self() {
        return ProcessHandle.current().pid();
    }

    private static Object get(RecordComponent c, Object record) {
        try {
            return c.getAccessor().invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read " + c, e);
        }
    }

    /** The verbs by op, in the order {@link Request} permits them (the service's side: a client loads none of it). */
    private static final class Verbs {
        static final Map<String, Class<?>> BY_OP = new LinkedHashMap<>();
        /** Every field some verb takes. */
        static final Set<String> FIELDS = new LinkedHashSet<>(List.of("op", "pid"));

        static {
            for (Class<?> c : Request.class.getPermittedSubclasses()) {
                BY_OP.put(opOf(c), c);
                for (RecordComponent rc : c.getRecordComponents()) FIELDS.add(rc.getName());
            }
        }

        /** The verb's record from its components' values; what its constructor refuses is thrown as it is. */
        static Request make(Class<?> verb, Class<?>[] types, Object[] values) {
            try {
                return (Request) verb.getDeclaredConstructor(types).newInstance(values);
            } catch (InvocationTargetException e) {
                if (e.getCause() instanceof IllegalArgumentException refused) throw refused;
                throw new IllegalStateException("cannot make " + opOf(verb), e.getCause());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot make " + opOf(verb), e);
            }
        }
    }

    /**
     * Parses and validates a line from the socket. Anything malformed, unknown or hostile (an unknown op or
     * field, a field the op does not take, a value of the wrong type, and whatever the verb's record refuses: an
     * interface name that is not 1-15 of A-Z a-z 0-9 _ . -, a resolver that is not an IP literal, a pause out of
     * range, a path that fails {@link Validate#pathProblem}) is an IllegalArgumentException whose message can go
     * back to the client.
     */
    public static Received request(String line) {
        if (line == null || line.isBlank()) throw new IllegalArgumentException("empty request");
        if (line.length() > MAX_LINE) throw new IllegalArgumentException("request longer than " + MAX_LINE + " characters");
        Map<String, Object> m;
        try {
            m = Json.object(Json.read(line), "the request");
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not a JSON object: " + Validate.printable(String.valueOf(e.getMessage())));
        }
        for (String k : m.keySet()) {
            if (!Verbs.FIELDS.contains(k)) throw new IllegalArgumentException("unknown field '" + Validate.printable(k) + "'");
        }
        Class<?> verb = m.get("op") instanceof String op ? Verbs.BY_OP.get(op) : null;
        if (verb == null) {
            throw new IllegalArgumentException("unknown op '" + Validate.printable(String.valueOf(m.get("op")))
                    + "'; expected one of " + String.join(", ", Verbs.BY_OP.keySet()));
        }
        String op = (String) m.get("op");
        RecordComponent[] components = verb.getRecordComponents();
        Set<String> takes = new LinkedHashSet<>(List.of("op", "pid"));
        Class<?>[] types = new Class<?>[components.length];
        Object[] values = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            takes.add(c.getName());
            types[i] = c.getType();
            values[i] = value(op, c, m.get(c.getName()));
        }
        for (String k : m.keySet()) {
            if (!takes.contains(k)) throw new IllegalArgumentException(op + " takes no \"" + k + "\"");
        }
        long pid = m.get("pid") instanceof Long p && p > 0 ? p : -1;
        return new Received(Verbs.make(verb, types, values), pid);
    }

    /** The JSON value {@code v} (null: absent) as component {@code c}'s type, checked. */
    private static Object value(String op, RecordComponent c, Object v) {
        String name = c.getName();
        Class<?> type = c.getType();
        if (type == boolean.class) {
            if (v instanceof Boolean b) return b;
            throw new IllegalArgumentException(op + " needs \"" + name + "\": true or false");
        }
        if (type == long.class) {
            if (v instanceof Long l) return l;
            throw new IllegalArgumentException(op + " needs \"" + name + "\", a number");
        }
        if (v == null) return null;
        if (type == String.class) {
            if (v instanceof String s) return s;
            throw new IllegalArgumentException("\"" + name + "\" must be a string");
        }
        if (type == Endpoint.class) return endpoint(name, v);
        if (type == List.class && elementType(c) == IpAddress.class) {
            if (!(v instanceof List<?> l)) throw new IllegalArgumentException("\"" + name + "\" must be a list of IP addresses");
            List<IpAddress> out = new ArrayList<>();
            for (Object o : l) {
                if (!(o instanceof String s)) throw new IllegalArgumentException("\"" + name + "\" must be a list of IP addresses");
                out.add(IpAddress.parse(s));
            }
            return out;
        }
        throw new IllegalStateException(op + "." + name + ": a component of a type the wire does not know: " + c.getGenericType());
    }

    private static Type elementType(RecordComponent c) {
        return c.getGenericType() instanceof ParameterizedType p ? p.getActualTypeArguments()[0] : null;
    }

    /** {"address": IP literal, "port": 1-65535, "protocol": "udp" or "tcp"}, checked. */
    private static Endpoint endpoint(String name, Object o) {
        if (!(o instanceof Map<?, ?> e) || !(e.get("address") instanceof String a) || !(e.get("port") instanceof Long p)
                || !(e.get("protocol") instanceof String proto) || e.size() != 3) {
            throw new IllegalArgumentException("\"" + name + "\" must be {\"address\": an IP address, \"port\": a number, "
                    + "\"protocol\": \"udp\" or \"tcp\"}");
        }
        if (p < 1 || p > 65535) throw new IllegalArgumentException("\"" + name + "\": port " + p + " is outside 1 to 65535");
        return new Endpoint(IpAddress.parse(a), Protocol.parse(proto), p.intValue());
    }

    /**
     * The reply as one JSON line (ending in a newline): {@code {"ok":true,"installed_baseline":false}} and, when
     * they say something, {@code "dns_problem"}, {@code "warnings"}, {@code "paused_until"} (ISO-8601, UTC) and
     * {@code "was_enabled"}; or {@code {"ok":false,"error":"...","exit":2}}. Which host acted is not on the wire:
     * a reply read from the socket is the service's.
     */
    public static String line(Reply r) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", r.ok());
        if (!r.ok()) {
            m.put("error", r.error());
            m.put("exit", (long) r.exit());
            return Json.writeLine(m);
        }
        m.put("installed_baseline", r.installedBaseline());
        if (r.dnsProblem() != null) m.put("dns_problem", r.dnsProblem());
        if (!r.warnings().isEmpty()) m.put("warnings", r.warnings());
        if (r.pausedUntil() != null) m.put("paused_until", r.pausedUntil().toString());
        if (r.wasEnabled() != null) m.put("was_enabled", r.wasEnabled());
        return Json.writeLine(m);
    }

    /**
     * The service's reply line, by field (other fields are ignored: a newer service may say more). An IOException
     * when it is no JSON object or has no "ok": true or false. A refusal without "exit" counts as 3 (the service
     * refused), one with an exit other than 2 or 3 too.
     */
    public static Reply reply(String line) throws IOException {
        Map<String, Object> m = Json.object(Json.read(line), "the service's reply");
        if (!(m.get("ok") instanceof Boolean ok)) throw new IOException("the service's reply has no \"ok\": " + Validate.printable(line));
        if (!ok) {
            int exit = m.get("exit") instanceof Long l && l == Reply.BAD_INPUT ? Reply.BAD_INPUT : Reply.FAILED;
            return Reply.failure(Reply.Host.SERVICE, m.get("error") instanceof String e ? e : "no reason given", exit);
        }
        Instant pausedUntil;
        try {
            pausedUntil = m.get("paused_until") instanceof String s ? Instant.parse(s) : null;
        } catch (RuntimeException e) {   // DateTimeParseException: not named, to load no class for it on the hook's path
            throw new IOException("the service's reply has a \"paused_until\" that is no time: " + Validate.printable(line));
        }
        return new Reply(true, Reply.OK, null, Reply.Host.SERVICE, Boolean.TRUE.equals(m.get("installed_baseline")),
                m.get("dns_problem") instanceof String d ? d : null,
                m.containsKey("warnings") ? Json.strings(m.get("warnings"), "the reply's warnings") : List.of(),
                pausedUntil, m.get("was_enabled") instanceof Boolean w ? w : null);
    }
}
