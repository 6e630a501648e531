package dev.killswitch.policy;

import java.util.List;

/**
 * The output chain of the {@code inet} table as data: its rules in the order they stand in the chain (the order of
 * this enum), each with the nft text {@code NftScript} renders and the comment lines rendered above it.
 * {@link Explain} judges a packet by walking the same constants in the same order, so the chain and its explanation
 * come from one list. Reordering the chain is reordering these constants.
 */
public enum OutputRule {
    LOOPBACK("loopback", null, "oifname \"lo\"", "accept"),
    PAUSE("pause", null, "meta nfproto @paused", "accept"),
    ENDPOINTS4("endpoint", null, "ip daddr . meta l4proto . th dport @endpoints4", "accept",
            "the tunnel transport, and nothing else on the servers' addresses; before the DNS",
            "rules because some VPN servers listen on port 53"),
    ENDPOINTS6("endpoint", null, "ip6 daddr . meta l4proto . th dport @endpoints6", "accept"),
    DNS4("dns-to-resolver", null, "oifname @tunnels ip daddr @dns4 meta l4proto { tcp, udp } th dport { 53, 853 }", "accept",
            "DNS only to the tunnel's resolvers through a tunnel; before the tunnel and LAN",
            "allowances so that neither a stray resolver nor the LAN router gets a query"),
    DNS6("dns-to-resolver", null, "oifname @tunnels ip6 daddr @dns6 meta l4proto { tcp, udp } th dport { 53, 853 }", "accept"),
    DNS_REFUSED("dns-refused", "dropped_dns", "meta l4proto { tcp, udp } th dport { 53, 853 } counter name \"dropped_dns\"",
            "goto refuse"),
    TUNNELS("tunnel", null, "oifname @tunnels", "accept"),
    DOWNSTREAM("downstream", null, "oifname @downstream", "accept",
            "the LAN behind a gateway and local guests: only a link to them, no way out (config checks",
            "that no interface is both a tunnel and downstream)"),
    DHCP4("dhcp", null, "udp sport 68 ip daddr 255.255.255.255 udp dport 67", "accept",
            "address configuration, each to where its protocol sends and nowhere else: DHCPv4 to the",
            "broadcast address (a renewal sent to the server itself goes out only when the LAN is",
            "allowed; without it the client rebinds by broadcast), DHCPv6 to its servers' link-scope",
            "group (RFC 8415), neighbour discovery to link-local and multicast addresses"),
    DHCP6("dhcpv6", null, "udp sport 546 ip6 daddr ff02::1:2 udp dport 547", "accept"),
    NEIGHBOUR_DISCOVERY("neighbour-discovery", null,
            "icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 "
                    + "ip6 daddr { fe80::/10, ff02::/16 }", "accept"),
    INBOUND_REPLIES("inbound-reply", null, "tcp sport @inbound_tcp ct direction reply ct state established", "accept",
            "replies of inbound connections to the allowed ports only: no blanket established",
            "accept, so a connection opened before the kill switch cannot go on leaking"),
    LAN4("lan", null, "ip daddr @lan4", "accept"),
    LAN6("lan", null, "ip6 daddr @lan6", "accept"),
    REFUSED("refused", "dropped_out", "counter name \"dropped_out\"", "goto refuse");

    /**
     * The refuse chain, where every refusal of output goes, after leak-test's probe counters: TCP gets a reset,
     * the rest is dropped. {@link Explain} says "reset" or "dropped" by it.
     */
    public static final List<String> REFUSE_CHAIN = List.of("meta l4proto tcp reject with tcp reset", "drop");

    private final String key;
    private final String counter;
    private final String match;
    private final String verdict;
    private final List<String> comment;

    OutputRule(String key, String counter, String match, String verdict, String... comment) {
        this.key = key;
        this.counter = counter;
        this.match = match;
        this.verdict = verdict;
        this.comment = List.of(comment);
    }

    /** A short stable name for scripts ("endpoint", "dns-refused", "refused"). */
    public String key() {
        return key;
    }

    /** The counter of our table this rule counts in, or null. */
    public String counter() {
        return counter;
    }

    /** The rule's match, as nft text ({@code oifname @tunnels}), its counter included. */
    public String match() {
        return match;
    }

    /** The whole rule as nft text: its match and its verdict ({@code oifname @tunnels accept}). */
    public String line() {
        return match + " " + verdict;
    }

    /** The comment lines rendered above the rule (without "# "); most rules have none. */
    public List<String> comment() {
        return comment;
    }

    public boolean accepts() {
        return verdict.equals("accept");
    }
}
