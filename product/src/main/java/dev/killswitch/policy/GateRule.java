package dev.killswitch.policy;

import dev.killswitch.policy.Match.Assumed;
import dev.killswitch.policy.Match.PausedAtLink;
import dev.killswitch.policy.Match.PortField;
import dev.killswitch.policy.Match.PortIn;
import dev.killswitch.policy.Rule.Action;
import java.util.ArrayList;
import java.util.List;

/**
 * The link-level gate's chain ({@code chain gate} of {@code table netdev killswitch}), rule by rule in the kernel's
 * order, as {@link OutputRule} is the output chain's: every gated link's egress chain jumps here, so it judges every
 * frame that leaves by a physical link, whoever wrote it (the IP stack, an AF_PACKET socket, a macvlan child, a
 * bridged guest). It lets out what the output chain lets out there, and nothing else: the same matches, taken from
 * the output rule each one mirrors ({@link #mirrors}), with three differences that the netdev family makes: a pause
 * is tested by ethertype, a reply of an inbound connection by its TCP ACK (a netdev chain has no conntrack: the
 * output chain has already checked the connection for the host's own sockets), and ARP, which no {@code inet} chain
 * sees, passes. What the output chain lets out through a tunnel, loopback or downstream never reaches a gated link.
 */
public enum GateRule {
    /**
     * The tunnel's own transport to its endpoints, what a gated link carries most, is decided first, in one rule with
     * one set lookup. It tests the Ethernet header itself, so a frame that a raw socket labelled "ip" while writing
     * another ethertype (see {@link #MISLABELLED4}) never passes here.
     */
    ENDPOINTS4("endpoint", List.of("the tunnel's transport first (the most frequent frame), by its Ethernet header"),
            OutputRule.ENDPOINTS4, byEthertype("ip", OutputRule.ENDPOINTS4)),
    ENDPOINTS6("endpoint", List.of(), OutputRule.ENDPOINTS6, byEthertype("ip6", OutputRule.ENDPOINTS6)),
    /**
     * A raw socket sets the frame's protocol field itself (the kernel's {@code meta protocol}), apart from the
     * Ethernet header it writes: an IPv6 or LLDP frame labelled "ip" would have its bytes read as an IPv4 header by
     * every rule below. Such a frame is dropped first.
     */
    MISLABELLED4("mislabelled", List.of("a frame whose protocol field and Ethernet header disagree (a raw socket sets both): dropped",
            "before any rule reads an address that is not there"), null,
            new Rule(List.of(new Assumed("meta protocol ip ether type != ip", false)), "dropped_link", Action.DROP)),
    MISLABELLED6("mislabelled", List.of(), null,
            new Rule(List.of(new Assumed("meta protocol ip6 ether type != ip6", false)), "dropped_link", Action.DROP)),
    ARP("arp", List.of("address resolution, which no inet chain sees"), null,
            new Rule(List.of(new Assumed("ether type arp", false)), null, Action.ACCEPT)),
    PAUSE("pause", List.of(), OutputRule.PAUSE, new Rule(List.of(new PausedAtLink()), null, Action.ACCEPT)),
    DNS_REFUSED("dns-refused", List.of("DNS goes through a tunnel only, never out of a physical link"), OutputRule.DNS_REFUSED,
            OutputRule.DNS_REFUSED.rule().matches()),
    DHCP4("dhcp", List.of(), OutputRule.DHCP4),
    DHCP6("dhcpv6", List.of(), OutputRule.DHCP6),
    NEIGHBOUR_DISCOVERY("neighbour-discovery", List.of(), OutputRule.NEIGHBOUR_DISCOVERY),
    INBOUND_REPLIES("inbound-reply", List.of("replies of inbound connections: the output chain checked the connection (conntrack);",
            "a netdev chain has none, so here a segment from an inbound port must at least carry an ACK"),
            OutputRule.INBOUND_REPLIES, new Rule(List.of(new PortIn(PortField.TCP_SPORT, "inbound_tcp", Policy::inboundTcp),
                    new Assumed("tcp flags & ack == ack", true)), null, Action.ACCEPT)),
    LAN4("lan", List.of(), OutputRule.LAN4),
    LAN6("lan", List.of(), OutputRule.LAN6),
    REFUSED("refused", List.of(), OutputRule.REFUSED, List.of());

    /** The gate's counter: every frame it drops. */
    public static final String COUNTER = "dropped_link";

    private final String key;
    private final List<String> comment;
    private final OutputRule mirrors;
    private final Rule rule;

    /** {@code mirrored}'s matches and verdict after a test of the frame's Ethernet header for {@code ethertype}. */
    private static Rule byEthertype(String ethertype, OutputRule mirrored) {
        List<Match> matches = new ArrayList<>();
        matches.add(new Assumed("ether type " + ethertype, true));
        matches.addAll(mirrored.rule().matches());
        return new Rule(matches, mirrored.rule().counter(), mirrored.rule().action());
    }

    /** The output rule's own matches and verdict. */
    GateRule(String key, List<String> comment, OutputRule mirrors) {
        this(key, comment, mirrors, mirrors.rule());
    }

    /** The output rule's matches, dropping into the gate's counter (the gate sends no resets). */
    GateRule(String key, List<String> comment, OutputRule mirrors, List<Match> matches) {
        this(key, comment, mirrors, new Rule(matches, COUNTER, Action.DROP));
    }

    GateRule(String key, List<String> comment, OutputRule mirrors, Rule rule) {
        this.key = key;
        this.comment = comment;
        this.mirrors = mirrors;
        this.rule = rule;
    }

    public String key() {
        return key;
    }

    public List<String> comment() {
        return comment;
    }

    public Rule rule() {
        return rule;
    }

    /** The output rule this one lets out or refuses the same packets as, or null (for frames no inet chain sees). */
    public OutputRule mirrors() {
        return mirrors;
    }

    /** The rule a gated link's own chain starts with when a tunnel may be named like it: a granted one passes. */
    public static Rule grantedTunnel() {
        return OutputRule.TUNNELS.rule();
    }

    /** The gate's rules as nft writes them, in order. */
    public static List<String> nftLines() {
        List<String> lines = new ArrayList<>();
        for (GateRule r : values()) lines.add(r.rule.nft());
        return lines;
    }
}
