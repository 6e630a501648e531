package dev.killswitch.routing;

import dev.killswitch.config.Validate;
import dev.killswitch.policy.Explain;
import dev.killswitch.policy.Gate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Which links the link-level gate hooks, and why each other link is left to others: pure, from the kernel's
 * links ({@code ip -d -j link show}) and the config's names. A frame leaves the machine through a link that is
 * not a tunnel, a loopback, or an upper device whose frames go out through a lower one (a bridge's ports, a
 * bond's slaves, a macvlan's or vlan's lower link): those are gated, whatever kind the kernel says they are —
 * a kind the gate does not know is treated as physical. Not gated: what the config puts behind this machine
 * ({@code [gateway]}/{@code [guests]} interfaces and the ports of those bridges) and {@code link_gate.exclude}.
 */
public final class LinkGate {
    private LinkGate() {}

    /** Kinds whose frames never reach a wire in the clear: the IP stack's tables judge what enters them. */
    private static final Set<String> TUNNEL_KINDS = Set.of("wireguard", "ipip", "sit", "gre", "ip6tnl", "ip6gre",
            "vti", "vti6", "xfrm", "ipoib");
    /** Kinds that hand their frames to a lower link or to ports, which are gated themselves (or make none). */
    private static final Set<String> UPPER_KINDS = Set.of("bridge", "bond", "team", "vrf", "macvlan", "macvtap",
            "ipvlan", "ipvtap", "vlan", "macsec", "dummy", "ifb", "nlmon");

    /** How the gate treats a link. */
    public enum Treatment {
        GATED("gated"), LOOPBACK("loopback"), TUNNEL("a tunnel: the inet table judges what enters it"),
        THROUGH_LOWER("its frames leave through another link, which is gated"),
        DOWNSTREAM("behind this machine ([gateway]/[guests]): the inet table judges what goes there"),
        EXCLUDED("excluded by link_gate.exclude: frames written below IP pass it unjudged"),
        REFUSED_NAME("not gated: its name cannot be written into a rule");

        private final String words;

        Treatment(String words) {
            this.words = words;
        }

        public String words() {
            return words;
        }
    }

    /**
     * One link's treatment.
     *
     * @param name the link's name as the kernel gave it (shown through {@link Validate#printable})
     * @param kind the driver's kind, "" for a real NIC
     * @param treatment whether and why (not) gated
     * @param detail what the treatment rests on ("macvlan of eth0", "port of br0", the name's problem), or ""
     * @param granted a name or pattern of the policy's tunnels matches it: as a tunnel it passes its own gate
     * @param bridge the bridge it is a port of, or ""
     */
    public record Decision(String name, String kind, Treatment treatment, String detail, boolean granted, String bridge) {
        public boolean gated() {
            return treatment == Treatment.GATED;
        }

        /** "gated", "gated (port of br0)", "not gated: a tunnel: ...". */
        public String describe() {
            String base = gated() ? "gated" : treatment == Treatment.REFUSED_NAME ? treatment.words() : "not gated: " + treatment.words();
            return base + (detail.isEmpty() ? "" : " (" + detail + ")");
        }
    }

    /** Every link's decision, in the kernel's order. */
    public record Report(List<Decision> decisions) {
        public Report {
            decisions = List.copyOf(decisions);
        }

        /** The hooks to render. */
        public Gate gate() {
            List<String> gated = decisions.stream().filter(Decision::gated).map(Decision::name).toList();
            List<String> granted = decisions.stream().filter(d -> d.gated() && d.granted()).map(Decision::name).toList();
            List<String> bridges = decisions.stream().filter(d -> d.gated() && !d.bridge().isEmpty()).map(Decision::bridge).toList();
            return new Gate(gated, granted, bridges);
        }

        /** Links whose names were refused: not gated, and {@code status} fails for them. */
        public List<Decision> refused() {
            return decisions.stream().filter(d -> d.treatment() == Treatment.REFUSED_NAME).toList();
        }
    }

    /**
     * @param links the kernel's links
     * @param tunnels the policy's tunnels: {@code tunnel.interfaces} and the links granted now ({@link
     *                dev.killswitch.policy.Policy#tunnels})
     * @param downstreamPatterns {@code gateway.interfaces} and {@code guests.interfaces}
     * @param excluded {@code link_gate.exclude}
     */
    public static Report classify(List<Link> links, Collection<String> tunnels, List<String> downstreamPatterns,
            List<String> excluded) {
        Map<String, Link> byName = links.stream().collect(Collectors.toMap(Link::name, Function.identity(), (a, b) -> a));
        Set<String> tunnelNames = new LinkedHashSet<>(tunnels);
        Set<String> downstream = new LinkedHashSet<>(downstreamPatterns);
        Set<String> exclude = new LinkedHashSet<>(excluded);
        List<Decision> out = new ArrayList<>();
        for (Link l : links) {
            boolean granted = Explain.matchingPattern(l.name(), tunnelNames) != null;
            String problem = Validate.interfaceNameProblem(l.name());
            Link master = byName.get(l.master());
            String detail = master == null ? "" : switch (master.kind()) {
                case "bridge" -> "port of " + l.master();
                case "bond", "team" -> "slave of " + l.master();
                default -> "in " + l.master();
            };
            Treatment t;
            if (problem != null) {
                t = Treatment.REFUSED_NAME;
                detail = problem;
            } else if (l.linkType().equals("loopback")) {
                t = Treatment.LOOPBACK;
            } else if (Explain.matchingPattern(l.name(), exclude) != null) {
                t = Treatment.EXCLUDED;
            } else if (Explain.matchingPattern(l.name(), downstream) != null) {
                t = Treatment.DOWNSTREAM;
            } else if (!l.master().isEmpty() && Explain.matchingPattern(l.master(), downstream) != null) {
                t = Treatment.DOWNSTREAM;
            } else if (TUNNEL_KINDS.contains(l.kind()) || (l.kind().equals("tun") && !l.tunType().equals("tap"))
                    || l.linkType().equals("none") || l.linkType().equals("ppp")) {
                t = Treatment.TUNNEL;
                detail = l.vpnKind();
            } else if (UPPER_KINDS.contains(l.kind())) {
                t = Treatment.THROUGH_LOWER;
                detail = l.kind() + (l.lower().isEmpty() ? "" : " of " + l.lower());
            } else {
                t = Treatment.GATED;
            }
            String bridge = master != null && master.kind().equals("bridge") && Validate.interfaceNameProblem(master.name()) == null
                    ? master.name() : "";
            out.add(new Decision(Validate.printable(l.name()), l.kind(), t, detail, granted && t == Treatment.GATED, bridge));
        }
        return new Report(out);
    }
}
