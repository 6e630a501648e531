package dev.killswitch.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The validated contents of killswitch.toml. Every field has already passed {@link Validate}.
 *
 * @param source the file it came from, or null for the built-in safe default
 * @param tunnelAllowEthernet {@code tunnel.allow_ethernet}: {@code enable} takes tunnel patterns that match
 *                            Ethernet-type links (a veth to a VPN's namespace); see {@link TunnelLinks}
 * @param lanAllowPublic {@code lan.allow_public}: the LAN networks may cover public addresses (never all of
 *                       them); see {@link AddressSpace}
 * @param networkManager the {@code [networkmanager]} table: whose saved VPN profiles open a hole for their servers
 * @param gateway {@code [gateway]}: the LAN this machine routes, or {@link Gateway#NONE}
 * @param guests {@code [guests]}: the bridges of local VMs and containers, or {@link Guests#NONE}
 */
public record Config(
        Path source,
        List<String> tunnelInterfaces,
        boolean tunnelAllowEthernet,
        List<Endpoint> endpoints,
        boolean lanAllow,
        List<Network> lanNetworks,
        boolean lanAllowPublic,
        List<IpAddress> dnsServers,
        DnsMode dnsMode,
        DnsOverTls dnsOverTls,
        List<Integer> inboundTcpPorts,
        NmProfileChoice networkManager,
        Gateway gateway,
        Guests guests,
        List<String> linkGateExclude) {

    public static final List<Network> DEFAULT_LAN_NETWORKS = List.of(
            Network.parse("10.0.0.0/8"), Network.parse("172.16.0.0/12"), Network.parse("192.168.0.0/16"),
            Network.parse("169.254.0.0/16"), Network.parse("fe80::/10"), Network.parse("fc00::/7"));

    public Config {
        tunnelInterfaces = List.copyOf(tunnelInterfaces);
        endpoints = List.copyOf(endpoints);
        lanNetworks = List.copyOf(lanNetworks);
        dnsServers = List.copyOf(dnsServers);
        java.util.Objects.requireNonNull(dnsMode, "dnsMode");
        java.util.Objects.requireNonNull(dnsOverTls, "dnsOverTls");
        inboundTcpPorts = List.copyOf(inboundTcpPorts);
        java.util.Objects.requireNonNull(networkManager, "networkManager");
        java.util.Objects.requireNonNull(gateway, "gateway");
        java.util.Objects.requireNonNull(guests, "guests");
        linkGateExclude = List.copyOf(linkGateExclude);
    }

    /** Without {@code link_gate.exclude}: every link the gate knows is gated. */
    public Config(Path source, List<String> tunnelInterfaces, boolean tunnelAllowEthernet, List<Endpoint> endpoints,
            boolean lanAllow, List<Network> lanNetworks, boolean lanAllowPublic, List<IpAddress> dnsServers,
            DnsMode dnsMode, DnsOverTls dnsOverTls, List<Integer> inboundTcpPorts, NmProfileChoice networkManager,
            Gateway gateway, Guests guests) {
        this(source, tunnelInterfaces, tunnelAllowEthernet, endpoints, lanAllow, lanNetworks, lanAllowPublic, dnsServers,
                dnsMode, dnsOverTls, inboundTcpPorts, networkManager, gateway, guests, List.of());
    }

    /** The interfaces behind this machine: {@code gateway.interfaces} then {@code guests.interfaces}. */
    public List<String> downstreamInterfaces() {
        List<String> all = new java.util.ArrayList<>(gateway.interfaces());
        all.addAll(guests.interfaces());
        return all;
    }

    /** Without the {@code [networkmanager]}, {@code [gateway]} and {@code [guests]} tables: their defaults. */
    public Config(Path source, List<String> tunnelInterfaces, boolean tunnelAllowEthernet, List<Endpoint> endpoints,
            boolean lanAllow, List<Network> lanNetworks, boolean lanAllowPublic, List<IpAddress> dnsServers,
            DnsMode dnsMode, DnsOverTls dnsOverTls, List<Integer> inboundTcpPorts) {
        this(source, tunnelInterfaces, tunnelAllowEthernet, endpoints, lanAllow, lanNetworks, lanAllowPublic, dnsServers,
                dnsMode, dnsOverTls, inboundTcpPorts, NmProfileChoice.DEFAULT, Gateway.NONE, Guests.NONE);
    }

    /** Without the two explicit overrides ({@code tunnel.allow_ethernet}, {@code lan.allow_public}), gateway and guests. */
    public Config(Path source, List<String> tunnelInterfaces, List<Endpoint> endpoints, boolean lanAllow,
            List<Network> lanNetworks, List<IpAddress> dnsServers, DnsMode dnsMode, DnsOverTls dnsOverTls,
            List<Integer> inboundTcpPorts) {
        this(source, tunnelInterfaces, false, endpoints, lanAllow, lanNetworks, false, dnsServers, dnsMode, dnsOverTls,
                inboundTcpPorts);
    }

    /** What a missing config file means: block everything but loopback, DHCP and neighbour discovery. */
    public static Config safeDefault() {
        return new Config(null, List.of(), List.of(), false, DEFAULT_LAN_NETWORKS, List.of(), DnsMode.AUTO,
                DnsOverTls.DEFAULT, List.of());
    }

    public String describeSource() {
        return source == null ? "built-in safe default (no config file)" : source.toString();
    }
}
