package dev.killswitch.policy;

import java.util.List;

/**
 * The rules of the output chain, in the order {@code NftScript} renders them; each names what in the rendered
 * line identifies it ({@code marker}) and the conditions {@link Explain} relies on ({@code conditions}). A test
 * holds the two together: every rule line of the rendered chain is one of these, in this order, and carries
 * these conditions.
 */
public enum OutputRule {
    LOOPBACK("loopback", null, "oifname \"lo\" accept"),
    PAUSE("pause", null, "meta nfproto @paused accept"),
    ENDPOINTS4("endpoint", null, "ip daddr . meta l4proto . th dport @endpoints4 accept"),
    ENDPOINTS6("endpoint", null, "ip6 daddr . meta l4proto . th dport @endpoints6 accept"),
    DNS4("dns-to-resolver", null, "oifname @tunnels ip daddr @dns4",
            "meta l4proto { tcp, udp } th dport { 53, 853 } accept"),
    DNS6("dns-to-resolver", null, "oifname @tunnels ip6 daddr @dns6",
            "meta l4proto { tcp, udp } th dport { 53, 853 } accept"),
    DNS_REFUSED("dns-refused", "dropped_dns", "meta l4proto { tcp, udp } th dport { 53, 853 } counter name \"dropped_dns\"",
            "goto refuse"),
    TUNNELS("tunnel", null, "oifname @tunnels accept"),
    DOWNSTREAM("downstream", null, "oifname @downstream accept"),
    DHCP4("dhcp", null, "udp sport 68", "ip daddr 255.255.255.255", "udp dport 67 accept"),
    DHCP6("dhcpv6", null, "udp sport 546", "ip6 daddr ff02::1:2", "udp dport 547 accept"),
    NEIGHBOUR_DISCOVERY("neighbour-discovery", null, "icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert }",
            "ip6 daddr { fe80::/10, ff02::/16 } accept"),
    INBOUND_REPLIES("inbound-reply", null, "tcp sport @inbound_tcp ct direction reply ct state established accept"),
    LAN4("lan", null, "ip daddr @lan4 accept"),
    LAN6("lan", null, "ip6 daddr @lan6 accept"),
    REFUSED("refused", "dropped_out", "counter name \"dropped_out\" goto refuse");

    /** What the refuse chain, where every refusal of output goes, does: TCP gets a reset, the rest is dropped. */
    public static final List<String> REFUSE_CHAIN = List.of("meta l4proto tcp reject with tcp reset", "drop");

    private final String key;
    private final String counter;
    private final String marker;
    private final List<String> conditions;

    OutputRule(String key, String counter, String marker, String... moreConditions) {
        this.key = key;
        this.counter = counter;
        this.marker = marker;
        this.conditions = java.util.stream.Stream.concat(java.util.stream.Stream.of(marker),
                java.util.Arrays.stream(moreConditions)).toList();
    }

    /** A short stable name for scripts ("endpoint", "dns-refused", "refused"). */
    public String key() {
        return key;
    }

    /** The counter of our table this rule counts in, or null. */
    public String counter() {
        return counter;
    }

    /** Text found in this rule's rendered line and in no other rule line of the chain. */
    public String marker() {
        return marker;
    }

    /** Text the rendered line must hold for {@link Explain} to judge it right (the marker included). */
    public List<String> conditions() {
        return conditions;
    }

    public boolean accepts() {
        return counter == null;
    }
}
