package dev.killswitch.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads killswitch.toml. Unknown keys are errors (a typo must not silently weaken the block), and
 * every error carries the file, the line and the dotted key.
 */
public final class ConfigLoader {
    private static final TomlMapper TOML = new TomlMapper();

    /** The keys each section may hold ("" holds the sections); docs/man/killswitch.toml.5.adoc documents each. */
    static final Map<String, Set<String>> KNOWN_KEYS = Map.of(
            "", Set.of("tunnel", "endpoint", "lan", "dns", "inbound", "networkmanager", "gateway", "guests", "link_gate"),
            "tunnel", Set.of("interfaces", "allow_ethernet"),
            "endpoint", Set.of("address", "port", "protocol"),
            "lan", Set.of("allow", "networks", "allow_public"),
            "dns", Set.of("servers", "mode", "over_tls"),
            "inbound", Set.of("tcp_ports"),
            "networkmanager", Set.of("system_profiles", "profiles"),
            "gateway", Set.of("interfaces", "networks", "masquerade", "tcp_ports", "udp_ports"),
            "guests", Set.of("interfaces", "tcp_ports", "udp_ports"),
            "link_gate", Set.of("exclude"));

    private ConfigLoader() {}

    /** A missing file is the safe default; an unreadable or invalid one is an error. */
    public static Config load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Config.safeDefault();
        } catch (IOException e) {
            throw new ConfigException(file, 0, null, "cannot read the file: " + e.getMessage());
        }
        return parse(file, text);
    }

    public static Config parse(Path file, String text) throws ConfigException {
        String[] duplicate = KeyLines.firstDuplicate(text);
        if (duplicate != null) {
            throw new ConfigException(file, Integer.parseInt(duplicate[1]), duplicate[0],
                    "written twice (first on line " + duplicate[2] + "); say it once");
        }
        JsonNode root;
        try {
            root = TOML.readTree(text);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new ConfigException(file, at == null ? 0 : at.getLineNr(), null, "not valid TOML: " + e.getOriginalMessage());
        }
        return new Reader(file, KeyLines.index(text)).read(root);
    }

    /** Turns the tree into a {@link Config}, checking each value where it is read. */
    private static final class Reader {
        private final Path file;
        private final Map<String, Integer> lines;

        Reader(Path file, Map<String, Integer> lines) {
            this.file = file;
            this.lines = lines;
        }

        Config read(JsonNode root) throws ConfigException {
            checkKeys(root, "");
            Config defaults = Config.safeDefault();

            JsonNode tunnel = table(root, "tunnel");
            List<String> interfaces = list(tunnel, "tunnel.interfaces", List.of(), ConfigLoader::interfacePattern);
            boolean allowEthernet = value(tunnel, "tunnel.allow_ethernet", false, ConfigLoader::bool, false);

            List<Endpoint> endpoints = new ArrayList<>();
            JsonNode endpointNode = root.get("endpoint");
            if (endpointNode != null) {
                if (!endpointNode.isArray()) throw error("endpoint", "must be written as [[endpoint]] tables");
                for (int i = 0; i < endpointNode.size(); i++) {
                    String at = "endpoint[" + i + "]";
                    JsonNode e = endpointNode.get(i);
                    if (!e.isObject()) throw error(at, "must be a table with address, port and protocol");
                    checkKeysOf(e, "endpoint", at);
                    IpAddress address = value(e, at + ".address", true, n -> {
                        IpAddress a = IpAddress.parse(text(n));
                        String problem = AddressSpace.endpointAddressProblem(a);
                        if (problem != null) throw new IllegalArgumentException(problem);
                        return a;
                    }, null);
                    int port = value(e, at + ".port", true, ConfigLoader::port, 0);
                    Protocol protocol = value(e, at + ".protocol", false, n -> Protocol.parse(text(n)), Protocol.UDP);
                    endpoints.add(new Endpoint(address, protocol, port));
                }
            }

            JsonNode lan = table(root, "lan");
            boolean lanAllow = value(lan, "lan.allow", false, ConfigLoader::bool, defaults.lanAllow());
            // checked whether or not lan.allow is true: 'allow-lan on' opens these at run time
            boolean allowPublic = value(lan, "lan.allow_public", false, ConfigLoader::bool, false);
            List<Network> networks = list(lan, "lan.networks", defaults.lanNetworks(), n -> {
                Network network = Network.parse(text(n));
                String problem = AddressSpace.lanNetworkProblem(network, allowPublic);
                if (problem != null) throw new IllegalArgumentException(problem);
                return network;
            });
            String together = AddressSpace.lanNetworksProblem(networks);
            if (together != null) throw error("lan.networks", together);
            checkDisjoint("lan.networks", networks);

            JsonNode dns = table(root, "dns");
            List<IpAddress> servers = list(dns, "dns.servers", List.of(), n -> IpAddress.parse(text(n)));
            DnsMode mode = value(dns, "dns.mode", false, n -> DnsMode.parse(text(n)), defaults.dnsMode());
            DnsOverTls overTls = value(dns, "dns.over_tls", false, n -> DnsOverTls.parse(text(n)), defaults.dnsOverTls());

            JsonNode inbound = table(root, "inbound");
            List<Integer> tcpPorts = list(inbound, "inbound.tcp_ports", List.of(), ConfigLoader::port);

            JsonNode nm = table(root, "networkmanager");
            boolean systemProfiles = value(nm, "networkmanager.system_profiles", false, ConfigLoader::bool,
                    NmProfileChoice.DEFAULT.systemProfiles());
            List<String> profiles = list(nm, "networkmanager.profiles", List.of(), n -> {
                String name = text(n);
                String problem = NmProfileChoice.nameProblem(name);
                if (problem != null) throw new IllegalArgumentException(problem);
                return name;
            });

            Gateway gateway = gateway(table(root, "gateway"));
            Guests guests = guests(table(root, "guests"));
            checkNoOverlap(List.of(Map.entry("tunnel.interfaces", interfaces),
                    Map.entry("gateway.interfaces", gateway.interfaces()), Map.entry("guests.interfaces", guests.interfaces())));

            List<String> gateExclude = list(table(root, "link_gate"), "link_gate.exclude", List.of(), ConfigLoader::interfacePattern);

            return new Config(file, interfaces, allowEthernet, endpoints, lanAllow, networks, allowPublic, servers, mode,
                    overTls, tcpPorts, new NmProfileChoice(systemProfiles, profiles), gateway, guests, gateExclude);
        }

        private Gateway gateway(JsonNode t) throws ConfigException {
            if (t == null) return Gateway.NONE;
            value(t, "gateway.interfaces", true, n -> n, null);
            List<String> interfaces = list(t, "gateway.interfaces", List.of(), ConfigLoader::interfacePattern);
            if (interfaces.isEmpty()) throw error("gateway.interfaces", "names no interface: list the LAN side, e.g. [\"eth1\"]");
            List<Network> networks = list(t, "gateway.networks", List.of(), n -> Network.parse(text(n)));
            checkDisjoint("gateway.networks", networks);
            boolean masquerade = value(t, "gateway.masquerade", false, ConfigLoader::bool, false);
            List<Integer> tcp = list(t, "gateway.tcp_ports", List.of(), ConfigLoader::port);
            List<Integer> udp = list(t, "gateway.udp_ports", List.of(), ConfigLoader::port);
            return new Gateway(interfaces, networks, masquerade, tcp, udp);
        }

        private Guests guests(JsonNode t) throws ConfigException {
            if (t == null) return Guests.NONE;
            value(t, "guests.interfaces", true, n -> n, null);
            List<String> interfaces = list(t, "guests.interfaces", List.of(), ConfigLoader::interfacePattern);
            if (interfaces.isEmpty()) throw error("guests.interfaces", "names no interface: list the bridges, e.g. [\"virbr0\", \"docker0\"]");
            List<Integer> tcp = list(t, "guests.tcp_ports", List.of(), ConfigLoader::port);
            List<Integer> udp = list(t, "guests.udp_ports", List.of(), ConfigLoader::port);
            return new Guests(interfaces, tcp, udp);
        }

        /** nft refuses overlapping elements of an interval set: say so here, with the line. */
        private void checkDisjoint(String key, List<Network> networks) throws ConfigException {
            for (int i = 0; i < networks.size(); i++) {
                for (int j = 0; j < i; j++) {
                    Network a = networks.get(j), b = networks.get(i);
                    if (a.contains(b) || b.contains(a)) {
                        throw error(key + "[" + i + "]", "'" + b + "' overlaps '" + a + "' (" + key + "[" + j
                                + "]); keep the larger one");
                    }
                }
            }
        }

        /**
         * An interface is a tunnel, the LAN side of the gateway or a guests' bridge, never two of them: a tunnel
         * that is also a LAN side would forward the LAN's traffic to itself, and a guests' bridge that is a
         * tunnel would let everything out. The error names the later list's entry.
         */
        private void checkNoOverlap(List<Map.Entry<String, List<String>>> groups) throws ConfigException {
            for (int i = 0; i < groups.size(); i++) {
                for (int j = i + 1; j < groups.size(); j++) {
                    List<String> a = groups.get(i).getValue(), b = groups.get(j).getValue();
                    for (int x = 0; x < a.size(); x++) {
                        for (int y = 0; y < b.size(); y++) {
                            if (Validate.interfacePatternsOverlap(a.get(x), b.get(y))) {
                                throw error(groups.get(j).getKey() + "[" + y + "]", "'" + b.get(y) + "' also matches '"
                                        + a.get(x) + "' (" + groups.get(i).getKey() + "[" + x + "]): an interface is one"
                                        + " of tunnel, gateway LAN side or guests' bridge, never two");
                            }
                        }
                    }
                }
            }
        }

        private JsonNode table(JsonNode root, String name) throws ConfigException {
            JsonNode t = root.get(name);
            if (t == null) return null;
            if (!t.isObject()) throw error(name, "must be a table: [" + name + "]");
            checkKeysOf(t, name, name);
            return t;
        }

        private void checkKeys(JsonNode node, String section) throws ConfigException {
            checkKeysOf(node, section, section);
        }

        private void checkKeysOf(JsonNode node, String section, String at) throws ConfigException {
            Set<String> known = KNOWN_KEYS.get(section);
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (!known.contains(name)) {
                    String key = at.isEmpty() ? name : at + "." + name;
                    throw error(key, "unknown key; known keys here: " + String.join(", ", new java.util.TreeSet<>(known)));
                }
            }
        }

        private <T> T value(JsonNode table, String key, boolean required, Function<JsonNode, T> convert, T fallback)
                throws ConfigException {
            String name = key.substring(key.lastIndexOf('.') + 1);
            JsonNode n = table == null ? null : table.get(name);
            if (n == null) {
                if (required) throw error(key.substring(0, Math.max(0, key.lastIndexOf('.'))), "missing key '" + name + "'");
                return fallback;
            }
            try {
                return convert.apply(n);
            } catch (IllegalArgumentException e) {
                throw error(key, e.getMessage());
            }
        }

        private <T> List<T> list(JsonNode table, String key, List<T> fallback, Function<JsonNode, T> convert)
                throws ConfigException {
            String name = key.substring(key.lastIndexOf('.') + 1);
            JsonNode n = table == null ? null : table.get(name);
            if (n == null) return fallback;
            if (!n.isArray()) throw error(key, "must be a list, e.g. " + name + " = [...]");
            List<T> out = new ArrayList<>();
            for (int i = 0; i < n.size(); i++) {
                String at = key + "[" + i + "]";
                try {
                    T v = convert.apply(n.get(i));
                    if (out.contains(v)) throw error(at, "duplicate value " + v);
                    out.add(v);
                } catch (IllegalArgumentException e) {
                    throw error(at, e.getMessage());
                }
            }
            return out;
        }

        private ConfigException error(String key, String problem) {
            return new ConfigException(file, KeyLines.lineOf(lines, key), key, problem);
        }
    }

    /**
     * A problem with a valid config found later, outside the loader (at {@code enable}: a tunnel pattern that
     * matches a link of this machine), named like the loader's own: the file, the line of {@code key} as the
     * file reads now (0 when it cannot be read), the key.
     */
    public static ConfigException problemAt(Path file, String key, String problem) {
        int line = 0;
        try {
            line = KeyLines.lineOf(KeyLines.index(Files.readString(file, StandardCharsets.UTF_8)), key);
        } catch (IOException | RuntimeException e) {
            // the message still names the file and the key
        }
        return new ConfigException(file, line, key, problem);
    }

    private static String interfacePattern(JsonNode n) {
        String name = text(n);
        String problem = Validate.interfacePatternProblem(name);
        if (problem != null) throw new IllegalArgumentException(problem);
        return name;
    }

    private static boolean bool(JsonNode n) {
        if (!n.isBoolean()) throw new IllegalArgumentException("must be true or false");
        return n.booleanValue();
    }

    private static String text(JsonNode n) {
        if (!n.isTextual()) throw new IllegalArgumentException("must be a string in double quotes, not " + n);
        return n.textValue();
    }

    private static int port(JsonNode n) {
        if (!n.isIntegralNumber() || n.asLong() < 1 || n.asLong() > 65535)
            throw new IllegalArgumentException("must be a port number from 1 to 65535, not " + n);
        return n.intValue();
    }
}
