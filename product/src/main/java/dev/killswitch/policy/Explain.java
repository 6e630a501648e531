package dev.killswitch.policy;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Network;
import dev.killswitch.config.Protocol;
import java.util.List;
import java.util.Set;

/**
 * Which rule of the output chain decides a packet, judged from the policy alone: the same rules in the same
 * order as {@code NftScript} renders them (see {@link OutputRule}), each set's contents taken from the
 * {@link Policy}. Pure: no kernel, no routes; the caller says which interface the route chooses.
 */
public final class Explain {
    private static final Set<Integer> DNS_PORTS = Set.of(53, 853);
    private static final IpAddress BROADCAST = IpAddress.parse("255.255.255.255");
    private static final IpAddress DHCPV6_SERVERS = IpAddress.parse("ff02::1:2");

    private Explain() {}

    /** What happens to a packet leaving on the output chain. */
    public enum Outcome {
        /** An allowance of the output chain lets it out. */
        ALLOWED,
        /** It is counted and dropped (a UDP or other sender gets EPERM). */
        DROPPED,
        /** It is counted and answered with a TCP reset to the local sender. */
        RESET,
        /** No route: the kernel does not send it, and no firewall rule sees it. */
        NOT_ROUTED;

        public String word() {
            return switch (this) {
                case ALLOWED -> "allowed";
                case DROPPED -> "dropped";
                case RESET -> "refused with a TCP reset";
                case NOT_ROUTED -> "not sent";
            };
        }
    }

    /**
     * The decision.
     *
     * @param rule the rule that decides; null when nothing routes the packet
     * @param outcome what that rule does with it
     * @param reason the rule in the words the ruleset uses ("endpoint 203.0.113.9 udp/51820")
     * @param hints what would change the answer (e.g. "wg0 is granted; eth0 is not"); may be empty
     */
    public record Verdict(OutputRule rule, Outcome outcome, String reason, List<String> hints) {
        public Verdict {
            hints = List.copyOf(hints);
        }

        public boolean allowed() {
            return outcome == Outcome.ALLOWED;
        }

        /** The counter of our table that counts it, or null (allowances count nothing). */
        public String counter() {
            return rule == null ? null : rule.counter();
        }

        /** One line: "allowed: endpoint 203.0.113.9 udp/51820", "refused: nothing allows it (counter dropped_out)". */
        public String summary() {
            if (rule == OutputRule.REFUSED) {
                return "refused: " + reason + (outcome == Outcome.RESET ? "; TCP gets a reset" : "");
            }
            return outcome.word() + ": " + reason;
        }
    }

    public static Verdict decide(Policy policy, Packet packet) {
        IpAddress to = packet.destination();
        String out = packet.outputInterface();
        if (out == null) {
            return new Verdict(null, Outcome.NOT_ROUTED, "no route to " + to.text()
                    + ": the kernel refuses to send it before any firewall rule sees it", List.of());
        }
        Protocol proto = packet.protocol();
        Integer port = packet.port();

        if (out.equals("lo")) return allow(OutputRule.LOOPBACK, "loopback (oifname \"lo\")");
        if (policy.pause() != null) {
            return allow(OutputRule.PAUSE, "the block is paused (" + policy.pause().toSeconds() + " s left; 'killswitch resume' ends it)");
        }
        if (proto != null) {
            for (Endpoint e : policy.endpoints()) {
                if (e.address().equals(to) && e.protocol() == proto && e.port() == port) {
                    return allow(to.v6() ? OutputRule.ENDPOINTS6 : OutputRule.ENDPOINTS4,
                            "endpoint " + to.text() + " " + proto.nftName() + "/" + port);
                }
            }
        }
        String tunnel = matchingPattern(out, policy.tunnels());
        boolean dns = proto != null && DNS_PORTS.contains(port);
        if (dns && tunnel != null && policy.dns().contains(to)) {
            return allow(to.v6() ? OutputRule.DNS6 : OutputRule.DNS4,
                    "DNS to the tunnels' resolver " + to.text() + " through " + describeTunnel(out, tunnel));
        }
        if (dns) {
            return refuse(OutputRule.DNS_REFUSED, proto, "DNS only to the tunnels' resolvers (counter dropped_dns)",
                    dnsHints(policy, to, out, tunnel));
        }
        if (tunnel != null) return allow(OutputRule.TUNNELS, "through " + describeTunnel(out, tunnel));
        String downstream = matchingPattern(out, policy.downstream().interfaces());
        if (downstream != null) {
            return allow(OutputRule.DOWNSTREAM, "to " + out + ", behind this machine (gateway LAN side or guests' bridge"
                    + (downstream.equals(out) ? "" : " \"" + downstream + "\"") + ")");
        }
        Integer from = packet.sourcePort();
        if (proto == Protocol.UDP && from != null) {
            if (!to.v6() && from == 68 && port == 67 && to.equals(BROADCAST)) {
                return allow(OutputRule.DHCP4, "DHCP client traffic (udp 68 to 255.255.255.255 port 67)");
            }
            if (to.v6() && from == 546 && port == 547 && to.equals(DHCPV6_SERVERS)) {
                return allow(OutputRule.DHCP6, "DHCPv6 client traffic (udp 546 to ff02::1:2 port 547)");
            }
        }
        // NEIGHBOUR_DISCOVERY matches ICMPv6 router and neighbour solicitations and adverts only, which a
        // Packet (udp, tcp or a ping) never is.
        if (proto == Protocol.TCP && from != null && policy.inboundTcp().contains(from)) {
            return allow(OutputRule.INBOUND_REPLIES, "replies of inbound connections to tcp/" + from
                    + " (only on a connection that came in: ct direction reply, ct state established)");
        }
        for (Network n : policy.lan()) {
            if (Addresses.contains(n, to)) {
                return allow(to.v6() ? OutputRule.LAN6 : OutputRule.LAN4, "the LAN " + n + " (allow-lan on)");
            }
        }
        return refuse(OutputRule.REFUSED, proto, "nothing allows it (counter dropped_out)", refusalHints(policy, packet));
    }

    /** The pattern of {@code tunnels} that {@code iface} matches ("wg0", or "tun*" for tun3), or null. */
    public static String matchingPattern(String iface, Set<String> tunnels) {
        for (String p : tunnels) {
            if (p.endsWith("*") ? iface.startsWith(p.substring(0, p.length() - 1)) : iface.equals(p)) return p;
        }
        return null;
    }

    private static String describeTunnel(String iface, String pattern) {
        return "tunnel " + iface + (pattern.equals(iface) ? "" : " (granted as \"" + pattern + "\")");
    }

    private static Verdict allow(OutputRule rule, String reason) {
        return new Verdict(rule, Outcome.ALLOWED, reason, List.of());
    }

    private static Verdict refuse(OutputRule rule, Protocol proto, String reason, List<String> hints) {
        return new Verdict(rule, proto == Protocol.TCP ? Outcome.RESET : Outcome.DROPPED, reason, hints);
    }

    private static List<String> dnsHints(Policy policy, IpAddress to, String out, String tunnel) {
        if (policy.dns().isEmpty()) {
            return List.of("no resolver is allowed: none configured (dns.servers) and no granted tunnel brought any");
        }
        if (!policy.dns().contains(to)) {
            return List.of(to.text() + " is not one of the tunnels' resolvers " + texts(policy.dns()));
        }
        return List.of(to.text() + " is a tunnels' resolver, but the route sends it through " + out
                + ", which is not a granted tunnel" + granted(policy));
    }

    private static List<String> refusalHints(Policy policy, Packet packet) {
        List<String> hints = new java.util.ArrayList<>();
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
