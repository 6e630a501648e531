package dev.killswitch.wg;

import dev.killswitch.config.ConfigException;
import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import dev.killswitch.config.TrustedFile;
import dev.killswitch.config.Validate;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The parts of a wg-quick config that the kill switch needs: the peers' endpoints and the DNS
 * servers. Pure: text in, values out; errors name the file, the line and the key.
 */
public record WgQuickConfig(List<Endpoint> endpoints, List<IpAddress> dns) {

    public WgQuickConfig {
        endpoints = List.copyOf(endpoints);
        dns = List.copyOf(dns);
    }

    /**
     * The wg-quick config at {@code path}, read only when root alone could have written it
     * ({@link TrustedFile#read}: IllegalArgumentException naming what is wrong otherwise).
     */
    public static WgQuickConfig readTrusted(String path) throws ConfigException, IOException {
        return parse(Path.of(path), TrustedFile.read(path));
    }

    /**
     * The resolvers a tunnel brings: {@code given} when it names any, else the {@code DNS =} line of the
     * config at {@code configPath} (read as {@link #readTrusted}), else none ({@code configPath} null).
     */
    public static List<IpAddress> resolvers(List<IpAddress> given, String configPath) throws ConfigException, IOException {
        if (!given.isEmpty() || configPath == null) return given;
        return readTrusted(configPath).dns();
    }

    public static WgQuickConfig parse(Path file, String text) throws ConfigException {
        List<Endpoint> endpoints = new ArrayList<>();
        List<IpAddress> dns = new ArrayList<>();
        String section = "";
        int peer = -1;
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = stripComment(lines[i]).strip();
            if (line.isEmpty()) continue;
            if (line.startsWith("[") && line.endsWith("]")) {
                section = line.substring(1, line.length() - 1).strip().toLowerCase(Locale.ROOT);
                if (section.equals("peer")) peer++;
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) continue; // wg-quick ignores such lines too
            // wg-quick matches keys without regard to case
            String key = line.substring(0, eq).strip().toLowerCase(Locale.ROOT);
            String value = line.substring(eq + 1).strip();
            if (section.equals("interface") && key.equals("dns")) {
                for (String item : value.split(",")) {
                    String v = item.strip();
                    // wg-quick treats entries that are not addresses as search domains
                    if (Validate.isIpv4(v) || Validate.isIpv6(v)) dns.add(IpAddress.parse(v));
                }
            } else if (section.equals("peer") && key.equals("endpoint")) {
                try {
                    endpoints.add(endpoint(value));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(file, i + 1, "Peer[" + peer + "].Endpoint", e.getMessage());
                }
            }
        }
        return new WgQuickConfig(endpoints, dns);
    }

    private static String stripComment(String line) {
        int hash = line.indexOf('#');
        return hash < 0 ? line : line.substring(0, hash);
    }

    /** "203.0.113.10:51820" or "[2001:db8::10]:51820". A host name is refused (see the message). */
    static Endpoint endpoint(String value) {
        int colon = value.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException("'" + Validate.printable(value) + "' lacks a :port");
        String host = value.substring(0, colon);
        String port = value.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535)
            throw new IllegalArgumentException("'" + Validate.printable(value) + "' has no valid port");
        if (!Validate.isIpv4(host) && !Validate.isIpv6(host)) {
            throw new IllegalArgumentException("'" + Validate.printable(value) + "' names a host, not an address. The kill "
                    + "switch lets a tunnel's endpoint out by address before the tunnel is up, and will not open DNS "
                    + "outside the tunnel to look a name up: write the server's IP address in Endpoint");
        }
        return new Endpoint(IpAddress.parse(host), Protocol.UDP, Integer.parseInt(port));
    }
}
