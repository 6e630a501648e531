package dev.killswitch.policy;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Network;
import dev.killswitch.config.Protocol;
import java.util.List;
import java.util.Set;

/**
 * Which rule of the output chain decides a packet, judged from the policy alone: the chain's own rules in the
 * chain's own order ({@link OutputRule}, which {@code NftScript} renders), each set's contents taken from the
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

    /**
     * The first rule of the output chain, in the chain's order ({@link OutputRule#values()}), that decides
     * {@code packet}; a packet with no output interface is not routed at all.
     */
    public static Verdict decide(Policy policy, Packet packet) {
        if (packet.outputInterface() == null) {
            return new Verdict(null, Outcome.NOT_ROUTED, "no route to " + packet.destination().text()
                    + ": the kernel refuses to send it before any firewall rule sees it", List.of());
        }
        Judge judge = new Judge(policy, packet);
        for (OutputRule rule : OutputRule.values()) {
            Verdict v = judge.verdict(rule);
            if (v != null) return v;
        }
        throw new IllegalStateException("the output chain ends in " + OutputRule.REFUSED + ", which decides every packet");
    }

    /** One packet against one policy: {@link #verdict} says what one rule of the chain does with it. */
    private static final class Judge {
        private final Policy policy;
        private final Packet packet;
        private final IpAddress to;
        private final String out;
        private final Protocol proto;
        private final Integer port;
        /** The granted tunnel pattern the output interface matches, or null. */
        private final String tunnel;
        private final boolean dns;

        Judge(Policy policy, Packet packet) {
            this.policy = policy;
            this.packet = packet;
            this.to = packet.destination();
            this.out = packet.outputInterface();
            this.proto = packet.protocol();
            this.port = packet.port();
            this.tunnel = matchingPattern(out, policy.tunnels());
            this.dns = proto != null && DNS_PORTS.contains(port);
        }

        /** What {@code rule} does with the packet, or null when the rule does not match it. */
        Verdict verdict(OutputRule rule) {
            Integer from = packet.sourcePort();
            return switch (rule) {
                case LOOPBACK -> out.equals("lo") ? allow(rule, "loopback (oifname \"lo\")") : null;
                case PAUSE -> policy.pause() == null ? null : allow(rule, "the block is paused ("
                        + policy.pause().toSeconds() + " s left; 'killswitch resume' ends it)");
                case ENDPOINTS4, ENDPOINTS6 -> to.v6() == (rule == OutputRule.ENDPOINTS6) && isEndpoint()
                        ? allow(rule, "endpoint " + to.text() + " " + proto.nftName() + "/" + port) : null;
                case DNS4, DNS6 -> to.v6() == (rule == OutputRule.DNS6) && dns && tunnel != null && policy.dns().contains(to)
                        ? allow(rule, "DNS to the tunnels' resolver " + to.text() + " through " + describeTunnel(out, tunnel))
                        : null;
                case DNS_REFUSED -> dns ? refuse(rule, proto, "DNS only to the tunnels' resolvers (counter dropped_dns)",
                        dnsHints(policy, to, out, tunnel)) : null;
                case TUNNELS -> tunnel != null ? allow(rule, "through " + describeTunnel(out, tunnel)) : null;
                case DOWNSTREAM -> {
                    String downstream = matchingPattern(out, policy.downstream().interfaces());
                    yield downstream == null ? null : allow(rule, "to " + out
                            + ", behind this machine (gateway LAN side or guests' bridge"
                            + (downstream.equals(out) ? "" : " \"" + downstream + "\"") + ")");
                }
                case DHCP4 -> proto == Protocol.UDP && from != null && !to.v6() && from == 68 && port == 67
                        && to.equals(BROADCAST) ? allow(rule, "DHCP client traffic (udp 68 to 255.255.255.255 port 67)") : null;
                case DHCP6 -> proto == Protocol.UDP && from != null && to.v6() && from == 546 && port == 547
                        && to.equals(DHCPV6_SERVERS) ? allow(rule, "DHCPv6 client traffic (udp 546 to ff02::1:2 port 547)") : null;
                // ICMPv6 router and neighbour solicitations and adverts only, which a Packet (udp, tcp or a ping) never is
                case NEIGHBOUR_DISCOVERY -> null;
                case INBOUND_REPLIES -> proto == Protocol.TCP && from != null && policy.inboundTcp().contains(from)
                        ? allow(rule, "replies of inbound connections to tcp/" + from
                                + " (only on a connection that came in: ct direction reply, ct state established)")
                        : null;
                case LAN4, LAN6 -> {
                    if (to.v6() != (rule == OutputRule.LAN6)) yield null;
                    Network lan = policy.lan().stream().filter(n -> Addresses.contains(n, to)).findFirst().orElse(null);
                    yield lan == null ? null : allow(rule, "the LAN " + lan + " (allow-lan on)");
                }
                case REFUSED -> refuse(rule, proto, "nothing allows it (counter dropped_out)", refusalHints(policy, packet));
            };
        }

        private boolean isEndpoint() {
            if (proto == null) return false;
            for (Endpoint e : policy.endpoints()) {
                if (e.address().equals(to) && e.protocol() == proto && e.port() == port) return true;
            }
            return false;
        }
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
