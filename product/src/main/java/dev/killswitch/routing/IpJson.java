package dev.killswitch.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Network;
import dev.killswitch.config.Validate;
import dev.killswitch.policy.Addresses;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads iproute2's JSON ({@code ip -j}). Pure: text in, records out. Names and addresses are kept only when
 * they are what they claim to be; anything else is shown through {@link Validate#printable}.
 */
public final class IpJson {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Selectors that narrow a rule to some packets only; a rule with any of them is not for ordinary traffic. */
    private static final Set<String> NARROWING = Set.of("dst", "iif", "oif", "uidrange", "ipproto", "sport", "dport",
            "tos", "dsfield", "l3mdev", "tun_id");

    private IpJson() {}

    /** {@code ip -j -4 route show table all} or {@code -6}. Multipath routes give one route per next hop. */
    public static List<Route> routes(String json, boolean v6) throws IOException {
        List<Route> routes = new ArrayList<>();
        for (JsonNode r : array(json)) {
            Network dst = destination(r.path("dst").asText(""), v6);
            if (dst == null) continue;
            String table = text(r, "table", "main");
            String type = text(r, "type", "unicast");
            String protocol = text(r, "protocol", "boot");
            long metric = r.path("metric").asLong(0);
            if (r.has("nexthops") && r.get("nexthops").isArray()) {
                for (JsonNode hop : r.get("nexthops")) {
                    routes.add(new Route(table, type, dst, dev(hop), gateway(hop), protocol, metric));
                }
            } else {
                routes.add(new Route(table, type, dst, dev(r), gateway(r), protocol, metric));
            }
        }
        return routes;
    }

    /** {@code ip -j -4 rule} or {@code -6}, in priority order. */
    public static List<RoutingRule> rules(String json) throws IOException {
        List<RoutingRule> rules = new ArrayList<>();
        for (JsonNode r : array(json)) {
            boolean ordinary = r.path("src").asText("all").equals("all") && !r.has("srclen");
            for (String key : NARROWING) if (r.has(key)) ordinary = false;
            // "not fwmark X" holds for a packet without a mark; "fwmark X" does not
            if (r.has("fwmark") && !r.has("not")) ordinary = false;
            if (r.has("not") && !r.has("fwmark")) ordinary = false;
            String table = r.has("table") ? Validate.printable(r.get("table").asText()) : null;
            rules.add(new RoutingRule(r.path("priority").asInt(0), table, ordinary, r.path("suppress_prefixlen").asInt(-1)));
        }
        rules.sort(java.util.Comparator.comparingInt(RoutingRule::priority));
        return rules;
    }

    /** {@code ip -d -j link show}. */
    public static List<Link> links(String json) throws IOException {
        List<Link> links = new ArrayList<>();
        for (JsonNode l : array(json)) {
            String name = Validate.printable(l.path("ifname").asText(""));
            if (name.isEmpty()) continue;
            boolean up = false;
            for (JsonNode f : l.path("flags")) if (f.asText().equals("UP")) up = true;
            JsonNode info = l.path("linkinfo");
            links.add(new Link(name, Validate.printable(info.path("info_kind").asText("")),
                    Validate.printable(info.path("info_data").path("type").asText("")),
                    Validate.printable(l.path("link_type").asText("")), up, Validate.printable(l.path("master").asText("")),
                    Validate.printable(l.path("link").asText(""))));
        }
        return links;
    }

    /** {@code ip -j route get ADDRESS}: the interface the route chooses, or null when none. */
    public static String routeDevice(String json) throws IOException {
        for (JsonNode r : array(json)) {
            String dev = r.path("dev").asText("");
            if (!dev.isEmpty()) return Validate.printable(dev);
        }
        return null;
    }

    private static Network destination(String dst, boolean v6) {
        if (dst.equals("default")) return Addresses.everything(v6);
        try {
            Network n = Network.parse(dst);
            return n.v6() == v6 ? n : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String dev(JsonNode r) {
        String dev = r.path("dev").asText("");
        return dev.isEmpty() ? null : Validate.printable(dev);
    }

    private static String gateway(JsonNode r) {
        String gw = r.path("gateway").asText("");
        if (gw.isEmpty()) return null;
        try {
            return IpAddress.parse(gw).text();
        } catch (IllegalArgumentException e) {
            return Validate.printable(gw);
        }
    }

    private static String text(JsonNode r, String key, String otherwise) {
        String v = r.path(key).asText("");
        return v.isEmpty() ? otherwise : Validate.printable(v);
    }

    private static JsonNode array(String json) throws IOException {
        if (json == null || json.isBlank()) return JSON.createArrayNode();
        JsonNode node = JSON.readTree(json);
        if (!node.isArray()) throw new IOException("ip printed JSON that is not a list");
        return node;
    }
}
