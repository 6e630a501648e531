package dev.killswitch.lab;

import java.util.ArrayList;
import java.util.List;

/**
 * What the lab's wg-quick client config contains besides the keys: see {@link WireGuardLab#writeClientConfig}.
 * Immutable; the {@code with...} methods return changed copies.
 *
 * @param endpoint            the server as {@code host:port} ({@code [v6]:port} for IPv6)
 * @param addresses           the client's tunnel addresses ({@code Address =})
 * @param allowedIps          the peer's {@code AllowedIPs}, i.e. what wg-quick routes into the tunnel
 * @param dns                 {@code DNS =} servers; empty for none (then wg-quick does not call resolvconf)
 * @param persistentKeepalive seconds; 0 for none
 * @param interfaceLines      extra {@code [Interface]} lines, e.g. {@code PostUp = ...}, {@code Table = off}
 */
public record WgClientConfig(String endpoint, List<String> addresses, List<String> allowedIps, List<String> dns,
        int persistentKeepalive, List<String> interfaceLines) {

    public WgClientConfig {
        addresses = List.copyOf(addresses);
        allowedIps = List.copyOf(allowedIps);
        dns = List.copyOf(dns);
        interfaceLines = List.copyOf(interfaceLines);
        requireSingleLine(endpoint);
        addresses.forEach(WgClientConfig::requireSingleLine);
        allowedIps.forEach(WgClientConfig::requireSingleLine);
        dns.forEach(WgClientConfig::requireSingleLine);
        interfaceLines.forEach(WgClientConfig::requireSingleLine);
        if (persistentKeepalive < 0) {
            throw new IllegalArgumentException("negative PersistentKeepalive: " + persistentKeepalive);
        }
    }

    /** Everything into the tunnel: {@code AllowedIPs = 0.0.0.0/0, ::/0}, endpoint 203.0.113.5:51820. */
    public static WgClientConfig fullTunnel() {
        return new WgClientConfig(endpointOf(Lab.PUBLIC_V4), defaultAddresses(), List.of("0.0.0.0/0", "::/0"),
                List.of(), 0, List.of());
    }

    /**
     * Only the tunnel network and the split destination ({@link WireGuardLab#SPLIT_V4}, {@link
     * WireGuardLab#SPLIT_V6}) into the tunnel; 203.0.113.5 (the endpoint and the usual test destination)
     * stays on the physical link.
     */
    public static WgClientConfig splitTunnel() {
        return new WgClientConfig(endpointOf(Lab.PUBLIC_V4), defaultAddresses(),
                List.of(WireGuardLab.TUNNEL_NET_V4, WireGuardLab.TUNNEL_NET_V6,
                        WireGuardLab.SPLIT_V4 + "/32", WireGuardLab.SPLIT_V6 + "/128"),
                List.of(), 0, List.of());
    }

    /** {@code host:51820}, bracketing an IPv6 host. */
    public static String endpointOf(String host) {
        return Probes.hostPort(host, WireGuardLab.PORT);
    }

    public WgClientConfig withEndpoint(String hostPort) {
        return new WgClientConfig(hostPort, addresses, allowedIps, dns, persistentKeepalive, interfaceLines);
    }

    public WgClientConfig withAllowedIps(String... prefixes) {
        return new WgClientConfig(endpoint, addresses, List.of(prefixes), dns, persistentKeepalive, interfaceLines);
    }

    public WgClientConfig withDns(String... servers) {
        return new WgClientConfig(endpoint, addresses, allowedIps, List.of(servers), persistentKeepalive,
                interfaceLines);
    }

    public WgClientConfig withPersistentKeepalive(int seconds) {
        return new WgClientConfig(endpoint, addresses, allowedIps, dns, seconds, interfaceLines);
    }

    /** Appends {@code [Interface]} lines (hooks such as {@code PostUp = ...}, or {@code MTU}, {@code Table}). */
    public WgClientConfig withInterfaceLines(String... lines) {
        List<String> all = new ArrayList<>(interfaceLines);
        all.addAll(List.of(lines));
        return new WgClientConfig(endpoint, addresses, allowedIps, dns, persistentKeepalive, all);
    }

    /** The wg-quick config file's text. */
    public String render(String clientPrivateKey, String serverPublicKey) {
        StringBuilder s = new StringBuilder("[Interface]\n")
                .append("PrivateKey = ").append(clientPrivateKey).append('\n')
                .append("Address = ").append(String.join(", ", addresses)).append('\n');
        if (!dns.isEmpty()) {
            s.append("DNS = ").append(String.join(", ", dns)).append('\n');
        }
        interfaceLines.forEach(line -> s.append(line).append('\n'));
        s.append("\n[Peer]\n")
                .append("PublicKey = ").append(serverPublicKey).append('\n')
                .append("Endpoint = ").append(endpoint).append('\n')
                .append("AllowedIPs = ").append(String.join(", ", allowedIps)).append('\n');
        if (persistentKeepalive > 0) {
            s.append("PersistentKeepalive = ").append(persistentKeepalive).append('\n');
        }
        return s.toString();
    }

    private static List<String> defaultAddresses() {
        return List.of(WireGuardLab.CLIENT_TUN_V4 + "/32", WireGuardLab.CLIENT_TUN_V6 + "/128");
    }

    private static void requireSingleLine(String s) {
        if (s == null || s.contains("\n") || s.contains("\r")) {
            throw new IllegalArgumentException("config values must be single lines: " + s);
        }
    }
}
