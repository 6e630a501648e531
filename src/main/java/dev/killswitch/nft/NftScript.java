package dev.killswitch.nft;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Network;
import dev.killswitch.policy.Policy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Renders a {@link Policy} to nftables scripts. Pure: text in, text out. Each script is applied
 * with one {@code nft -f}, which the kernel runs as one transaction.
 */
public final class NftScript {
    public static final String FAMILY = "inet";
    public static final String TABLE = "killswitch";
    private static final String QUALIFIED = FAMILY + " " + TABLE;

    /** The counters {@code status} reports: packets dropped by each base chain, and DNS refused. */
    public static final List<String> COUNTERS = List.of("dropped_out", "dropped_dns", "dropped_in", "dropped_forward");

    /**
     * The DSCP value leak-test puts on its probes (TOS byte 0xac). The chain every output drop goes
     * through counts probes carrying it, so leak-test can tell "dropped here" from "sent" even where
     * the kernel reports no error to the sender (a TCP connect and a ping only time out). Counting
     * sets no verdict; 0x2b is not a codepoint any standard assigns.
     */
    public static final int PROBE_DSCP = 0x2b;
    public static final String PROBE_COUNTER = "probes_dropped";

    private static final String DNS_PORTS = "th dport { 53, 853 }";

    private NftScript() {}

    /**
     * The whole table in one transaction. The table is flushed and declared again rather than
     * deleted and added: a delete unregisters the base chains' hooks, and packets pass while they
     * are gone (LAB.md measured 9 plaintext packets over 362 such reloads; 0 with a flush).
     * {@code flush table} empties the chains but not the sets, so each set is flushed as well.
     */
    public static String full(Policy policy) {
        StringBuilder s = new StringBuilder();
        s.append("#!/usr/sbin/nft -f\n");
        s.append("# killswitch ruleset, rendered from the config; applied as one transaction\n");
        s.append("add table ").append(QUALIFIED).append('\n');
        s.append("flush table ").append(QUALIFIED).append('\n');
        s.append(table());
        Map<String, List<String>> elements = elements(policy);
        for (String set : elements.keySet()) s.append("flush set ").append(QUALIFIED).append(' ').append(set).append('\n');
        elements.forEach((set, values) -> appendAdd(s, set, values));
        return s.toString();
    }

    /**
     * Only the set contents that differ between two policies, in one transaction: what {@code up},
     * {@code down}, {@code allow-lan} and {@code pause} apply. Fails in the kernel (and changes
     * nothing) when the table is not there, so a caller can fall back to {@link #full}.
     * Returns an empty string when nothing differs. Both policies must be built at the same instant,
     * or a running pause would count as a difference.
     */
    public static String elementChanges(Policy from, Policy to) {
        Map<String, List<String>> before = elements(from);
        Map<String, List<String>> after = elements(to);
        StringBuilder s = new StringBuilder();
        for (String set : after.keySet()) {
            if (Objects.equals(before.get(set), after.get(set))) continue;
            s.append("flush set ").append(QUALIFIED).append(' ').append(set).append('\n');
            appendAdd(s, set, after.get(set));
        }
        return s.toString();
    }

    public static String delete() {
        return "delete table " + QUALIFIED + "\n";
    }

    /** The guard table's name: {@value}. */
    public static final String GUARD_TABLE = "killswitch_guard";
    private static final String GUARD = FAMILY + " " + GUARD_TABLE;
    private static final java.util.regex.Pattern PLAIN_NAME = java.util.regex.Pattern.compile(" " + QUALIFIED + "( |$)");

    /**
     * The same transaction for the guard table: a table with {@code flags owner}, held by the service's
     * long-running {@code nft -i}, which no other process can flush, delete or change, and which the kernel
     * removes when that process ends. It carries the same drop policy and allowances as the plain table
     * (which stays: it survives the service and is what boot loads). Its base chains run just after the
     * plain table's ({@code priority filter + 1}): while the plain table is there, it decides, and its
     * counters (leak-test's included) see every drop; the guard only decides once someone removed it.
     * <p>
     * {@code plainScript} is one of this class's own scripts ({@link #full}, {@link #elementChanges},
     * {@link #delete}); the guard's version is appended to it in the same transaction. An owned table
     * cannot be added again without its flag, so "add table" becomes {@code table ... { flags owner; }},
     * which creates it or leaves it as it is; a delete is preceded by that too, so it never fails on an
     * absent guard.
     */
    public static String guardOf(String plainScript) {
        StringBuilder g = new StringBuilder();
        for (String line : plainScript.split("\n")) {
            if (line.isEmpty() || line.startsWith("#") || line.strip().startsWith("#")) continue;
            if (line.equals("add table " + QUALIFIED)) {
                g.append("table ").append(GUARD).append(" { flags owner; }\n");
            } else if (line.equals("delete table " + QUALIFIED)) {
                g.append("table ").append(GUARD).append(" { flags owner; }\n").append("delete table ").append(GUARD).append('\n');
            } else if (line.equals("table " + QUALIFIED + " {")) {
                g.append("table ").append(GUARD).append(" {\n\tflags owner\n");
            } else if (line.contains(" priority filter;")) {
                g.append(line.replace(" priority filter;", " priority filter + 1;")).append('\n');
            } else {
                g.append(PLAIN_NAME.matcher(line).replaceAll(" " + GUARD + "$1")).append('\n');
            }
        }
        return g.toString();
    }

    private static void appendAdd(StringBuilder s, String set, List<String> values) {
        if (values.isEmpty()) return;
        s.append("add element ").append(QUALIFIED).append(' ').append(set)
                .append(" { ").append(String.join(", ", values)).append(" }\n");
    }

    /** The contents of every named set, in declaration order. */
    static Map<String, List<String>> elements(Policy p) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("tunnels", p.tunnels().stream().map(n -> '"' + n + '"').toList());
        m.put("endpoints4", endpoints(p.endpoints(), e -> !e.address().v6()));
        m.put("endpoints6", endpoints(p.endpoints(), e -> e.address().v6()));
        m.put("lan4", p.lan().stream().filter(n -> !n.v6()).map(Network::toString).toList());
        m.put("lan6", p.lan().stream().filter(Network::v6).map(Network::toString).toList());
        m.put("dns4", p.dns().stream().filter(a -> !a.v6()).map(IpAddress::text).toList());
        m.put("dns6", p.dns().stream().filter(IpAddress::v6).map(IpAddress::text).toList());
        m.put("inbound_tcp", p.inboundTcp().stream().sorted().map(String::valueOf).toList());
        m.put("paused", paused(p.pause()));
        return m;
    }

    private static List<String> endpoints(List<Endpoint> endpoints, Predicate<Endpoint> family) {
        return endpoints.stream().filter(family)
                .map(e -> e.address().text() + " . " + e.protocol().nftName() + " . " + e.port())
                .distinct().collect(Collectors.toList());
    }

    private static List<String> paused(Duration left) {
        if (left == null || left.toMillis() < 1) return List.of();
        long ms = left.toMillis();
        return List.of("ipv4 timeout " + ms + "ms", "ipv6 timeout " + ms + "ms");
    }

    /** DNS (53 and 853, UDP and TCP) only to the resolvers and only through a tunnel; the rest refused. */
    private static void dnsRules(List<String> t, String refusal) {
        t.add("\t\toifname @tunnels ip daddr @dns4 meta l4proto { tcp, udp } " + DNS_PORTS + " accept");
        t.add("\t\toifname @tunnels ip6 daddr @dns6 meta l4proto { tcp, udp } " + DNS_PORTS + " accept");
        t.add("\t\tmeta l4proto { tcp, udp } " + DNS_PORTS + " counter name \"dropped_dns\" " + refusal);
    }

    /**
     * The table's declaration. The order of rules matters and each position is deliberate; the
     * comments in the script say why.
     */
    private static String table() {
        List<String> t = new ArrayList<>();
        t.add("table " + QUALIFIED + " {");
        t.add("\tset tunnels { type ifname; flags interval; }");
        t.add("\tset endpoints4 { type ipv4_addr . inet_proto . inet_service; }");
        t.add("\tset endpoints6 { type ipv6_addr . inet_proto . inet_service; }");
        t.add("\tset lan4 { type ipv4_addr; flags interval; }");
        t.add("\tset lan6 { type ipv6_addr; flags interval; }");
        t.add("\tset dns4 { type ipv4_addr; }");
        t.add("\tset dns6 { type ipv6_addr; }");
        t.add("\tset inbound_tcp { type inet_service; }");
        t.add("\t# a pause holds ipv4 and ipv6 with a timeout: the kernel ends it, no process needed");
        t.add("\tset paused { type nf_proto; flags timeout; }");
        for (String c : COUNTERS) t.add("\tcounter " + c + " { }");
        t.add("\tcounter " + PROBE_COUNTER + " { }");
        t.add("");
        t.add("\tchain output {");
        t.add("\t\ttype filter hook output priority filter; policy drop;");
        t.add("\t\toifname \"lo\" accept");
        t.add("\t\tmeta nfproto @paused accept");
        t.add("\t\t# the tunnel transport, and nothing else on the servers' addresses; before the DNS");
        t.add("\t\t# rules because some VPN servers listen on port 53");
        t.add("\t\tip daddr . meta l4proto . th dport @endpoints4 accept");
        t.add("\t\tip6 daddr . meta l4proto . th dport @endpoints6 accept");
        t.add("\t\t# DNS only to the tunnel's resolvers through a tunnel; before the tunnel and LAN");
        t.add("\t\t# allowances so that neither a stray resolver nor the LAN router gets a query");
        dnsRules(t, "goto refuse");
        t.add("\t\toifname @tunnels accept");
        t.add("\t\t# address configuration, each to where its protocol sends and nowhere else: DHCPv4 to the");
        t.add("\t\t# broadcast address (a renewal sent to the server itself goes out only when the LAN is");
        t.add("\t\t# allowed; without it the client rebinds by broadcast), DHCPv6 to its servers' link-scope");
        t.add("\t\t# group (RFC 8415), neighbour discovery to link-local and multicast addresses");
        t.add("\t\tudp sport 68 ip daddr 255.255.255.255 udp dport 67 accept");
        t.add("\t\tudp sport 546 ip6 daddr ff02::1:2 udp dport 547 accept");
        t.add("\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 "
                + "ip6 daddr { fe80::/10, ff02::/16 } accept");
        t.add("\t\t# replies of inbound connections to the allowed ports only: no blanket established");
        t.add("\t\t# accept, so a connection opened before the kill switch cannot go on leaking");
        t.add("\t\ttcp sport @inbound_tcp ct direction reply ct state established accept");
        t.add("\t\tip daddr @lan4 accept");
        t.add("\t\tip6 daddr @lan6 accept");
        t.add("\t\tcounter name \"dropped_out\" goto refuse");
        t.add("\t}");
        t.add("");
        t.add("\tchain input {");
        t.add("\t\ttype filter hook input priority filter; policy drop;");
        t.add("\t\tiifname \"lo\" accept");
        t.add("\t\tmeta nfproto @paused accept");
        t.add("\t\t# replies to what output let out; output has no such rule (see there)");
        t.add("\t\tct state established,related accept");
        t.add("\t\tudp sport 67 udp dport 68 accept");
        t.add("\t\tudp sport 547 udp dport 546 accept");
        t.add("\t\ticmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept");
        t.add("\t\ttcp dport @inbound_tcp accept");
        t.add("\t\tcounter name \"dropped_in\" drop");
        t.add("\t}");
        t.add("");
        t.add("\tchain forward {");
        t.add("\t\ttype filter hook forward priority filter; policy drop;");
        t.add("\t\tmeta nfproto @paused accept");
        dnsRules(t, "drop");
        t.add("\t\toifname @tunnels accept");
        t.add("\t\tiifname @tunnels ct state established,related accept");
        t.add("\t\tcounter name \"dropped_forward\" drop");
        t.add("\t}");
        t.add("");
        t.add("\t# every refusal of output ends here; probes of leak-test are counted on the way. A TCP");
        t.add("\t# connection gets a reset, delivered to the local sender only, so that the program fails at");
        t.add("\t# once instead of retrying its SYN for minutes; everything else is dropped (UDP and ICMP");
        t.add("\t# senders get EPERM from the drop at once)");
        t.add("\tchain refuse {");
        t.add(String.format("\t\tip dscp 0x%02x counter name \"%s\"", PROBE_DSCP, PROBE_COUNTER));
        t.add(String.format("\t\tip6 dscp 0x%02x counter name \"%s\"", PROBE_DSCP, PROBE_COUNTER));
        t.add("\t\tmeta l4proto tcp reject with tcp reset");
        t.add("\t\tdrop");
        t.add("\t}");
        t.add("}");
        return String.join("\n", t) + "\n";
    }
}
