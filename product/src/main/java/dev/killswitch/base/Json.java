package dev.killswitch.base;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Small JSON documents as plain maps, lists, strings, longs and booleans, read and written with
 * jackson-core's streaming API only. The hook path uses it for the state and the config cache:
 * building a databind ObjectMapper costs about 80 ms of a cold JVM's start, the streaming parser 20.
 */
public final class Json {
    private static final JsonFactory FACTORY = new JsonFactory();

    private Json() {}

    public static Object read(String text) throws IOException {
        try (JsonParser p = FACTORY.createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) throw new IOException("empty JSON document");
            return value(p, t);
        }
    }

    private static Object value(JsonParser p, JsonToken t) throws IOException {
        switch (t) {
            case START_OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    m.put(name, value(p, p.nextToken()));
                }
                return m;
            }
            case START_ARRAY -> {
                List<Object> l = new ArrayList<>();
                JsonToken next;
                while ((next = p.nextToken()) != JsonToken.END_ARRAY) l.add(value(p, next));
                return l;
            }
            case VALUE_STRING -> {
                return p.getText();
            }
            case VALUE_NUMBER_INT -> {
                return p.getLongValue();
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return t == JsonToken.VALUE_TRUE;
            }
            case VALUE_NULL -> {
                return null;
            }
            default -> throw new IOException("unexpected JSON token " + t);
        }
    }

    public static String write(Object value) throws IOException {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.useDefaultPrettyPrinter();
            write(g, value);
        }
        return out + "\n";
    }

    /** One line, no pretty printing, ending in a newline: the control socket's framing. */
    public static String writeLine(Object value) throws IOException {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            write(g, value);
        }
        return out + "\n";
    }

    private static void write(JsonGenerator g, Object v) throws IOException {
        if (v == null) g.writeNull();
        else if (v instanceof Map<?, ?> m) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                g.writeFieldName(String.valueOf(e.getKey()));
                write(g, e.getValue());
            }
            g.writeEndObject();
        } else if (v instanceof List<?> l) {
            g.writeStartArray();
            for (Object o : l) write(g, o);
            g.writeEndArray();
        } else if (v instanceof Boolean b) g.writeBoolean(b);
        else if (v instanceof Number n) g.writeNumber(n.longValue());
        else g.writeString(String.valueOf(v));
    }

    // Typed access for readers of documents this program wrote; a wrong shape is an IOException.

    public static Map<String, Object> object(Object v, String what) throws IOException {
        if (v == null) return Map.of();
        if (!(v instanceof Map<?, ?> m)) throw new IOException(what + " is not a JSON object");
        @SuppressWarnings("unchecked")
        Map<String, Object> typed = (Map<String, Object>) m;
        return typed;
    }

    public static List<Object> list(Object v, String what) throws IOException {
        if (v == null) return List.of();
        if (!(v instanceof List<?> l)) throw new IOException(what + " is not a JSON array");
        return new ArrayList<>(l);
    }

    public static List<String> strings(Object v, String what) throws IOException {
        List<String> out = new ArrayList<>();
        for (Object o : list(v, what)) {
            if (!(o instanceof String s)) throw new IOException(what + " holds a value that is not a string");
            out.add(s);
        }
        return out;
    }
}
