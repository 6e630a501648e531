package dev.killswitch.policy;

import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Network;
import dev.killswitch.config.Protocol;
import java.util.List;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One match expression of a {@link Rule}, in the two forms its rule is used in: {@link #nft()} is the text
 * {@code NftScript} renders into the table, {@link #test} whether a {@link Packet} leaving with the
 * {@link Policy}'s set contents satisfies it, which is how {@link Explain} walks the chain. Pure.
 */
public sealed interface Match {

    /** The expression as nft writes it, e.g. {@code oifname @tunnels}. */
    String nft();

    /** Whether {@code packet} satisfies it while the table's sets hold what {@code policy} says. */
    boolean test(Policy policy, Packet packet);

    /** The address family a match on addresses implies ({@code ip daddr} is IPv4 only). */
    enum Family {
        IPV4("ip", "4", false), IPV6("ip6", "6", true);

        private final String keyword;
        private final String suffix;
        private final boolean v6;

        Family(String keyword, String suffix, boolean v6) {
            this.keyword = keyword;
            this.suffix = suffix;
            this.v6 = v6;
        }

        boolean holds(IpAddress address) {
            return address.v6() == v6;
        }
    }

    /** A port of the transport header: {@code th dport} is any protocol's, {@code udp sport} only UDP's. */
    enum PortField {
        TH_DPORT("th dport", null, false), UDP_SPORT("udp sport", Protocol.UDP, true),
        UDP_DPORT("udp dport", Protocol.UDP, false), TCP_SPORT("tcp sport", Protocol.TCP, true);

        private final String nft;
        private final Protocol protocol;
        private final boolean source;

        PortField(String nft, Protocol protocol, boolean source) {
            this.nft = nft;
            this.protocol = protocol;
            this.source = source;
        }

        /** The packet's port in this field, or null when it has none there (another protocol, an ephemeral port). */
        Integer of(Packet packet) {
            if (packet.protocol() == null || (protocol != null && packet.protocol() != protocol)) return null;
            return source ? packet.sourcePort() : packet.port();
        }
    }

    /** {@code oifname "lo"}: the route sends it out through this interface. */
    record OutputInterface(String name) implements Match {
        public String nft() {
            return "oifname \"" + name + "\"";
        }

        public boolean test(Policy policy, Packet packet) {
            return name.equals(packet.outputInterface());
        }
    }

    /**
     * {@code oifname @tunnels}: the output interface is a name or matches a "prefix*" pattern of a named set.
     *
     * @param set the set's name in the table
     * @param patterns what the policy puts in it
     */
    record OutputInterfaceIn(String set, Function<Policy, Set<String>> patterns) implements Match {
        public String nft() {
            return "oifname @" + set;
        }

        public boolean test(Policy policy, Packet packet) {
            return Explain.matchingPattern(packet.outputInterface(), patterns.apply(policy)) != null;
        }
    }

    /** {@code meta nfproto @paused}: a pause is running (the set then holds both families). */
    record Paused() implements Match {
        public String nft() {
            return "meta nfproto @paused";
        }

        public boolean test(Policy policy, Packet packet) {
            return policy.pause() != null;
        }
    }

    /**
     * {@code meta protocol @paused}: a pause is running, as the link-level gate tests it (a netdev chain's
     * {@code meta nfproto} is netdev for every frame, so its set holds the ethertypes ip and ip6).
     */
    record PausedAtLink() implements Match {
        public String nft() {
            return "meta protocol @paused";
        }

        public boolean test(Policy policy, Packet packet) {
            return policy.pause() != null;
        }
    }

    /** {@code ip daddr . meta l4proto . th dport @endpoints4}: address, protocol and port are one endpoint's. */
    record EndpointIn(Family family) implements Match {
        public String nft() {
            return family.keyword + " daddr . meta l4proto . th dport @endpoints" + family.suffix;
        }

        public boolean test(Policy policy, Packet packet) {
            return family.holds(packet.destination()) && packet.protocol() != null && policy.endpoints().stream()
                    .anyMatch(e -> e.address().equals(packet.destination()) && e.protocol() == packet.protocol()
                            && e.port() == packet.port());
        }
    }

    /**
     * {@code ip daddr @dns4}: the destination is in a named set of addresses or networks.
     *
     * @param set the set's name in the table
     * @param holds whether the policy puts the address in it
     */
    record DestinationIn(Family family, String set, BiPredicate<Policy, IpAddress> holds) implements Match {
        public String nft() {
            return family.keyword + " daddr @" + set;
        }

        public boolean test(Policy policy, Packet packet) {
            return family.holds(packet.destination()) && holds.test(policy, packet.destination());
        }
    }

    /** {@code ip daddr 255.255.255.255}, {@code ip6 daddr { fe80::/10, ff02::/16 }}: a fixed destination. */
    record Destination(Family family, List<Network> networks) implements Match {
        public Destination {
            networks = List.copyOf(networks);
        }

        public String nft() {
            return family.keyword + " daddr " + literals(networks.stream().map(Destination::literal).toList());
        }

        private static String literal(Network n) {
            return n.prefix() == (n.v6() ? 128 : 32) ? n.address().text() : n.toString();
        }

        public boolean test(Policy policy, Packet packet) {
            return family.holds(packet.destination()) && networks.stream().anyMatch(n -> Addresses.contains(n, packet.destination()));
        }
    }

    /** {@code meta l4proto { tcp, udp }}: the packet is one of these protocols (a ping is neither). */
    record ProtocolIn(List<Protocol> protocols) implements Match {
        public ProtocolIn {
            protocols = List.copyOf(protocols);
        }

        public String nft() {
            return "meta l4proto " + literals(protocols.stream().map(Protocol::nftName).toList());
        }

        public boolean test(Policy policy, Packet packet) {
            return packet.protocol() != null && protocols.contains(packet.protocol());
        }
    }

    /** {@code th dport { 53, 853 }}, {@code udp sport 68}: the port in that field is one of these. */
    record Port(PortField field, List<Integer> ports) implements Match {
        public Port {
            ports = List.copyOf(ports);
        }

        public String nft() {
            return field.nft + " " + literals(ports.stream().map(String::valueOf).toList());
        }

        public boolean test(Policy policy, Packet packet) {
            Integer port = field.of(packet);
            return port != null && ports.contains(port);
        }
    }

    /**
     * {@code tcp sport @inbound_tcp}: the port in that field is in a named set of ports.
     *
     * @param set the set's name in the table
     * @param ports what the policy puts in it
     */
    record PortIn(PortField field, String set, Function<Policy, List<Integer>> ports) implements Match {
        public String nft() {
            return field.nft + " @" + set;
        }

        public boolean test(Policy policy, Packet packet) {
            Integer port = field.of(packet);
            return port != null && ports.apply(policy).contains(port);
        }
    }

    /**
     * What a {@link Packet} does not say (ICMPv6 types, the hop limit, conntrack's view), rendered as written
     * and judged by a fixed answer.
     *
     * @param nft the expression, e.g. {@code ct state established}
     * @param holds the answer for every Packet
     */
    record Assumed(String nft, boolean holds) implements Match {
        public boolean test(Policy policy, Packet packet) {
            return holds;
        }
    }

    /** One value as itself, several as nft's anonymous set: "68", "{ 53, 853 }". */
    private static String literals(List<String> values) {
        return values.size() == 1 ? values.get(0) : values.stream().collect(Collectors.joining(", ", "{ ", " }"));
    }
}
