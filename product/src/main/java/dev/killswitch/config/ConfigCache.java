package dev.killswitch.config;

import dev.killswitch.base.AtomicFiles;
import dev.killswitch.base.Sha256;
import dev.killswitch.base.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The last valid config, keyed by the SHA-256 of the file's bytes: kept as JSON next to the run-time state,
 * and in memory by the instance. Parsing TOML needs Jackson databind, whose first use costs a cold JVM about
 * 80 ms; hooks run on every tunnel change, so they read this instead while the file is unchanged, and the
 * service, which asks on every request, parses nothing until the file's bytes change. An
 * invalid config is never cached, and every cached value is validated again when read (a cache written
 * by an older version that took a value refused now is parsed again, and refused).
 */
public final class ConfigCache {
    private final Path cacheFile;
    /** The config this instance last returned, by source and digest: the service asks on every request. */
    private volatile Known last;

    private record Known(Path source, String digest, Config config) {}

    public ConfigCache(Path cacheFile) {
        this.cacheFile = cacheFile;
    }

    /** Like {@link ConfigLoader#load}, through the cache. */
    public Config load(Path file) throws ConfigException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Config.safeDefault();
        } catch (IOException e) {
            throw new ConfigException(file, 0, null, "cannot read the file: " + e.getMessage());
        }
        String digest = Sha256.hex(bytes);
        Known known = last;
        if (known != null && known.source().equals(file) && known.digest().equals(digest)) return known.config();
        Config config = read(file, digest);
        if (config == null) {
            config = ConfigLoader.parse(file, new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
            write(config, digest);
        }
        last = new Known(file, digest, config);
        return config;
    }

    private Config read(Path file, String digest) {
        try {
            Map<String, Object> root = Json.object(Json.read(Files.readString(cacheFile)), cacheFile.toString());
            if (!file.toAbsolutePath().toString().equals(root.get("source")) || !digest.equals(root.get("sha256"))) return null;
            List<Endpoint> endpoints = new ArrayList<>();
            for (Object o : Json.list(root.get("endpoints"), "endpoints")) {
                Map<String, Object> e = Json.object(o, "endpoint");
                IpAddress address = IpAddress.parse((String) e.get("address"));
                if (AddressSpace.endpointAddressProblem(address) != null) return null;
                endpoints.add(new Endpoint(address, Protocol.parse((String) e.get("protocol")), ((Number) e.get("port")).intValue()));
            }
            List<String> tunnels = Json.strings(root.get("tunnels"), "tunnels");
            for (String t : tunnels) {
                if (Validate.interfacePatternProblem(t) != null) return null;
            }
            boolean allowPublic = Boolean.TRUE.equals(root.get("lan_allow_public"));
            List<Network> lan = new ArrayList<>();
            for (String n : Json.strings(root.get("lan_networks"), "lan_networks")) {
                Network network = Network.parse(n);
                if (AddressSpace.lanNetworkProblem(network, allowPublic) != null) return null;
                lan.add(network);
            }
            if (AddressSpace.lanNetworksProblem(lan) != null) return null;
            List<IpAddress> dns = new ArrayList<>();
            for (String a : Json.strings(root.get("dns"), "dns")) dns.add(IpAddress.parse(a));
            List<Integer> inbound = ports(root.get("inbound_tcp"));
            Map<String, Object> g = Json.object(root.get("gateway"), "gateway");
            List<String> gatewayInterfaces = patterns(g.get("interfaces"));
            List<Network> gatewayNetworks = new ArrayList<>();
            for (String n : Json.strings(g.get("networks"), "gateway networks")) gatewayNetworks.add(Network.parse(n));
            Gateway gateway = gatewayInterfaces.isEmpty() ? Gateway.NONE : new Gateway(gatewayInterfaces, gatewayNetworks,
                    Boolean.TRUE.equals(g.get("masquerade")), ports(g.get("tcp_ports")), ports(g.get("udp_ports")));
            Map<String, Object> v = Json.object(root.get("guests"), "guests");
            List<String> guestInterfaces = patterns(v.get("interfaces"));
            Guests guests = guestInterfaces.isEmpty() ? Guests.NONE
                    : new Guests(guestInterfaces, ports(v.get("tcp_ports")), ports(v.get("udp_ports")));
            for (String a : tunnels) {
                for (String b : gatewayInterfaces) if (Validate.interfacePatternsOverlap(a, b)) return null;
                for (String b : guestInterfaces) if (Validate.interfacePatternsOverlap(a, b)) return null;
            }
            for (String a : gatewayInterfaces) {
                for (String b : guestInterfaces) if (Validate.interfacePatternsOverlap(a, b)) return null;
            }
            // a cache written before [networkmanager] existed lacks it: parse the file
            if (!(root.get("nm_system_profiles") instanceof Boolean systemProfiles)) return null;
            List<String> profiles = Json.strings(root.get("nm_profiles"), "nm_profiles");
            for (String p : profiles) {
                if (NmProfileChoice.nameProblem(p) != null) return null;
            }
            // a cache written before [link_gate] existed lacks it: parse the file
            if (root.get("link_gate_exclude") == null) return null;
            List<String> gateExclude = patterns(root.get("link_gate_exclude"));
            return new Config(file, tunnels, Boolean.TRUE.equals(root.get("tunnel_allow_ethernet")), endpoints,
                    Boolean.TRUE.equals(root.get("lan_allow")), lan, allowPublic, dns,
                    DnsMode.parse((String) root.get("dns_mode")), DnsOverTls.parse((String) root.get("dns_over_tls")), inbound,
                    new NmProfileChoice(systemProfiles, profiles), gateway, guests, gateExclude);
        } catch (IOException | RuntimeException e) {
            return null; // no cache, or one that does not read: parse the file
        }
    }

    /** Interface names and patterns, each checked again; an IllegalArgumentException for any other. */
    private static List<String> patterns(Object list) throws IOException {
        List<String> names = Json.strings(list, "interfaces");
        for (String n : names) {
            if (Validate.interfacePatternProblem(n) != null) throw new IllegalArgumentException("not an interface: " + n);
        }
        return names;
    }

    /** Port numbers, each checked again; an IllegalArgumentException for any other. */
    private static List<Integer> ports(Object list) throws IOException {
        List<Integer> ports = new ArrayList<>();
        for (Object p : Json.list(list, "ports")) {
            int port = ((Number) p).intValue();
            if (port < 1 || port > 65535) throw new IllegalArgumentException("not a port: " + port);
            ports.add(port);
        }
        return ports;
    }

    private void write(Config c, String digest) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("source", c.source().toAbsolutePath().toString());
        root.put("sha256", digest);
        root.put("tunnels", c.tunnelInterfaces());
        root.put("tunnel_allow_ethernet", c.tunnelAllowEthernet());
        List<Object> endpoints = new ArrayList<>();
        for (Endpoint e : c.endpoints()) {
            endpoints.add(Map.of("address", e.address().text(), "protocol", e.protocol().nftName(), "port", (long) e.port()));
        }
        root.put("endpoints", endpoints);
        root.put("lan_allow", c.lanAllow());
        root.put("lan_networks", c.lanNetworks().stream().map(Network::toString).toList());
        root.put("lan_allow_public", c.lanAllowPublic());
        root.put("dns", c.dnsServers().stream().map(IpAddress::text).toList());
        root.put("dns_mode", c.dnsMode().configName());
        root.put("dns_over_tls", c.dnsOverTls().configName());
        root.put("inbound_tcp", longs(c.inboundTcpPorts()));
        root.put("nm_system_profiles", c.networkManager().systemProfiles());
        root.put("nm_profiles", c.networkManager().profiles());
        Gateway g = c.gateway();
        root.put("gateway", Map.of("interfaces", g.interfaces(), "networks", g.networks().stream().map(Network::toString).toList(),
                "masquerade", g.masquerade(), "tcp_ports", longs(g.tcpPorts()), "udp_ports", longs(g.udpPorts())));
        Guests v = c.guests();
        root.put("guests", Map.of("interfaces", v.interfaces(), "tcp_ports", longs(v.tcpPorts()), "udp_ports",
                longs(v.udpPorts())));
        root.put("link_gate_exclude", c.linkGateExclude());
        try {
            AtomicFiles.write(cacheFile, Json.write(root));
        } catch (IOException e) {
            // a cache that cannot be written only costs the next hook the parse
        }
    }

    private static List<Long> longs(List<Integer> ports) {
        return ports.stream().map(Integer::longValue).toList();
    }
}
