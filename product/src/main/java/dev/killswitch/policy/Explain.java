package dev.killswitch.policy;

import java.util.List;
import java.util.Set;

/**
 * Which rule of the output chain decides a packet, judged from the policy alone: the rules {@code NftScript}
 * renders, walked in their order ({@link OutputRule}), each set's contents taken from the {@link Policy}. Pure:
 * no kernel, no routes; the caller says which interface the route chooses.
 */
public final class Explain {
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
     * The first rule of the output chain ({@link OutputRule}, in its order) that decides {@code packet}, and for a
     * refusal what the refuse chain then does with it.
     */
    public static Verdict decide(Policy policy, Packet packet) {
        if (packet.outputInterface() == null) {
            return new Verdict(null, Outcome.NOT_ROUTED, "no route to " + packet.destination().text()
                    + ": the kernel refuses to send it before any firewall rule sees it", List.of());
        }
        OutputRule rule = first(List.of(OutputRule.values()), r -> r.rule().test(policy, packet));
        return new Verdict(rule, outcome(rule.rule().action(), policy, packet), rule.reason(policy, packet),
                rule.hints(policy, packet));
    }

    /**
     * The link-level gate's decision on a packet or frame leaving by {@code link}.
     *
     * @param link the link it leaves by
     * @param gated whether the gate hooks that link ({@link Policy#gate()}); if not, nothing below IP judges it
     * @param rule the deciding rule's key ({@link GateRule#key()}, "tunnel" for a granted tunnel's own pass), or null
     * @param outcome allowed or dropped (the gate sends no resets)
     * @param reason in the words the ruleset uses
     */
    public record LinkVerdict(String link, boolean gated, String rule, Outcome outcome, String reason) {
        public boolean allowed() {
            return outcome == Outcome.ALLOWED;
        }

        /** "the link-level gate on eth0 lets it out: endpoint 203.0.113.5 udp/51820". */
        public String summary() {
            if (!gated) return "no link-level gate on " + link + ": " + reason;
            return "the link-level gate on " + link + (allowed() ? " lets it out: " : " drops it: ") + reason;
        }
    }

    /**
     * The gate's chain ({@link GateRule}, in order) judging {@code packet} as it leaves by its output interface: for a
     * packet of the host's IP stack after the output chain let it out, or for a frame written below IP (a raw socket,
     * a macvlan child, a bridged guest), which only the gate sees. Null when nothing routes the packet.
     */
    public static LinkVerdict decideAtLink(Policy policy, Packet packet) {
        String link = packet.outputInterface();
        if (link == null) return null;
        Gate gate = policy.gate();
        if (!gate.links().contains(link)) {
            return new LinkVerdict(link, false, null, Outcome.ALLOWED, "it is not gated (see 'killswitch status' for why)");
        }
        if (gate.granted().contains(link) && GateRule.grantedTunnel().test(policy, packet)) {
            return new LinkVerdict(link, true, "tunnel", Outcome.ALLOWED, "a granted tunnel passes its own gate");
        }
        GateRule rule = first(List.of(GateRule.values()), r -> r.rule().test(policy, packet));
        Outcome outcome = rule.rule().action() == Rule.Action.ACCEPT ? Outcome.ALLOWED : Outcome.DROPPED;
        String reason = switch (rule) {
            case REFUSED -> "nothing lets it out of a physical link (counter " + GateRule.COUNTER + ")";
            case DNS_REFUSED -> "DNS never leaves by a physical link (counter " + GateRule.COUNTER + ")";
            default -> rule.mirrors() != null ? rule.mirrors().reason(policy, packet) : rule.key();
        };
        return new LinkVerdict(link, true, rule.key(), outcome, reason);
    }

    private static Outcome outcome(Rule.Action action, Policy policy, Packet packet) {
        return switch (action) {
            case ACCEPT -> Outcome.ALLOWED;
            case RESET -> Outcome.RESET;
            case DROP -> Outcome.DROPPED;
            case REFUSE -> outcome(first(OutputRule.REFUSE_CHAIN, r -> r.test(policy, packet)).action(), policy, packet);
        };
    }

    /** The first of {@code chain} that matches; every chain ends in a rule that matches every packet. */
    private static <T> T first(List<T> chain, java.util.function.Predicate<T> matches) {
        return chain.stream().filter(matches).findFirst()
                .orElseThrow(() -> new IllegalStateException("no rule of the chain decides the packet"));
    }

    /** The pattern of {@code tunnels} that {@code iface} matches ("wg0", or "tun*" for tun3), or null. */
    public static String matchingPattern(String iface, Set<String> tunnels) {
        for (String p : tunnels) {
            if (p.endsWith("*") ? iface.startsWith(p.substring(0, p.length() - 1)) : iface.equals(p)) return p;
        }
        return null;
    }
}
