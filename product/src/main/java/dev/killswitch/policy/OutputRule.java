package dev.killswitch.policy;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Network;
import dev.killswitch.config.Protocol;
import dev.killswitch.policy.Match.Assumed;
import dev.killswitch.policy.Match.Destination;
import dev.killswitch.policy.Match.DestinationIn;
import dev.killswitch.policy.Match.EndpointIn;
import dev.killswitch.policy.Match.Family;
import dev.killswitch.policy.Match.OutputInterface;
import dev.killswitch.policy.Match.OutputInterfaceIn;
import dev.killswitch.policy.Match.Paused;
import dev.killswitch.policy.Match.Port;
import dev.killswitch.policy.Match.PortField;
import dev.killswitch.policy.Match.PortIn;
import dev.killswitch.policy.Match.ProtocolIn;
import dev.killswitch.policy.Rule.Action;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.stream.Stream;

/**
 * The output chain, rule by rule, in the order the kernel runs it: the declaration order of these constants is
 * the chain's order, which {@code NftScript} renders and {@link Explain} walks, so reordering the chain is
 * reordering these constants. Each carries the comment the script puts above it, its {@link Rule}, and how
 * {@code explain} says it decided a packet. The rules never change at run time; the {@link Policy} enters as the
 * contents of the sets they name.
 */
public enum OutputRule {
    LOOPBACK("loopback", List.of(), accept(new OutputInterface("lo")),
            (p, k) -> "loopback (oifname \"lo\")"),
    PAUSE("pause", List.of(), accept(new Paused()),
            (p, k) -> "the block is paused (" + p.pause().toSeconds() + " s left; 'killswitch resume' ends it)"),
    ENDPOINTS4("endpoint", List.of("the tunnel transport, and nothing else on the servers' addresses; before the DNS",
            "rules because some VPN servers listen on port 53"), accept(new EndpointIn(Family.IPV4)), OutputRule::endpoint),
    ENDPOINTS6("endpoint", List.of(), accept(new EndpointIn(Family.IPV6)), OutputRule::endpoint),
    DNS4("dns-to-resolver", List.of("DNS only to the tunnel's resolvers through a tunnel; before the tunnel and LAN",
            "allowances so that neither a stray resolver nor the LAN router gets a query"),
            accept(dnsToResolvers(Family.IPV4, "dns4")), OutputRule::dnsToResolver),
    DNS6("dns-to-resolver", List.of(), accept(dnsToResolvers(Family.IPV6, "dns6")), OutputRule::dnsToResolver),
    DNS_REFUSED("dns-refused", List.of(), new Rule(dns(), "dropped_dns", Action.REFUSE),
            (p, k) -> "DNS only to the tunnels' resolvers (counter dropped_dns)", OutputRule::dnsHints),
    TUNNELS("tunnel", List.of(), accept(tunnels()),
            (p, k) -> "through " + describeTunnel(p, k.outputInterface())),
    DOWNSTREAM("downstream", List.of("the LAN behind a gateway and local guests: only a link to them, no way out (config checks",
            "that no interface is both a tunnel and downstream)"),
            accept(new OutputInterfaceIn("downstream", p -> p.downstream().interfaces())), OutputRule::downstream),
    DHCP4("dhcp", List.of("address configuration, each to where its protocol sends and nowhere else: DHCPv4 to the",
            "broadcast address (a renewal sent to the server itself goes out only when the LAN is",
            "allowed; without it the client rebinds by broadcast), DHCPv6 to its servers' link-scope",
            "group (RFC 8415), neighbour discovery to link-local and multicast addresses"),
            accept(new Port(PortField.UDP_SPORT, List.of(68)), new Destination(Family.IPV4, networks("255.255.255.255")),
                    new Port(PortField.UDP_DPORT, List.of(67))),
            (p, k) -> "DHCP client traffic (udp 68 to 255.255.255.255 port 67)"),
    DHCP6("dhcpv6", List.of(), accept(new Port(PortField.UDP_SPORT, List.of(546)),
            new Destination(Family.IPV6, networks("ff02::1:2")), new Port(PortField.UDP_DPORT, List.of(547))),
            (p, k) -> "DHCPv6 client traffic (udp 546 to ff02::1:2 port 547)"),
    /** ICMPv6 solicitations and adverts only, which a {@link Packet} (udp, tcp or a ping) never is. */
    NEIGHBOUR_DISCOVERY("neighbour-discovery", List.of(),
            accept(new Assumed("icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert }", false),
                    new Assumed("ip6 hoplimit 255", false), new Destination(Family.IPV6, networks("fe80::/10", "ff02::/16"))),
            (p, k) -> "neighbour discovery (ICMPv6 solicitations and adverts to link-local and multicast addresses)"),
    /** A {@link Packet} from an inbound port is taken as a reply on a connection that came in. */
    INBOUND_REPLIES("inbound-reply", List.of("replies of inbound connections to the allowed ports only: no blanket established",
            "accept, so a connection opened before the kill switch cannot go on leaking"),
            accept(new PortIn(PortField.TCP_SPORT, "inbound_tcp", Policy::inboundTcp),
                    new Assumed("ct direction reply", true), new Assumed("ct state established", true)),
            (p, k) -> "replies of inbound connections to tcp/" + k.sourcePort()
                    + " (only on a connection that came in: ct direction reply, ct state established)"),
    LAN4("lan", List.of(), accept(inLan(Family.IPV4, "lan4")), OutputRule::lan),
    LAN6("lan", List.of(), accept(inLan(Family.IPV6, "lan6")), OutputRule::lan),
    REFUSED("refused", List.of(), new Rule(List.of(), "dropped_out", Action.REFUSE),
            (p, k) -> "nothing allows it (counter dropped_out)", OutputRule::refusalHints);

    /**
     * The refuse chain, where every refusal of output goes ({@link Action#REFUSE}): TCP gets a reset, the rest is
     * dropped. (The script counts leak-test's probes in it first, which decides nothing.)
     */
    public static final List<Rule> REFUSE_CHAIN = List.of(
            new Rule(List.of(new ProtocolIn(List.of(Protocol.TCP))), null, Action.RESET),
            new Rule(List.of(), null, Action.DROP));

    private final String key;
    private final List<String> comment;
    private final Rule rule;
    private final BiFunction<Policy, Packet, String> reason;
    private final BiFunction<Policy, Packet, List<String>> hints;

    OutputRule(String key, List<String> comment, Rule rule, BiFunction<Policy, Packet, String> reason) {
        this(key, comment, rule, reason, (p, k) -> List.of());
    }

    OutputRule(String key, List<String> comment, Rule rule, BiFunction<Policy, Packet, String> reason,
            BiFunction<Policy, Packet, List<String>> hints) {
        this.key = key;
        this.comment = comment;
        this.rule = rule;
        this.reason = reason;
        this.hints = hints;
    }

    /** A short stable name for scripts ("endpoint", "dns-refused", "refused"). */
    public String key() {
        return key;
    }

    /** The counter of our table this rule counts in, or null. */
    public String counter() {
        return rule.counter();
    }

    /** The lines of the comment the script puts above this rule (why it stands where it does); often none. */
    public List<String> comment() {
        return comment;
    }

    public Rule rule() {
        return rule;
    }

    /** For a packet this rule decides: the rule in the words the ruleset uses ("endpoint 203.0.113.9 udp/51820"). */
    public String reason(Policy policy, Packet packet) {
        return reason.apply(policy, packet);
    }

    /** For a packet this rule decides: what would change the answer; empty for the allowances. */
    public List<String> hints(Policy policy, Packet packet) {
        return hints.apply(policy, packet);
    }

    private static Rule accept(Match... matches) {
        return accept(List.of(matches));
    }

    private static Rule accept(List<Match> matches) {
        return new Rule(matches, null, Action.ACCEPT);
    }

    private static List<Network> networks(String... networks) {
        return Stream.of(networks).map(Network::parse).toList();
    }

    private static OutputInterfaceIn tunnels() {
        return new OutputInterfaceIn("tunnels", Policy::tunnels);
    }

    /** DNS, 53 and 853 over UDP and TCP. */
    private static List<Match> dns() {
        return List.of(new ProtocolIn(List.of(Protocol.TCP, Protocol.UDP)), new Port(PortField.TH_DPORT, List.of(53, 853)));
    }

    private static List<Match> dnsToResolvers(Family family, String set) {
        List<Match> m = new ArrayList<>(List.of(tunnels(), new DestinationIn(family, set, (p, a) -> p.dns().contains(a))));
        m.addAll(dns());
        return m;
    }

    private static DestinationIn inLan(Family family, String set) {
        return new DestinationIn(family, set, (p, a) -> lanOf(p, a).isPresent());
    }

    /** The allowed LAN network {@code address} lies in. */
    private static Optional<Network> lanOf(Policy policy, IpAddress address) {
        return policy.lan().stream().filter(n -> Addresses.contains(n, address)).findFirst();
    }

    private static String endpoint(Policy policy, Packet packet) {
        return "endpoint " + packet.destination().text() + " " + packet.protocol().nftName() + "/" + packet.port();
    }

    private static String dnsToResolver(Policy policy, Packet packet) {
        return "DNS to the tunnels' resolver " + packet.destination().text() + " through "
                + describeTunnel(policy, packet.outputInterface());
    }

    private static String describeTunnel(Policy policy, String iface) {
        String pattern = Explain.matchingPattern(iface, policy.tunnels());
        return "tunnel " + iface + (pattern.equals(iface) ? "" : " (granted as \"" + pattern + "\")");
    }

    private static String downstream(Policy policy, Packet packet) {
        String out = packet.outputInterface();
        String pattern = Explain.matchingPattern(out, policy.downstream().interfaces());
        return "to " + out + ", behind this machine (gateway LAN side or guests' bridge"
                + (pattern.equals(out) ? "" : " \"" + pattern + "\"") + ")";
    }

    private static String lan(Policy policy, Packet packet) {
        return "the LAN " + lanOf(policy, packet.destination()).orElseThrow() + " (allow-lan on)";
    }

    private static List<String> dnsHints(Policy policy, Packet packet) {
        IpAddress to = packet.destination();
        if (policy.dns().isEmpty()) {
            return List.of("no resolver is allowed: none configured (dns.servers) and no granted tunnel brought any");
        }
        if (!policy.dns().contains(to)) {
            return List.of(to.text() + " is not one of the tunnels' resolvers " + texts(policy.dns()));
        }
        return List.of(to.text() + " is a tunnels' resolver, but the route sends it through " + packet.outputInterface()
                + ", which is not a granted tunnel" + granted(policy));
    }

    private static List<String> refusalHints(Policy policy, Packet packet) {
        List<String> hints = new ArrayList<>();
        hints.add(packet.outputInterface() + " is not a granted tunnel" + granted(policy));
        for (Endpoint e : policy.endpoints()) {
            if (e.address().equals(packet.destination())) {
                hints.add(e.address().text() + " is an endpoint for " + e.protocol().nftName() + "/" + e.port() + " only");
            }
        }
        return hints;
    }

    private static String granted(Policy policy) {
        return policy.tunnels().isEmpty() ? " (no tunnel is granted)" : " (granted: " + String.join(", ", policy.tunnels()) + ")";
    }

    private static String texts(List<IpAddress> addresses) {
        return "(" + String.join(", ", addresses.stream().map(IpAddress::text).toList()) + ")";
    }
}
