package dev.killswitch.nft;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.Validate;
import dev.killswitch.policy.Gate;
import dev.killswitch.policy.GateRule;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Network;
import dev.killswitch.policy.Downstream;
import dev.killswitch.policy.OutputRule;
import dev.killswitch.policy.Policy;
import dev.killswitch.policy.Rule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Renders a {@link Policy} to nftables scripts. Pure: text in, text out. Each script is applied
 * with one {@code nft -f}, which the kernel runs as one transaction.
 */
public final class NftScript {
    public static final String FAMILY = "inet";
    public static final String TABLE = "killswitch";
    /** The family of the link-level gate's table, {@code netdev killswitch} (same name, other family). */
    public static final String GATE_FAMILY = "netdev";

    /** The counters {@code status} reports: packets dropped by each base chain, and DNS refused. */
    public static final List<String> COUNTERS = List.of("dropped_out", "dropped_dns", "dropped_in", "dropped_forward",
            "dropped_spoofed");

    /**
     * The DSCP value leak-test puts on its probes (TOS byte 0xac). The chain every output drop goes
     * through counts probes carrying it, so leak-test can tell "dropped here" from "sent" even where
     * the kernel reports no error to the sender (a TCP connect and a ping only time out). Counting
     * sets no verdict; 0x2b is not a codepoint any standard assigns.
     */
    public static final int PROBE_DSCP = 0x2b;
    public static final String PROBE_COUNTER = "probes_dropped";

    private NftScript() {}

    /**
     * The whole table in one transaction. The table is flushed and declared again rather than
     * deleted and added: a delete unregisters the base chains' hooks, and packets pass while they
     * are gone (LAB.md measured 9 plaintext packets over 362 such reloads; 0 with a flush).
     * {@code flush table} empties the chains but not the sets, so each set is flushed as well.
     */
    public static String full(Policy policy) {
        return full(policy, Set.of(), Target.PLAIN);
    }

    /**
     * Only the set contents that differ between two policies, in one transaction: what {@code up},
     * {@code down}, {@code allow-lan} and {@code pause} apply. Fails in the kernel (and changes
     * nothing) when the table is not there, so a caller can fall back to {@link #full}.
     * Returns an empty string when nothing differs. Both policies must be built at the same instant,
     * or a running pause would count as a difference.
     */
    public static String elementChanges(Policy from, Policy to) {
        return elementChanges(from, to, Target.PLAIN);
    }

    public static String delete() {
        return delete(Target.PLAIN);
    }

    /** The guard table's name: {@value}. */
    public static final String GUARD_TABLE = "killswitch_guard";

    /**
     * One of our transactions, rendered for the plain table and for the guard table. The guard is a table
     * with {@code flags owner}, held by the service's long-running {@code nft -i}, which no other process can
     * flush, delete or change, and which the kernel removes when that process ends. It carries the same drop
     * policy and allowances as the plain table (which stays: it survives the service and is what boot loads).
     * Its base chains run just after the plain table's ({@code priority filter + 1}): while the plain table is
     * there, it decides, and its counters (leak-test's included) see every drop; the guard only decides once
     * someone removed it. An owned table cannot be added again without its flag, so the guard's "add table"
     * is {@code table ... { flags owner; }}, which creates it or leaves it as it is; its delete is preceded by
     * that too, so it never fails on an absent guard.
     *
     * @param plain the transaction for {@code inet killswitch}; empty when it changes nothing
     * @param guard the same for {@code inet killswitch_guard}, without comments
     */
    public record Transaction(String plain, String guard) {
        public boolean isEmpty() {
            return plain.isEmpty();
        }
    }

    /** {@link #full} for both tables. */
    public static Transaction install(Policy policy) {
        return install(policy, Set.of());
    }

    /**
     * {@link #full} for both tables, taking the hook off each link of {@code staleHooks} (links whose egress chain
     * the kernel holds, read just before) that the policy no longer gates.
     */
    public static Transaction install(Policy policy, Set<String> staleHooks) {
        return new Transaction(full(policy, staleHooks, Target.PLAIN), full(policy, staleHooks, Target.GUARD));
    }

    /** {@link #elementChanges} for both tables. */
    public static Transaction changes(Policy from, Policy to) {
        return new Transaction(elementChanges(from, to), elementChanges(from, to, Target.GUARD));
    }

    /** {@link #delete} for both tables. */
    public static Transaction removal() {
        return new Transaction(delete(), delete(Target.GUARD));
    }

    /** The table a script is rendered for: the plain one, or the service's owner-flagged guard. */
    private enum Target {
        PLAIN(FAMILY + " " + TABLE, GATE_FAMILY + " " + TABLE, "filter", "srcnat"),
        GUARD(FAMILY + " " + GUARD_TABLE, GATE_FAMILY + " " + GUARD_TABLE, "filter + 1", "srcnat + 1");

        final String name;
        /** The same target's link-level gate table. */
        final String gateName;
        final String priority;
        final String natPriority;

        Target(String name, String gateName, String priority, String natPriority) {
            this.name = name;
            this.gateName = gateName;
            this.priority = priority;
            this.natPriority = natPriority;
        }

        /** Creates the table or leaves it as it is. */
        String declare() {
            return declare(name);
        }

        String declare(String table) {
            return this == PLAIN ? "add table " + table : "table " + table + " { flags owner; }";
        }

        /** The lines as one script; the guard's without comments and blank lines (the plain table's say why). */
        String script(List<String> lines) {
            StringBuilder s = new StringBuilder();
            for (String line : lines) {
                if (this == GUARD && (line.isBlank() || line.strip().startsWith("#"))) continue;
                s.append(line).append('\n');
            }
            return s.toString();
        }
    }

    private static String full(Policy policy, Set<String> staleHooks, Target t) {
        List<String> s = new ArrayList<>();
        s.add("#!/usr/sbin/nft -f");
        s.add("# killswitch ruleset, rendered from the config; applied as one transaction");
        s.add(t.declare());
        s.add("flush table " + t.name);
        table(s, t);
        refill(s, t.name, elements(policy));
        s.add("");
        s.add("# the link-level gate: what may leave by each physical link, whoever wrote the frame");
        s.add(t.declare(t.gateName));
        s.add("flush table " + t.gateName);
        // a link that is no longer gated (or gone) loses its hook; adding the chain first makes the delete safe
        // whether the kernel still holds it or dropped it with its device
        for (String link : new TreeSet<>(staleHooks)) {
            if (policy.gate().links().contains(link)) continue;
            s.add("add chain " + t.gateName + " " + hookChain(link));
            s.add("delete chain " + t.gateName + " " + hookChain(link));
        }
        gateTable(s, t, policy.gate());
        refill(s, t.gateName, gateElements(policy));
        return t.script(s);
    }

    private static void refill(List<String> s, String table, Map<String, List<String>> elements) {
        for (String set : elements.keySet()) s.add("flush set " + table + " " + set);
        elements.forEach((set, values) -> addElements(s, table, set, values));
    }

    private static String elementChanges(Policy from, Policy to, Target t) {
        List<String> s = new ArrayList<>();
        changes(s, t.name, elements(from), elements(to));
        changes(s, t.gateName, gateElements(from), gateElements(to));
        return t.script(s);
    }

    private static void changes(List<String> s, String table, Map<String, List<String>> before, Map<String, List<String>> after) {
        for (String set : after.keySet()) {
            if (Objects.equals(before.get(set), after.get(set))) continue;
            s.add("flush set " + table + " " + set);
            addElements(s, table, set, after.get(set));
        }
    }

    private static String delete(Target t) {
        // the gate's table is declared before its delete: one loaded by an older version has none
        String gate = t.declare(t.gateName) + "\ndelete table " + t.gateName + "\n";
        return (t == Target.PLAIN ? "delete table " + t.name + "\n" : t.declare() + "\ndelete table " + t.name + "\n") + gate;
    }

    private static void addElements(List<String> s, String table, String set, List<String> values) {
        if (!values.isEmpty()) s.add("add element " + table + " " + set + " { " + String.join(", ", values) + " }");
    }

    /** The name of a gated link's own egress chain: {@code egress_eth0}. */
    public static String hookChain(String link) {
        return HOOK_PREFIX + Validate.interfaceName(link);
    }

    /** The link a chain of the gate table hooks, or null for a chain that is not a link's ({@code gate}). */
    public static String hookedLink(String chain) {
        return chain.startsWith(HOOK_PREFIX) ? chain.substring(HOOK_PREFIX.length()) : null;
    }

    private static final String HOOK_PREFIX = "egress_";

    /**
     * One gated link's hook alone, for the boot file's links ({@link #bootLinkHooks}): a script that adds the chain
     * to a loaded gate table. Loaded on its own, so that a link not there yet at boot fails alone (on kernels before
     * 6.16 an egress hook needs its device to exist).
     */
    private static String linkHook(Gate gate, String link) {
        List<String> s = new ArrayList<>();
        s.add("# killswitch: the link-level gate on " + link + ", as 'killswitch enable --persist' found it");
        s.add("table " + Target.PLAIN.gateName + " {");
        hookChain(s, Target.PLAIN, gate, link);
        s.add("}");
        return Target.PLAIN.script(s);
    }

    /** For each gated link of {@code policy}, the script that hooks it alone: link name -> script. */
    public static Map<String, String> bootLinkHooks(Policy policy) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String link : policy.gate().links()) out.put(link, linkHook(policy.gate(), link));
        return out;
    }

    /** The contents of every named set, in declaration order. */
    static Map<String, List<String>> elements(Policy p) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("tunnels", p.tunnels().stream().map(n -> '"' + n + '"').toList());
        m.put("endpoints4", endpoints(p.endpoints(), e -> !e.address().v6()));
        m.put("endpoints6", endpoints(p.endpoints(), e -> e.address().v6()));
        m.put("lan4", networks(p.lan(), false));
        m.put("lan6", networks(p.lan(), true));
        m.put("dns4", p.dns().stream().filter(a -> !a.v6()).map(IpAddress::text).toList());
        m.put("dns6", p.dns().stream().filter(IpAddress::v6).map(IpAddress::text).toList());
        m.put("inbound_tcp", p.inboundTcp().stream().sorted().map(String::valueOf).toList());
        m.put("paused", paused(p.pause(), "ipv4", "ipv6"));
        Downstream d = p.downstream();
        m.put("downstream", d.interfaces().stream().map(n -> '"' + n + '"').toList());
        m.put("gateway", d.gateway().stream().map(n -> '"' + n + '"').toList());
        m.put("gateway_sources4", networks(d.gatewaySources(), false));
        m.put("gateway_sources6", networks(d.gatewaySources(), true));
        m.put("masquerade4", networks(d.masquerade(), false));
        m.put("masquerade6", networks(d.masquerade(), true));
        m.put("served_tcp", d.tcpPorts().stream().sorted().map(String::valueOf).toList());
        m.put("served_udp", d.udpPorts().stream().sorted().map(String::valueOf).toList());
        m.put("bridged", p.gate().bridges().stream().map(n -> '"' + n + "\" . \"" + n + '"').toList());
        return m;
    }

    /** The contents of every named set of the gate's table, in declaration order. */
    static Map<String, List<String>> gateElements(Policy p) {
        Map<String, List<String>> all = elements(p);
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (String set : List.of("tunnels", "endpoints4", "endpoints6", "lan4", "lan6", "inbound_tcp")) m.put(set, all.get(set));
        m.put("paused", paused(p.pause(), "ip", "ip6"));
        return m;
    }

    private static List<String> networks(List<Network> networks, boolean v6) {
        return networks.stream().filter(n -> n.v6() == v6).map(Network::toString).toList();
    }

    private static List<String> endpoints(List<Endpoint> endpoints, Predicate<Endpoint> family) {
        return endpoints.stream().filter(family)
                .map(e -> e.address().text() + " . " + e.protocol().nftName() + " . " + e.port())
                .distinct().collect(Collectors.toList());
    }

    /** A running pause as the two elements of a paused set: the families' names as its type spells them. */
    private static List<String> paused(Duration left, String v4, String v6) {
        if (left == null || left.toMillis() < 1) return List.of();
        long ms = left.toMillis();
        return List.of(v4 + " timeout " + ms + "ms", v6 + " timeout " + ms + "ms");
    }

    /**
     * The table's declaration. The order of rules matters and each position is deliberate; the
     * comments in the script say why.
     */
    private static void table(List<String> t, Target target) {
        t.add("table " + target.name + " {");
        if (target == Target.GUARD) t.add("\tflags owner");
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
        t.add("\t# behind this machine: the gateway's LAN side and the guests' bridges (\"downstream\")");
        t.add("\tset downstream { type ifname; flags interval; }");
        t.add("\tset gateway { type ifname; flags interval; }");
        t.add("\tset gateway_sources4 { type ipv4_addr; flags interval; }");
        t.add("\tset gateway_sources6 { type ipv6_addr; flags interval; }");
        t.add("\tset masquerade4 { type ipv4_addr; flags interval; }");
        t.add("\tset masquerade6 { type ipv6_addr; flags interval; }");
        t.add("\tset served_tcp { type inet_service; }");
        t.add("\tset served_udp { type inet_service; }");
        t.add("\t# bridges with a gated port, as \"br0\" . \"br0\": what br_netfilter shows the forward chain of their frames");
        t.add("\tset bridged { type ifname . ifname; }");
        for (String c : COUNTERS) t.add("\tcounter " + c + " { }");
        t.add("\tcounter " + PROBE_COUNTER + " { }");
        t.add("");
        t.add("\tchain output {");
        t.add("\t\ttype filter hook output priority " + target.priority + "; policy drop;");
        for (OutputRule rule : OutputRule.values()) {
            rule.comment().forEach(line -> t.add("\t\t# " + line));
            t.add("\t\t" + rule.rule().nft());
        }
        t.add("\t}");
        t.add("");
        t.add("\tchain input {");
        t.add("\t\ttype filter hook input priority " + target.priority + "; policy drop;");
        t.add("\t\tiifname \"lo\" accept");
        t.add("\t\t# an address of this machine is reached only through its own interface (strong host model): a");
        t.add("\t\t# neighbour cannot probe or inject into a tunnel by its address (CVE-2019-14899). Before the");
        t.add("\t\t# established accept, which would take an injected packet for the tunnel's own connection");
        t.add("\t\tiifname != @tunnels fib daddr . iif type != { local, broadcast, multicast, anycast } counter name \"dropped_spoofed\" drop");
        t.add("\t\tmeta nfproto @paused accept");
        t.add("\t\t# replies to what output let out; output has no such rule (see there)");
        t.add("\t\tct state established,related accept");
        t.add("\t\tudp sport 67 udp dport 68 accept");
        t.add("\t\tudp sport 547 udp dport 546 accept");
        t.add("\t\ticmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept");
        t.add("\t\ttcp dport @inbound_tcp accept");
        t.add("\t\t# what this machine serves downstream: DHCP, DHCPv6, DNS, router solicitations and the listed ports");
        t.add("\t\tiifname @downstream udp sport 68 udp dport 67 accept");
        t.add("\t\tiifname @downstream udp sport 546 udp dport 547 accept");
        t.add("\t\tiifname @downstream meta l4proto { tcp, udp } th dport 53 accept");
        t.add("\t\tiifname @downstream icmpv6 type nd-router-solicit ip6 hoplimit 255 accept");
        t.add("\t\tiifname @downstream tcp dport @served_tcp accept");
        t.add("\t\tiifname @downstream udp dport @served_udp accept");
        t.add("\t\tcounter name \"dropped_in\" drop");
        t.add("\t}");
        t.add("");
        t.add("\tchain forward {");
        t.add("\t\ttype filter hook forward priority " + target.priority + "; policy drop;");
        t.add("\t\tmeta nfproto @paused accept");
        t.add("\t\t# between the LAN side and guests' bridges: not the kill switch's business");
        t.add("\t\tiifname @downstream oifname @downstream accept");
        t.add("\t\t# bridged between ports of a bridge with a gated port (seen here only with br_netfilter, with the bridge");
        t.add("\t\t# as both interfaces): judged by the link-level gate on the port it leaves by, as without br_netfilter");
        t.add("\t\tiifname . oifname @bridged accept");
        t.add("\t\t# the gateway forwards only its LAN's own sources");
        t.add("\t\tiifname @gateway ip saddr != @gateway_sources4 counter name \"dropped_forward\" drop");
        t.add("\t\tiifname @gateway ip6 saddr != @gateway_sources6 counter name \"dropped_forward\" drop");
        // the output chain's DNS rules, a refusal dropped here instead of going to the refuse chain
        for (OutputRule rule : List.of(OutputRule.DNS4, OutputRule.DNS6, OutputRule.DNS_REFUSED)) {
            Rule r = rule.rule();
            t.add("\t\t" + (r.action() == Rule.Action.REFUSE ? r.with(Rule.Action.DROP) : r).nft());
        }
        t.add("\t\toifname @tunnels accept");
        t.add("\t\tiifname @tunnels ct state established,related accept");
        t.add("\t\tcounter name \"dropped_forward\" drop");
        t.add("\t}");
        t.add("");
        t.add("\t# the gateway's LAN leaves through a tunnel with the tunnel's address when gateway.masquerade is on");
        t.add("\tchain postrouting {");
        t.add("\t\ttype nat hook postrouting priority " + target.natPriority + "; policy accept;");
        t.add("\t\toifname @tunnels ip saddr @masquerade4 masquerade");
        t.add("\t\toifname @tunnels ip6 saddr @masquerade6 masquerade");
        t.add("\t}");
        t.add("");
        t.add("\t# every refusal of output ends here; probes of leak-test are counted on the way. A TCP");
        t.add("\t# connection gets a reset, delivered to the local sender only, so that the program fails at");
        t.add("\t# once instead of retrying its SYN for minutes; everything else is dropped (UDP and ICMP");
        t.add("\t# senders get EPERM from the drop at once)");
        t.add("\tchain refuse {");
        t.add(String.format("\t\tip dscp 0x%02x counter name \"%s\"", PROBE_DSCP, PROBE_COUNTER));
        t.add(String.format("\t\tip6 dscp 0x%02x counter name \"%s\"", PROBE_DSCP, PROBE_COUNTER));
        OutputRule.REFUSE_CHAIN.forEach(rule -> t.add("\t\t" + rule.nft()));
        t.add("\t}");
        t.add("}");
    }

    /** The link-level gate's table: its sets, its counter, the gate chain ({@link GateRule}) and one hook per link. */
    private static void gateTable(List<String> t, Target target, Gate gate) {
        t.add("table " + target.gateName + " {");
        if (target == Target.GUARD) t.add("\tflags owner");
        t.add("\tset tunnels { type ifname; flags interval; }");
        t.add("\tset endpoints4 { type ipv4_addr . inet_proto . inet_service; }");
        t.add("\tset endpoints6 { type ipv6_addr . inet_proto . inet_service; }");
        t.add("\tset lan4 { type ipv4_addr; flags interval; }");
        t.add("\tset lan6 { type ipv6_addr; flags interval; }");
        t.add("\tset inbound_tcp { type inet_service; }");
        t.add("\t# a pause holds the ethertypes ip and ip6 with a timeout: the kernel ends it, no process needed");
        t.add("\tset paused { type ether_type; flags timeout; }");
        t.add("\tcounter " + GateRule.COUNTER + " { }");
        t.add("");
        t.add("\t# every gated link's egress chain jumps here: frames of the IP stack, of raw sockets, of macvlan");
        t.add("\t# children and of bridged guests alike");
        t.add("\tchain gate {");
        for (GateRule rule : GateRule.values()) {
            rule.comment().forEach(line -> t.add("\t\t# " + line));
            t.add("\t\t" + rule.rule().nft());
        }
        t.add("\t}");
        for (String link : gate.links()) {
            t.add("");
            hookChain(t, target, gate, link);
        }
        t.add("}");
    }

    /**
     * A link's egress chain: its policy drops what an emptied chain would let through. A link the policy's tunnels
     * name ({@link Gate#granted}: an Ethernet-kind stand-in named by tunnel.interfaces or granted with 'up') passes
     * while it is granted; no other link's frames pay that test.
     */
    private static void hookChain(List<String> t, Target target, Gate gate, String link) {
        t.add("\tchain " + hookChain(link) + " {");
        t.add("\t\ttype filter hook egress device \"" + link + "\" priority " + target.priority + "; policy drop;");
        if (gate.granted().contains(link)) t.add("\t\t" + GateRule.grantedTunnel().nft());
        t.add("\t\tjump gate");
        t.add("\t}");
    }
}
